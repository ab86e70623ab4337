// The LibTorch zoo against the shape-only zoo (two independent descriptions of
// the same architectures) and against published parameter counts.
#include "graph/zoo.h"

#include <gtest/gtest.h>

#include "hw/zoo.h"

namespace haq::graph {
namespace {

void ExpectSameLayers(const std::vector<hw::LayerShape>& a, const std::vector<hw::LayerShape>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i) + " " + a[i].name);
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].Summary(), b[i].Summary());
    EXPECT_EQ(a[i].out_h, b[i].out_h);
    EXPECT_EQ(a[i].out_w, b[i].out_w);
    EXPECT_EQ(a[i].groups, b[i].groups);
    EXPECT_EQ(a[i].is_first, b[i].is_first);
  }
}

class ZooGraphTest : public testing::TestWithParam<std::string> {};

TEST_P(ZooGraphTest, LayersEqualTheShapeOnlyZoo) {
  const Network net = BuildZooModel(GetParam());
  hw::ZooInput in;
  in.batch = 4;
  ExpectSameLayers(net.LayerShapes(4), hw::ZooLayerShapes(GetParam(), in));
}

TEST_P(ZooGraphTest, ForwardGivesLogitsPerClass) {
  ZooOptions o;
  o.height = o.width = 64;  // any input size works
  const Network net = BuildZooModel(GetParam(), o);
  torch::NoGradGuard no_grad;
  const auto y = net.Forward(torch::randn({2, 3, 64, 64}), false);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 1000}));
}

INSTANTIATE_TEST_SUITE_P(ImageNet, ZooGraphTest,
                         testing::Values("mobilenet_v1", "mobilenet_v2", "resnet18", "resnet50"));

int64_t CountParameters(const Network& net) {
  int64_t n = 0;
  for (const auto& t : net.Parameters()) n += t.numel();
  return n;
}

TEST(ZooGraphCounts, ParameterCountsMatchTorchvision) {
  // torchvision's documented parameter counts (weights, biases and BN affine).
  EXPECT_EQ(CountParameters(BuildZooModel("resnet18")), 11689512);
  EXPECT_EQ(CountParameters(BuildZooModel("resnet50")), 25557032);
  EXPECT_EQ(CountParameters(BuildZooModel("mobilenet_v2")), 3504872);
}

TEST(ZooGraphCounts, CompactModelsForFashionMnist) {
  const Network mb = BuildZooModel("mobilenet_v2_fmnist");
  EXPECT_EQ(mb.input_spec().chw, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(mb.quant_layers().size(), 29u);
  const Network rn = BuildZooModel("resnet20_fmnist");
  EXPECT_EQ(rn.quant_layers().size(), 22u);  // 19 convs + 2 projections + fc
  torch::NoGradGuard no_grad;
  EXPECT_EQ(rn.Forward(torch::randn({3, 1, 28, 28}), false).sizes(),
            (std::vector<int64_t>{3, 10}));
}

TEST(ZooGraphCounts, EpisodeBenchmarkNetworkMatchesItsPublishedCounts) {
  // The episode benchmark's figures (shared reference episode-benchmark.md).
  const Network net = BuildZooModel("mobilenet_v2_cifar");
  EXPECT_EQ(net.input_spec().chw, (std::vector<int64_t>{3, 32, 32}));
  EXPECT_EQ(net.quant_layers().size(), 53u);
  // 2,236,788 counts HAQ's quantized modules, which register two one-element range
  // parameters (weight and activation) per quantizable layer: 2 x 53 = 106 more.
  EXPECT_EQ(CountParameters(net), 2236788 - 2 * 53);
  int64_t macs = 0;
  for (const auto& l : net.LayerShapes(1)) macs += l.MacsPerImage();
  EXPECT_EQ(macs, 24461312);
}

TEST(ZooGraphCounts, SameSeedSameWeights) {
  ZooOptions a;
  a.seed = 7;
  const auto w1 = BuildZooModel("resnet20_fmnist", a).Parameters();
  const auto w2 = BuildZooModel("resnet20_fmnist", a).Parameters();
  a.seed = 8;
  const auto w3 = BuildZooModel("resnet20_fmnist", a).Parameters();
  ASSERT_EQ(w1.size(), w2.size());
  EXPECT_TRUE(torch::equal(w1[0], w2[0]));
  EXPECT_FALSE(torch::equal(w1[0], w3[0]));
}

}  // namespace
}  // namespace haq::graph

namespace haq::graph {
namespace {

TEST(ModulePathTest, RecoversTorchModulePathsFromOnnxScopes) {
  EXPECT_EQ(ModulePathFromScope("/features/features.0/features.0.0/Conv"), "features.0.0");
  EXPECT_EQ(ModulePathFromScope("/features/features.2/conv/conv.0/conv.0.0/Conv"),
            "features.2.conv.0.0");
  EXPECT_EQ(ModulePathFromScope("/features/features.2/conv/conv.2/Conv"), "features.2.conv.2");
  EXPECT_EQ(ModulePathFromScope("/layer1/layer1.0/conv1/Conv"), "layer1.0.conv1");
  EXPECT_EQ(ModulePathFromScope("/layer2/layer2.0/downsample/downsample.0/Conv"),
            "layer2.0.downsample.0");
  EXPECT_EQ(ModulePathFromScope("/conv1/Conv_3"), "conv1");
  EXPECT_EQ(ModulePathFromScope("/fc/Gemm"), "fc");
  EXPECT_EQ(ModulePathFromScope("Conv_0"), "");
  EXPECT_EQ(ModulePathFromScope("/Conv"), "");
}

}  // namespace
}  // namespace haq::graph
