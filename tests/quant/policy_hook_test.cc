// Applying a policy to a network: uniform 8-bit costs the shipped models at most
// 0.3 points of test top-1 without fine-tuning; weights and activations take at
// most the values their bit widths allow; activation signedness follows the data.
#include "quant/policy_hook.h"

#include <gtest/gtest.h>

#include "data/dataset.h"
#include "train/model_io.h"
#include "train/trainer.h"
#include "util/error.h"

namespace haq::quant {
namespace {

data::BatchLoader Loader(const data::Dataset& d, bool shuffle) {
  data::LoaderOptions o;
  o.batch_size = 500;
  o.shuffle = shuffle;
  return data::BatchLoader(d, o);
}

const data::Dataset& TestSet() {
  static const data::Dataset d = data::LoadFashionMnist(data::kFashionMnistDir, false);
  return d;
}

// Held-out training images for calibration (as `haq eval` does).
const data::Dataset& Calibration() {
  static const data::Dataset d = [] {
    const data::Dataset train = data::LoadFashionMnist(data::kFashionMnistDir, true);
    return data::Subset(train, data::SeededSplit(train.size(), 55000, 5000, 0).second);
  }();
  return d;
}

class Uniform8BitTest : public testing::TestWithParam<std::string> {};

TEST_P(Uniform8BitTest, LosesAtMostAThirdOfAPoint) {
  train::ModelRequest req;
  req.spec = GetParam();
  const train::LoadedModel m = train::LoadModel(req);
  auto test_loader = Loader(TestSet(), false);
  const double fp = train::Evaluate(m.net, test_loader).top1;
  PolicyHook hook(m.net, hw::UniformPolicy(m.net.LayerShapes(1), 8, 8));
  auto calib = Loader(Calibration(), true);
  hook.Calibrate(calib, 4);
  const double q8 = train::Evaluate(m.net, test_loader, &hook).top1;
  EXPECT_GE(q8, fp - 0.3) << "full precision " << fp << "%, 8-bit " << q8 << "%";
}

INSTANTIATE_TEST_SUITE_P(Shipped, Uniform8BitTest,
                         testing::Values("resnet20_fmnist", "mobilenet_v2_fmnist"));

// Records what each layer receives after the hook.
class Probe : public graph::LayerHook {
 public:
  explicit Probe(PolicyHook& inner) : inner_(inner) {}
  torch::Tensor Weight(size_t layer, const torch::Tensor& w) override {
    auto q = inner_.Weight(layer, w);
    weights.push_back(q);
    return q;
  }
  torch::Tensor Input(size_t layer, const torch::Tensor& x) override {
    auto q = inner_.Input(layer, x);
    inputs.push_back(q);
    return q;
  }
  std::vector<torch::Tensor> weights, inputs;

