// Quantization contexts, fine-tuning and saved quantized models: caches give the
// same values as computing afresh; per-channel quantization equals per-slice
// LinearQuantize; k-means fine-tuning moves each centroid by the mean of its
// members' gradients (Deep Compression's rule, computed independently by
// CentroidGradient); fine-tuning recovers accuracy lost to quantization; a saved
// quantized checkpoint reproduces the in-memory model's logits exactly.
#include <gtest/gtest.h>

#include "data/dataset.h"
#include "quant/context.h"
#include "quant/policy_hook.h"
#include "quant/quantizers.h"
#include "test_util.h"
#include "train/model_io.h"
#include "train/quantized.h"
#include "train/trainer.h"
#include "util/error.h"

namespace haq::quant {
namespace {

data::BatchLoader Loader(const data::Dataset& d, int64_t batch, bool shuffle) {
  data::LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  return data::BatchLoader(d, o);
}

// Seeded held-out training images: the first 2,000 for fine-tuning and
// calibration, the next 2,000 for evaluation.
const data::Dataset& Train() {
  static const data::Dataset d = data::LoadFashionMnist(data::kFashionMnistDir, true);
  return d;
}
data::Dataset Part(int64_t begin, int64_t n) {
  const auto idx = data::SeededSplit(Train().size(), 4000, Train().size() - 4000, 7).first;
  return data::Subset(Train(), idx.slice(0, begin, begin + n));
}

train::LoadedModel Shipped(const std::string& name) {
  train::ModelRequest req;
  req.spec = name;
  return train::LoadModel(req);
}

TEST(QuantPerChannelTest, EqualsLinearQuantizeOfEachSlice) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({5, 3, 4}) * 2;
  for (int64_t axis : {0, 1, 2}) {
    std::vector<double> clips;
    for (int64_t j = 0; j < x.size(axis); ++j) clips.push_back(j == 1 ? 0.0 : 0.3 + 0.4 * j);
    for (int bits = 1; bits <= 8; ++bits) {
      SCOPED_TRACE(::testing::Message() << "axis " << axis << " bits " << bits);
      torch::Tensor xg = x.clone().set_requires_grad(true);
      const torch::Tensor q = LinearQuantizePerChannel(xg, clips, axis, bits);
      q.sum().backward();
      for (int64_t j = 0; j < x.size(axis); ++j) {
        torch::Tensor slice = x.select(axis, j).clone().set_requires_grad(true);
        const torch::Tensor expect = LinearQuantize(slice, clips[static_cast<size_t>(j)], bits, true);
        expect.sum().backward();
        EXPECT_TRUE(torch::equal(q.select(axis, j).detach(), expect.detach())) << "slice " << j;
        EXPECT_TRUE(torch::equal(xg.grad().select(axis, j), slice.grad())) << "slice " << j;
      }
    }
  }
}

TEST(QuantPerChannelTest, RejectsBadArguments) {
  const torch::Tensor x = torch::ones({2, 3});
  auto message = [&](const std::vector<double>& clips, int64_t axis, int bits) {
    try {
      LinearQuantizePerChannel(x, clips, axis, bits);
    } catch (const util::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({1, 1}, 2, 4), "axis: expected 0..1, got 2");
  EXPECT_EQ(message({1, 1, 1}, 0, 4), "clips: expected 2 values (x.size(0)), got 3");
  EXPECT_EQ(message({1, NAN}, 0, 4), "clips: expected finite numbers, got nan");
  EXPECT_EQ(message({1, 1}, 0, 0), "bits: expected an integer in 1..8, got 0");
}

TEST(QuantContextTest, CachedWeightsEqualFreshOnesAndFollowChanges) {
  train::LoadedModel m = Shipped("resnet20_fmnist");
  auto ctx = std::make_shared<QuantContext>(m.net, QuantOptions{});
  const auto layers = m.net.LayerShapes(1);
  PolicyHook a(ctx, m.net, hw::UniformPolicy(layers, 4, 0));
  PolicyHook b(ctx, m.net, hw::UniformPolicy(layers, 4, 0));
  torch::NoGradGuard no_grad;
  const size_t layer = 3;
  const torch::Tensor& w = m.net.Initializer(m.net.quant_layers()[layer].weight_value);
  const torch::Tensor qa = a.Weight(layer, w);
  EXPECT_EQ(ctx->weight_cache_misses(), 1);
  const torch::Tensor qb = b.Weight(layer, w);  // another hook, another policy object
  EXPECT_EQ(ctx->weight_cache_hits(), 1);
  const torch::Tensor fresh = LinearQuantize(w, ChooseClip(w, 4, true, 5), 4, true);
  EXPECT_TRUE(torch::equal(qa, fresh));
  EXPECT_TRUE(torch::equal(qb, fresh));
  // An in-place change of the weight invalidates both caches; the clip stays the
  // one chosen from the trained weight.
  const double clip = ctx->Weights(layer, 4).clips[0];
  w.mul_(0.5);
  const torch::Tensor after = b.Weight(layer, w);
  EXPECT_TRUE(torch::equal(after, LinearQuantize(w, clip, 4, true)));
  EXPECT_FALSE(torch::equal(after, fresh));
}

TEST(QuantContextTest, ActivationStatisticsServeEveryPolicy) {
  train::LoadedModel m = Shipped("resnet20_fmnist");
  const data::Dataset calib = Part(0, 512);
  auto shared = std::make_shared<QuantContext>(m.net, QuantOptions{});
  auto loader = Loader(calib, 256, true);
  shared->CollectActivationStats(loader, 2);
  const auto layers = m.net.LayerShapes(1);
  for (int bits : {3, 6}) {
    // A context calibrated separately for this policy gets the same clips.
    PolicyHook own(m.net, hw::UniformPolicy(layers, bits, bits));
    auto l2 = Loader(calib, 256, true);
    own.Calibrate(l2, 2);
    PolicyHook reuse(shared, m.net, hw::UniformPolicy(layers, bits, bits));
    auto l3 = Loader(calib, 256, true);
    reuse.Calibrate(l3, 2);  // a no-op: statistics already there
    EXPECT_EQ(own.ActivationClips(), reuse.ActivationClips()) << bits << " bits";
    EXPECT_EQ(own.ActivationSigned(), reuse.ActivationSigned());
  }
}

// dLoss/dCentroid after a k-means fine-tuning backward pass equals the mean of the
// gradients of the centroid's members, computed from the straight-through weight
// gradient of an identical forward pass.
TEST(QuantKMeansFineTuneTest, CentroidGradientIsTheMeanOfItsMembers) {
  train::LoadedModel m = Shipped("resnet20_fmnist");
  QuantOptions o;
  o.method = WeightMethod::kKMeans;
  auto ctx = std::make_shared<QuantContext>(m.net, o);
  const hw::Policy p = hw::UniformPolicy(m.net.LayerShapes(1), 2, 0);
  graph::Network tuned = m.net.Clone(), reference = m.net.Clone();
  PolicyHook centroid_hook(ctx, tuned, p), weight_hook(ctx, reference, p);
  const auto centroids = centroid_hook.TrainableCentroids();
  ASSERT_EQ(centroids.size(), p.layers.size());
  auto loader = Loader(Part(0, 64), 64, false);
  data::Batch batch;
  loader.StartEpoch(0);
  ASSERT_TRUE(loader.Next(batch));
  namespace F = torch::nn::functional;
  F::cross_entropy(tuned.Forward(batch.images, true, &centroid_hook), batch.labels).backward();
  F::cross_entropy(reference.Forward(batch.images, true, &weight_hook), batch.labels).backward();
  for (size_t i = 0; i < p.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const torch::Tensor& w = reference.Initializer(reference.quant_layers()[i].weight_value);
    const torch::Tensor expect = CentroidGradient(w.grad(), *ctx->Weights(i, 2).kmeans);
    ASSERT_TRUE(centroids[i].grad().defined());
    EXPECT_TRUE(torch::allclose(centroids[i].grad(), expect, 1e-4, 1e-7))
        << centroids[i].grad() << expect;
    // The tuned network's own layer weights take no part.
    EXPECT_FALSE(tuned.Initializer(tuned.quant_layers()[i].weight_value).grad().defined());
  }
}

struct FineTuneCase {
  WeightMethod method;
  int bits;
};

class QuantFineTuneTest : public testing::TestWithParam<FineTuneCase> {};

// A short fine-tune recovers accuracy lost to aggressive quantization (measured on
// images it did not train on), and its saved checkpoint reproduces it exactly.
TEST_P(QuantFineTuneTest, RecoversAccuracyAndSavesExactly) {
  const FineTuneCase c = GetParam();
  train::LoadedModel m = Shipped("resnet20_fmnist");
  QuantOptions o;
  o.method = c.method;
  auto ctx = std::make_shared<QuantContext>(m.net, o);
  auto calib = Loader(Part(0, 2000), 256, true);
  ctx->CollectActivationStats(calib, 2);
  const hw::Policy p = hw::UniformPolicy(m.net.LayerShapes(1), c.bits,
                                         c.method == WeightMethod::kKMeans ? 0 : c.bits);
  auto eval_loader = Loader(Part(2000, 2000), 500, false);
  train::FineTuneOptions fo;
  train::QuantizedModel before = train::ApplyPolicy(m.net, ctx, p, nullptr, fo);
  const double top1_before = train::Evaluate(*before.net, eval_loader, before.hook.get()).top1;
  fo.steps = 60;
  fo.lr = 0.01;
  auto tune_loader = Loader(Part(0, 2000), 64, true);
  train::QuantizedModel after = train::ApplyPolicy(m.net, ctx, p, &tune_loader, fo);
  EXPECT_EQ(after.finetune.steps, 60);
  const double top1_after = train::Evaluate(*after.net, eval_loader, after.hook.get()).top1;
  EXPECT_GT(top1_after, top1_before + 1.0) << "before " << top1_before << ", after " << top1_after;

  // Saved and reloaded: same logits, and every layer weight on its grid.
  const test::TempDir dir;
  train::SaveCheckpoint(train::QuantizedCheckpoint(after, "resnet20_fmnist"), dir / "q.pt");
  train::ModelRequest req;
  req.spec = (dir / "q.pt").string();
  train::LoadedModel loaded = train::LoadModel(req);
  auto hook = train::HookFromCheckpoint(loaded.net, *loaded.checkpoint, req.spec);
  ASSERT_NE(hook, nullptr);
  torch::NoGradGuard no_grad;
  data::Batch batch;
  eval_loader.StartEpoch(0);
  ASSERT_TRUE(eval_loader.Next(batch));
  EXPECT_TRUE(torch::equal(loaded.net.Forward(batch.images, false, hook.get()),
                           after.net->Forward(batch.images, false, after.hook.get())));
  const int64_t max_values = c.method == WeightMethod::kKMeans ? (1 << c.bits) : (1 << c.bits) - 1;
  for (const auto& l : loaded.net.quant_layers()) {
    EXPECT_LE(std::get<0>(at::_unique(loaded.net.Initializer(l.weight_value))).numel(), max_values)
        << l.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, QuantFineTuneTest,
                         testing::Values(FineTuneCase{WeightMethod::kLinear, 3},
                                         FineTuneCase{WeightMethod::kKMeans, 2}),
                         [](const auto& param_info) {
                           return WeightMethodName(param_info.param.method) + std::to_string(param_info.param.bits);
                         });

TEST(QuantRecordTest, MalformedRecordsNameTheField) {
  train::LoadedModel m = Shipped("resnet20_fmnist");
  auto ctx = std::make_shared<QuantContext>(m.net, QuantOptions{});
  auto calib = Loader(Part(0, 256), 256, true);
  ctx->CollectActivationStats(calib, 1);
  train::QuantizedModel q =
      train::ApplyPolicy(m.net, ctx, hw::UniformPolicy(m.net.LayerShapes(1), 4, 4), nullptr, {});
  const train::Checkpoint good = train::QuantizedCheckpoint(q, "resnet20_fmnist");
  auto message = [&](const std::function<void(nlohmann::json&)>& edit) {
    train::Checkpoint c = good;
    edit(c.meta["quantization"]);
    try {
      train::HookFromCheckpoint(m.net, c, "q.pt");
    } catch (const util::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([](nlohmann::json&) {}), "no error");
  EXPECT_EQ(message([](nlohmann::json& r) { r.erase("method"); }),
            "q.pt: meta.quantization: missing field 'method'");
  EXPECT_EQ(message([](nlohmann::json& r) { r["method"] = "cubic"; }),
            "q.pt: meta.quantization.method: expected 'linear' or 'kmeans', got 'cubic'");
  EXPECT_EQ(message([](nlohmann::json& r) { r["weight_clips"][2] = {"x"}; }),
            "q.pt: meta.quantization.weight_clips[2][0]: expected a number, got string");
  EXPECT_EQ(message([](nlohmann::json& r) { r["activation_signed"].erase(0); }),
            "q.pt: meta.quantization: expected weight_clips, activation_clips and "
            "activation_signed arrays of 22 entries (one per layer)");
  EXPECT_EQ(message([](nlohmann::json& r) { r["policy"]["layers"][0]["w_bits"] = 9; }),
            "q.pt: meta.quantization.policy: layers[0].w_bits: expected an integer in 1..8, got 9");
  EXPECT_EQ(message([](nlohmann::json& r) { r["activation_signed"][0] = 1; }),
            "q.pt: meta.quantization.activation_signed[0]: expected true or false, got number");
  EXPECT_EQ(message([](nlohmann::json& r) { r["activation_clips"].erase(0); }),
            "q.pt: meta.quantization: expected weight_clips, activation_clips and "
            "activation_signed arrays of 22 entries (one per layer)");
}

}  // namespace
}  // namespace haq::quant
