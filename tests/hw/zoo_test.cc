// Zoo layer shapes against published architecture facts: layer counts, MAC and
// weight counts as the papers / torchvision report them.
#include "hw/zoo.h"

#include <gtest/gtest.h>

#include <cmath>

#include "util/error.h"

namespace haq::hw {
namespace {

struct Totals {
  size_t layers = 0;
  int64_t macs = 0;
  int64_t weights = 0;
};

Totals Sum(const std::string& name, ZooInput in = {}) {
  Totals t;
  for (const auto& l : ZooLayerShapes(name, in)) {
    ++t.layers;
    t.macs += l.MacsPerImage();
    t.weights += l.WeightCount();
  }
  return t;
}

TEST(ZooTest, MobileNetV2MatchesHaqLayout) {
  const auto layers = ZooLayerShapes("mobilenet_v2", ZooInput{});
  ASSERT_EQ(layers.size(), 53u);
  EXPECT_EQ(layers[0].Summary(), "3x3 s2 3->32 224x224");
  EXPECT_TRUE(layers[0].is_first);
  EXPECT_EQ(layers[1].kind, LayerKind::kDepthwise);
  EXPECT_EQ(layers[2].Summary(), "1x1 s1 32->16 112x112");
  EXPECT_EQ(layers[51].Summary(), "1x1 s1 320->1280 7x7");
  EXPECT_EQ(layers[52].kind, LayerKind::kFc);
  EXPECT_EQ(layers[52].in_channels, 1280);
  // Paper (Sandler et al. 2018): 300M multiply-adds, 3.4M parameters.
  const Totals t = Sum("mobilenet_v2");
  EXPECT_EQ(std::lround(t.macs / 1e6), 301);  // 300.8M including the classifier
  EXPECT_EQ(std::lround(t.weights / 1e5), 35);  // 3.47M weights (BN and bias excluded)
}

TEST(ZooTest, MobileNetV1MatchesPaper) {
  // Howard et al. 2017, Table 1: 28 layers (27 conv + fc); 569M mult-adds, 4.2M params.
  const Totals t = Sum("mobilenet_v1");
  EXPECT_EQ(t.layers, 28u);
  EXPECT_EQ(std::lround(t.macs / 1e6), 569);
  EXPECT_EQ(std::lround(t.weights / 1e5), 42);
}

TEST(ZooTest, ResNetsMatchTorchvision) {
  // torchvision: resnet18 1.81 GFLOPS (MACs), 11.69M params; resnet50 4.09, 25.56M.
  const Totals r18 = Sum("resnet18");
  EXPECT_EQ(r18.layers, 21u);  // 17 convs + 3 downsamples + fc
  EXPECT_EQ(std::lround(r18.macs / 1e7), 181);
  EXPECT_EQ(std::lround(r18.weights / 1e5), 117);  // 11.68M without BN and biases
  const Totals r50 = Sum("resnet50");
  EXPECT_EQ(r50.layers, 54u);  // 49 convs + 4 downsamples + fc
  EXPECT_EQ(std::lround(r50.macs / 1e7), 409);
  EXPECT_EQ(std::lround(r50.weights / 1e5), 255);
}

TEST(ZooTest, AnyInputSizeAndBatch) {
  ZooInput in;
  in.height = 32;
  in.width = 48;
  in.batch = 7;
  const auto layers = ZooLayerShapes("resnet50", in);
  EXPECT_EQ(layers.front().out_h, 16);
  EXPECT_EQ(layers.front().out_w, 24);
  EXPECT_EQ(layers[layers.size() - 2].out_h, 1);  // last conv after five halvings
  EXPECT_EQ(layers[layers.size() - 2].out_w, 2);
  for (const auto& l : layers) EXPECT_EQ(l.batch, 7);
}

TEST(ZooTest, UnknownModelSuggests) {
  try {
    ZooLayerShapes("mobilenetv2", ZooInput{});
    FAIL() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown model 'mobilenetv2' (did you mean 'mobilenet_v2'?); known models: "
                 "mobilenet_v1, mobilenet_v2, resnet18, resnet50");
  }
}

}  // namespace
}  // namespace haq::hw