 private:
  PolicyHook& inner_;
};

TEST(QuantPolicyHookTest, ValuesRespectTheBitWidths) {
  train::ModelRequest req;
  req.spec = "resnet20_fmnist";
  const train::LoadedModel m = train::LoadModel(req);
  hw::Policy p = hw::UniformPolicy(m.net.LayerShapes(1), 3, 4);
  p.layers[1].w_bits = 2;
  p.layers[1].a_bits = 2;
  PolicyHook hook(m.net, p);
  auto calib = Loader(Calibration(), true);
  hook.Calibrate(calib, 2);
  Probe probe(hook);
  torch::NoGradGuard no_grad;
  auto test_loader = Loader(TestSet(), false);
  data::Batch batch;
  test_loader.StartEpoch(0);
  ASSERT_TRUE(test_loader.Next(batch));
  m.net.Forward(batch.images, false, &probe);
  ASSERT_EQ(probe.weights.size(), p.layers.size());
  for (size_t i = 0; i < p.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const int64_t wb = p.layers[i].w_bits, ab = p.layers[i].a_bits;
    EXPECT_LE(std::get<0>(at::_unique(probe.weights[i])).numel(), (int64_t{1} << wb) - 1);
    EXPECT_LE(std::get<0>(at::_unique(probe.inputs[i])).numel(), int64_t{1} << ab);
  }
  // The network's input (normalised images) is signed; every later layer reads the
  // output of a ReLU.
  EXPECT_TRUE(hook.ActivationSigned()[0]);
  for (size_t i = 1; i < p.layers.size(); ++i) EXPECT_FALSE(hook.ActivationSigned()[i]) << i;
}

// MobileNet-V2's ReLU6s are fused into the input quantizers of the layers they
// feed (PolicyHook::ClampedInput): the logits and every parameter's gradient are
// bit for bit those of the ReLU6 computed first and quantized after, at 8 bits and
// at a mixed policy with unquantized activations in some layers.
TEST(QuantPolicyHookTest, AReluSixFusedIntoTheInputQuantizerChangesNoBit) {
  train::ModelRequest req;
  req.spec = "mobilenet_v2_fmnist";
  const train::LoadedModel m = train::LoadModel(req);
  // The same hook, but leaving ReLU6 to hardtanh before its quantizer.
  struct Unfused : graph::LayerHook {
    explicit Unfused(PolicyHook& h) : inner(h) {}
    torch::Tensor Weight(size_t layer, const torch::Tensor& w) override { return inner.Weight(layer, w); }
    torch::Tensor Input(size_t layer, const torch::Tensor& x) override { return inner.Input(layer, x); }
    PolicyHook& inner;
  };
  hw::Policy mixed = hw::UniformPolicy(m.net.LayerShapes(1), 8, 8);
  for (size_t i = 0; i < mixed.layers.size(); ++i) {
    mixed.layers[i].w_bits = 2 + static_cast<int>(i % 7);
    mixed.layers[i].a_bits = i % 5 == 3 ? 0 : 1 + static_cast<int>(i % 8);
  }
  auto calib = Loader(Calibration(), true);
  data::Batch batch;
  calib.StartEpoch(0);
  ASSERT_TRUE(calib.Next(batch));
  const torch::Tensor images = batch.images.narrow(0, 0, 64);
  for (const hw::Policy& policy : {hw::UniformPolicy(m.net.LayerShapes(1), 8, 8), mixed}) {
    PolicyHook hook(m.net, policy);
    hook.Calibrate(calib, 2);
    Unfused unfused(hook);
    std::vector<torch::Tensor> logits, grads;
    for (graph::LayerHook* h : {static_cast<graph::LayerHook*>(&hook), static_cast<graph::LayerHook*>(&unfused)}) {
      const graph::Network net = m.net.Clone();
      const torch::Tensor y = net.Forward(images, true, h);
      (y * torch::arange(y.numel()).reshape(y.sizes()).to(y.dtype()) / y.numel()).sum().backward();
      logits.push_back(y.detach());
      for (const torch::Tensor& p : net.Parameters()) grads.push_back(p.grad());
    }
    EXPECT_TRUE(torch::equal(logits[0], logits[1]));
    const size_t n = grads.size() / 2;
    ASSERT_GT(n, 0u);
    for (size_t i = 0; i < n; ++i) EXPECT_TRUE(torch::equal(grads[i], grads[n + i])) << "parameter " << i;
  }
}

TEST(QuantPolicyHookTest, QuantizedActivationsNeedCalibration) {
  train::ModelRequest req;
  req.spec = "resnet20_fmnist";
  req.pretrained = false;
  const train::LoadedModel m = train::LoadModel(req);
  PolicyHook hook(m.net, hw::UniformPolicy(m.net.LayerShapes(1), 8, 8));
  torch::NoGradGuard no_grad;
  try {
    m.net.Forward(torch::zeros({1, 1, 28, 28}), false, &hook);
    FAIL() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_STREQ(e.what(),
                 "layer 'conv1': activations are quantized to 8 bits but were never calibrated");
  }
}

TEST(QuantPolicyHookTest, PolicyMustMatchTheNetwork) {
  train::ModelRequest req;
  req.spec = "resnet20_fmnist";
  req.pretrained = false;
  const train::LoadedModel m = train::LoadModel(req);
  hw::Policy p = hw::ParsePolicy("[[8,8],[8,8]]", "p.json");
  try {
    PolicyHook hook(m.net, p);
    FAIL() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_STREQ(e.what(),
                 "p.json: expected 22 layers (one per quantizable layer of resnet20_fmnist), got 2");
  }
}

}  // namespace
}  // namespace haq::quant
