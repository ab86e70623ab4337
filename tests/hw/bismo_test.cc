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
  auto draw = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  auto chunk = [&] {
    BismoChunk c;
    c.tiles = draw(1, 6);
    c.rows = draw(1, 16);
    c.last = draw(1, c.rows);
    return c;
  };
  for (int trial = 0; trial < 4000; ++trial) {
    const BismoChunk x = chunk(), y = chunk();
    const int64_t kw = draw(1, 5), bx = draw(1, 8), by = draw(1, 8);
    ASSERT_EQ(BismoBlockCycles(x, y, kw, bx, by),
              BismoBlockCyclesSimulated(x.Heights(), y.Heights(), kw, bx, by))
        << "trial " << trial;
  }
}

// The greedy split done tile by tile, as the model describes it.
std::vector<std::vector<int64_t>> GreedyChunks(int64_t total_rows, int64_t tile, int64_t kw,
                                               int64_t bits, int64_t capacity) {
  std::vector<int64_t> tiles(static_cast<size_t>(total_rows / tile), tile);
  if (total_rows % tile) tiles.push_back(total_rows % tile);
  std::vector<std::vector<int64_t>> chunks;
  int64_t used = 0;
  for (int64_t r : tiles) {
    const int64_t words = r * kw * bits;
    if (chunks.empty() || used + words > capacity) {
      chunks.emplace_back();
      used = 0;
    }
    chunks.back().push_back(r);
    used += words;
  }
  return chunks;
}

TEST(BismoTest, ChunkRunsEqualTheTileByTileGreedySplit) {
  std::mt19937 rng(7);
  auto draw = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 20000; ++trial) {
    const int64_t tile = draw(1, 16), kw = draw(1, 4), bits = draw(1, 8);
    const int64_t total = draw(1, 40 * tile);
    // Capacities around whole multiples of a tile, where the edge cases live.
    const int64_t capacity =
        trial % 2 ? draw(1, 12 * tile * kw * bits) : draw(0, 6) * tile * kw * bits + draw(0, 3);
    if (capacity < 1) continue;
    std::vector<std::vector<int64_t>> expanded;
    for (const auto& run : BismoChunkRuns(total, tile, kw, bits, capacity)) {
      ASSERT_GE(run.count, 1);
      for (int64_t i = 0; i < run.count; ++i) expanded.push_back(run.chunk.Heights());
    }
    ASSERT_EQ(expanded, GreedyChunks(total, tile, kw, bits, capacity))
        << "trial " << trial << ": rows " << total << ", tile " << tile << ", kw " << kw
        << ", bits " << bits << ", capacity " << capacity;
  }
}

TEST(BismoTest, HugeOperandsCostExactlyTheirMultipleWithoutMaterialisingTiles) {
  // An operand of q whole chunks costs q times one chunk under either dataflow, so
  // a product 2^30 times larger than a one-chunk product costs exactly 2^30 times
  // as much. (Cutting the operand tile by tile would need 2^33 entries.)
  const BismoConfig cfg;  // cloud: dm 16, 16,384 words of 256 bits
  const int64_t kw = 2;   // k = 512
  for (int bits : {1, 3, 8}) {
    const int64_t chunk_rows = cfg.buffer_words / (cfg.dm * kw * bits) * cfg.dm;
    const auto one = BismoEvaluateProduct(cfg, {chunk_rows, 64, 512}, bits, bits);
    const int64_t q = int64_t{1} << 30;
    const auto many = BismoEvaluateProduct(cfg, {chunk_rows * q, 64, 512}, bits, bits);
    EXPECT_EQ(many.cycles, one.cycles * q) << bits;
    EXPECT_EQ(many.ops, one.ops * q) << bits;
    EXPECT_EQ(many.a_words_fetched + many.w_words_fetched,
              (one.a_words_fetched + one.w_words_fetched) * q)
        << bits;
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
  // Tiles of 16 rows, kw 4, 8 bits: 512 words each; 1,100 words hold two tiles,
  // and the 5-row partial tile (160 words) joins the second chunk.
  const auto runs = BismoChunkRuns(53, 16, 4, 8, 1100);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].chunk.Heights(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(runs[0].count, 1);
  EXPECT_EQ(runs[1].chunk.Heights(), (std::vector<int64_t>{16, 5}));
  EXPECT_EQ(runs[1].count, 1);
  // A tile larger than the buffer still forms a chunk of its own.
  const auto alone = BismoChunkRuns(32, 16, 4, 8, 100);
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].chunk.tiles, 1);
  EXPECT_EQ(alone[0].count, 2);
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
