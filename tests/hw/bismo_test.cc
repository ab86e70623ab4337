// BISMO latency model against HAQ's released table (golden), against an
// operation-by-operation simulation (brute force), and against the closed forms
// worked out by hand in the model's reference.
#include "hw/bismo.h"

#include <gtest/gtest.h>

#include <random>

#include "hw/cost_table.h"
#include "hw/spec.h"
#include "hw/zoo.h"
#include "test_util.h"
#include "util/npy.h"

namespace haq::hw {
namespace {

std::vector<LayerShape> MobileNetV2(int64_t batch) {
  ZooInput in;
  in.batch = batch;
  return ZooLayerShapes("mobilenet_v2", in);
}

TEST(BismoTest, CloudReproducesHaqReleasedTableExactly) {
  const util::NpyInt64 golden = util::ReadNpy(test::DataPath("haq_qmobilenetv2_cloud_latency_table.npy"));
  ASSERT_EQ(golden.shape, (std::vector<int64_t>{53, 8, 8}));
  const auto model = MakeCostModel(BuiltinHardware("bismo-cloud"));
  const CostTable table = BuildCostTable(*model, MobileNetV2(16), "mobilenet_v2");
  ASSERT_EQ(table.entries.size(), golden.data.size());
  int mismatches = 0;
  for (size_t i = 0; i < golden.data.size(); ++i) {
    if (table.entries[i].cycles != golden.data[i]) {
      ++mismatches;
      ADD_FAILURE() << "entry " << i << " (layer " << i / 64 << ", w " << (i / 8) % 8 + 1 << ", a "
                    << i % 8 + 1 << "): got " << table.entries[i].cycles << ", table has "
                    << golden.data[i];
      if (mismatches > 10) break;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(BismoTest, CloudTotalsMatchPublishedSums) {
  const auto model = MakeCostModel(BuiltinHardware("bismo-cloud"));
  const auto layers = MobileNetV2(16);
  auto total = [&](int bits) {
    return EvaluatePolicy(*model, layers, UniformPolicy(layers, bits, bits)).cycles;
  };
  EXPECT_EQ(total(8), 39624933);
  EXPECT_EQ(total(4), 15716150);
  EXPECT_EQ(total(2), 7063425);
  EXPECT_EQ(total(1), 3433704);
}

TEST(BismoTest, ClosedFormEqualsOperationByOperationSimulation) {
  std::mt19937 rng(20190615);
  auto draw = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 4000; ++trial) {
    std::vector<int64_t> x(static_cast<size_t>(draw(1, 5))), y(static_cast<size_t>(draw(1, 5)));
    for (auto& r : x) r = draw(1, 16);
    for (auto& r : y) r = draw(1, 16);
    const int64_t kw = draw(1, 5), bx = draw(1, 8), by = draw(1, 8);
    ASSERT_EQ(BismoBlockCycles(x, y, kw, bx, by), BismoBlockCyclesSimulated(x, y, kw, bx, by))
        << "trial " << trial;
  }
}

TEST(BismoTest, WorkedExamplesFromTheModelDescription) {
  const BismoConfig cfg;  // the cloud array: 16x16, 256-bit slices, 16,384 words
  auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  // The 32->16 projection at 112x112: 12544*a + (w-1)*ceil(12544*a/16384) per image.
  for (int w = 1; w <= 8; ++w) {
    for (int a = 1; a <= 8; ++a) {
      const auto c = BismoEvaluateProduct(cfg, {12544, 16, 32}, w, a);
      EXPECT_EQ(c.cycles, 12544 * a + (w - 1) * ceil_div(12544 * a, 16384)) << w << "/" << a;
    }
  }
  // The 1280->1000 classifier, whole batch of 16: 5000*w + (a-1)*ceil(5000*w/16384).
  for (int w = 1; w <= 8; ++w) {
    for (int a = 1; a <= 8; ++a) {
      const auto c = BismoEvaluateProduct(cfg, {16, 1000, 1280}, w, a);
      EXPECT_EQ(c.cycles, 5000 * w + (a - 1) * ceil_div(5000 * w, 16384)) << w << "/" << a;
    }
  }
}

TEST(BismoTest, ChunksAreGreedyInWholeTiles) {
  // Tiles of 16 rows, kw 4, 8 bits: 512 words each; 1,000 words hold one tile.
  const auto chunks = BismoChunks({16, 16, 16, 5}, 4, 8, 1100);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(chunks[1], (std::vector<int64_t>{16, 5}));
  // A tile larger than the buffer still forms a chunk of its own.
  EXPECT_EQ(BismoChunks({16, 16}, 4, 8, 100).size(), 2u);
}

TEST(BismoTest, PerChannelDepthwiseIsChannelsTimesOneChannel) {
  BismoConfig cfg;
  cfg.dm = cfg.dn = 8;
  cfg.depthwise = DepthwiseMapping::kPerChannel;
  LayerShape dw;
  dw.kind = LayerKind::kDepthwise;
  dw.in_channels = dw.out_channels = dw.groups = 96;
  dw.kernel_h = dw.kernel_w = 3;
  dw.in_h = dw.in_w = 56;
  dw.out_h = dw.out_w = 28;
  dw.stride_h = dw.stride_w = 2;
  dw.batch = 2;
  const auto one = BismoEvaluateProduct(cfg, {28 * 28, 1, 9}, 5, 3);
  EXPECT_EQ(EvaluateBismo(cfg, 1e8, dw, 5, 3).cycles, one.cycles * 96 * 2);
}

TEST(BismoTest, GroupedDenseDepthwiseHandlesAPartialLastGroup) {
  const BismoConfig cfg;  // dn = 16
  LayerShape dw;
  dw.kind = LayerKind::kDepthwise;
  dw.in_channels = dw.out_channels = dw.groups = 40;  // 2 full groups + 8 channels
  dw.kernel_h = dw.kernel_w = 3;
  dw.in_h = dw.in_w = dw.out_h = dw.out_w = 14;
  const auto full = BismoEvaluateProduct(cfg, {196, 16, 144}, 4, 4);
  const auto part = BismoEvaluateProduct(cfg, {196, 8, 72}, 4, 4);
  EXPECT_EQ(EvaluateBismo(cfg, 1e8, dw, 4, 4).cycles, 2 * full.cycles + part.cycles);
}

// The edge configuration has no released table; its constants come from Table 1
// (docs/HARDWARE.md). This pins the documented fit to HAQ's cited edge latencies
// (8-bit and uniform 4/5/6-bit MobileNet-V1/V2, batch 1): within 4% each.
TEST(BismoTest, EdgeStaysWithinFourPercentOfCitedLatencies) {
  const auto model = MakeCostModel(BuiltinHardware("bismo-edge"));
  struct Cited {
    const char* net;
    int bits;
    double ms;
  };
  const Cited cited[] = {{"mobilenet_v1", 8, 96.20}, {"mobilenet_v1", 6, 70.7},
                         {"mobilenet_v1", 5, 57.8},  {"mobilenet_v1", 4, 45.5},
                         {"mobilenet_v2", 8, 115.84}, {"mobilenet_v2", 6, 82.3},
                         {"mobilenet_v2", 5, 66.9},  {"mobilenet_v2", 4, 52.2}};
  for (const auto& c : cited) {
    const auto layers = ZooLayerShapes(c.net, ZooInput{});
    const double ms =
        EvaluatePolicy(*model, layers, UniformPolicy(layers, c.bits, c.bits)).seconds * 1e3;
    EXPECT_NEAR(ms / c.ms, 1.0, 0.04) << c.net << " " << c.bits << " bits: " << ms << " ms";
  }
}

}  // namespace
}  // namespace haq::hw
