#include "hw/bitfusion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "util/error.h"

namespace haq::hw {
namespace {

// One row of the golden CSV, addressed by column name.
struct CsvRow {
  const std::map<std::string, size_t>* columns = nullptr;
  std::vector<std::string> fields;

  const std::string& Text(const std::string& name) const {
    const auto it = columns->find(name);
    if (it == columns->end() || it->second >= fields.size()) {
      ADD_FAILURE() << "missing column " << name;
      static const std::string kEmpty;
      return kEmpty;
    }
    return fields[it->second];
  }
  int64_t Int(const std::string& name) const { return std::stoll(Text(name)); }
  double Real(const std::string& name) const { return std::stod(Text(name)); }
};

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) out.push_back(field);
  return out;
}

struct Csv {
  std::map<std::string, size_t> columns;
  std::vector<std::vector<std::string>> rows;
};

Csv ReadGoldenCsv() {
  Csv csv;
  std::ifstream in(std::string(HAQ_TEST_DATA_DIR) + "/bitfusion_reference_benchmarks.csv");
  EXPECT_TRUE(in.good()) << "cannot open the golden CSV under " << HAQ_TEST_DATA_DIR;
  std::string line;
  if (!std::getline(in, line)) return csv;
  const std::vector<std::string> header = SplitCsvLine(line);
  for (size_t i = 0; i < header.size(); ++i) csv.columns[header[i]] = i;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) csv.rows.push_back(SplitCsvLine(line));
  }
  return csv;
}

TEST(BitFusionTest, ReproducesEveryGoldenRow) {
  const Csv csv = ReadGoldenCsv();
  ASSERT_EQ(csv.rows.size(), 122u);
  int matched = 0;
  for (const auto& fields : csv.rows) {
    const CsvRow row{&csv.columns, fields};
    const std::string where =
        row.Text("network") + " " + row.Text("layer") + " @" + row.Text("mem_if_width");
    SCOPED_TRACE(where);
    BitFusionConfig cfg;
    cfg.dram_bits_per_cycle = row.Int("mem_if_width");
    const bool im2col = row.Text("im2col_first_layer") == "True";
    const BitFusionStats s = SimulateBitFusionConv(
        cfg, row.Int("batch"), row.Int("K"), row.Int("O"), row.Int("S"), row.Int("IC"),
        row.Int("OC"), im2col, static_cast<int>(row.Int("w_bits")),
        static_cast<int>(row.Int("a_bits")));
    bool ok = true;
    const auto count = [&](const char* column, int64_t got) {
      const int64_t want = row.Int(column);
      EXPECT_EQ(got, want) << column;
      ok = ok && got == want;
    };
    const auto energy = [&](const char* column, double got) {
      const double want = row.Real(column);
      EXPECT_LE(std::fabs(got - want), 1e-6 * std::fabs(want))
          << column << ": expected " << want << ", got " << got;
      ok = ok && std::fabs(got - want) <= 1e-6 * std::fabs(want);
    };
    count("cycles", s.cycles);
    count("mem_stall_cycles", s.mem_stall_cycles);
    count("wbuf_read_bits", s.wbuf_read_bits);
    count("wbuf_write_bits", s.wbuf_write_bits);
    count("ibuf_read_bits", s.ibuf_read_bits);
    count("ibuf_write_bits", s.ibuf_write_bits);
    count("obuf_read_bits", s.obuf_read_bits);
    count("obuf_write_bits", s.obuf_write_bits);
    count("dram_read_bits", s.dram_read_bits);
    count("dram_write_bits", s.dram_write_bits);
    energy("energy_core_nJ", s.energy_core_nj);
    energy("energy_sram_nJ", s.energy_sram_nj);
    energy("energy_dram_nJ", s.energy_dram_nj);
    energy("energy_total_nJ", s.energy_total_nj);
    if (ok) ++matched;
  }
  EXPECT_EQ(matched, 122);
}

TEST(BitFusionTest, GoldenRowsAlsoMatchTheReferenceImplementation) {
  // A handful of rows through the slow path, so both paths are pinned to the data.
  const Csv csv = ReadGoldenCsv();
  ASSERT_FALSE(csv.rows.empty());
  for (size_t i = 0; i < csv.rows.size(); i += 9) {
    const CsvRow row{&csv.columns, csv.rows[i]};
    SCOPED_TRACE(row.Text("network") + " " + row.Text("layer"));
    BitFusionConfig cfg;
    cfg.dram_bits_per_cycle = row.Int("mem_if_width");
    BitFusionConvShape shape;
    shape.batch = row.Int("batch");
    shape.kernel_h = shape.kernel_w = row.Int("K");
    shape.stride_h = shape.stride_w = row.Int("S");
    shape.out_h = shape.out_w = row.Int("O");
    shape.in_channels = row.Int("IC");
    shape.out_channels = row.Int("OC");
    shape.im2col = row.Text("im2col_first_layer") == "True";
    const BitFusionStats s = SimulateBitFusionConvReference(
        cfg, shape, static_cast<int>(row.Int("w_bits")), static_cast<int>(row.Int("a_bits")));
    EXPECT_EQ(s.cycles, row.Int("cycles"));
    EXPECT_EQ(s.dram_read_bits, row.Int("dram_read_bits"));
    EXPECT_EQ(s.dram_write_bits, row.Int("dram_write_bits"));
    EXPECT_EQ(s.obuf_read_bits, row.Int("obuf_read_bits"));
  }
}

TEST(BitFusionTest, SpotValuesFromTheModelDescription) {
  const BitFusionConfig cfg;  // 192 bits per cycle
  // ResNet-50 layer1.0.conv2 at w4/a4.
  const BitFusionStats conv = SimulateBitFusionConv(cfg, 16, 3, 56, 1, 64, 64, false, 4, 4);
  EXPECT_EQ(conv.cycles, 1175724);
  EXPECT_EQ(conv.compute_cycles, 903168);
  EXPECT_EQ(conv.dram_read_bits, 122978304);
  EXPECT_EQ(conv.dram_write_bits, 102760448);
  EXPECT_EQ(conv.cycles, conv.compute_cycles + conv.mem_stall_cycles);
  EXPECT_EQ(conv.dataflow, BitFusionDataflow::kOutputStationary);
  // ResNet-50 fc 2048 -> 1000.
  EXPECT_EQ(SimulateBitFusionConv(cfg, 16, 1, 1, 1, 2048, 1000, false, 8, 8).cycles, 99671);
  EXPECT_EQ(SimulateBitFusionConv(cfg, 16, 1, 1, 1, 2048, 1000, false, 2, 2).cycles, 27649);
}

TEST(BitFusionTest, ThroughputRoundsBitsUpButStorageUsesTrueBits) {
  BitFusionConfig cfg;
  cfg.dram_bits_per_cycle = 4096;  // compute-bound: the search keeps the ideal tiling
  // Speed-up per operand: 1 and 2 bits -> 4, 3 and 4 -> 2, 5..8 -> 1.
  const int64_t kSpeedup[9] = {0, 4, 4, 2, 2, 1, 1, 1, 1};
  const int64_t ideal_8x8 = 16 * 14 * 14 * 9 * (256 / 32) * (256 / 16);
  for (int w = 1; w <= 8; ++w) {
    for (int a = 1; a <= 8; ++a) {
      const BitFusionStats s = SimulateBitFusionConv(cfg, 16, 3, 14, 1, 256, 256, false, w, a);
      EXPECT_EQ(s.compute_cycles, ideal_8x8 / (kSpeedup[w] * kSpeedup[a])) << "w" << w << "a" << a;
    }
  }
  // Storage and traffic use the true bits: same throughput, fewer bits moved.
  cfg.dram_bits_per_cycle = 192;
  const BitFusionStats s1 = SimulateBitFusionConv(cfg, 16, 1, 1, 1, 4096, 1024, false, 1, 1);
  const BitFusionStats s2 = SimulateBitFusionConv(cfg, 16, 1, 1, 1, 4096, 1024, false, 2, 2);
  EXPECT_EQ(s1.compute_cycles, s2.compute_cycles);
  EXPECT_LT(s1.dram_read_bits, s2.dram_read_bits);
  const BitFusionStats s5 = SimulateBitFusionConv(cfg, 16, 1, 1, 1, 4096, 1024, false, 5, 5);
  const BitFusionStats s8 = SimulateBitFusionConv(cfg, 16, 1, 1, 1, 4096, 1024, false, 8, 8);
  EXPECT_EQ(s5.compute_cycles, s8.compute_cycles);
  EXPECT_LT(s5.wbuf_write_bits, s8.wbuf_write_bits);
  EXPECT_LT(s5.cycles, s8.cycles);
}

TEST(BitFusionTest, RejectsBitsOutsideOneToEight) {
  const BitFusionConfig cfg;
  try {
    SimulateBitFusionConv(cfg, 16, 3, 8, 1, 16, 16, false, 9, 8);
    FAIL() << "expected InputError";
  } catch (const util::InputError& e) {
    EXPECT_STREQ(e.what(), "bitfusion: w_bits: expected integer in 1..8, got 9");
  }
  EXPECT_THROW(SimulateBitFusionConv(cfg, 16, 3, 8, 1, 16, 16, false, 8, 0), util::InputError);
  EXPECT_THROW(SimulateBitFusionConvReference(cfg, BitFusionConvShape{}, 8, -1), util::InputError);
  EXPECT_THROW(SimulateBitFusionConv(cfg, 0, 3, 8, 1, 16, 16, false, 8, 8), util::InputError);
}

TEST(BitFusionTest, LayerThatFitsNoTilingThrows) {
  BitFusionConfig cfg;
  cfg.weight_buffer_bytes = 64;  // not even one column's weights fit
  EXPECT_THROW(SimulateBitFusionConv(cfg, 1, 3, 4, 1, 8, 8, false, 8, 8), util::InputError);
  const BitFusionConvShape shape{1, 3, 3, 1, 1, 4, 4, 8, 8, false};
  EXPECT_THROW(SimulateBitFusionConvUncached(cfg, shape, 8, 8), util::InputError);
  EXPECT_THROW(SimulateBitFusionConvReference(cfg, shape, 8, 8), util::InputError);
}

// A seeded random layer (sometimes non-square) on a seeded random configuration.
struct RandomCase {
  BitFusionConfig cfg;
  BitFusionConvShape shape;
};

RandomCase MakeRandomCase(std::mt19937_64& rng) {
  auto pick = [&rng](std::initializer_list<int64_t> values) {
    std::uniform_int_distribution<size_t> d(0, values.size() - 1);
    return *(values.begin() + d(rng));
  };
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  RandomCase c;
  c.cfg.dram_bits_per_cycle = pick({64, 192, 192, 512, 4096});
  if (uniform(0, 3) == 0) {
    c.cfg.weight_buffer_bytes = pick({8192, 32768, 65536, 131072});
    c.cfg.input_buffer_bytes = pick({4096, 16384, 32768});
    c.cfg.output_buffer_bytes = pick({4096, 8192, 16384});
  }
  if (uniform(0, 5) == 0) {
    c.cfg.rows = pick({8, 16});
    c.cfg.cols = pick({16, 32});
  }
  BitFusionConvShape& s = c.shape;
  s.batch = pick({1, 2, 3, 8, 16, 16});
  s.kernel_h = s.kernel_w = pick({1, 1, 3, 3, 5, 7});
  s.stride_h = s.stride_w = pick({1, 1, 2});
  s.out_h = s.out_w = pick({1, 3, 7, 14, 28, uniform(1, 40)});
  s.in_channels = pick({3, 16, 64, 96, 256, uniform(1, 600)});
  s.out_channels = pick({10, 32, 64, 100, 512, uniform(1, 600)});
  s.im2col = uniform(0, 4) == 0;
  if (uniform(0, 3) == 0) {  // non-square
    s.kernel_w = pick({1, 3, 5});
    s.stride_w = pick({1, 2});
    s.out_w = uniform(1, 40);
  }
  return c;
}

std::string Describe(const RandomCase& c, int w, int a) {
  const BitFusionConvShape& s = c.shape;
  std::ostringstream out;
  out << "b" << s.batch << " k" << s.kernel_h << "x" << s.kernel_w << " s" << s.stride_h << "x"
      << s.stride_w << " o" << s.out_h << "x" << s.out_w << " " << s.in_channels << "->"
      << s.out_channels << (s.im2col ? " im2col" : "") << " w" << w << "a" << a << " width "
      << c.cfg.dram_bits_per_cycle << " bufs " << c.cfg.weight_buffer_bytes << "/"
      << c.cfg.input_buffer_bytes << "/" << c.cfg.output_buffer_bytes << " array " << c.cfg.rows
      << "x" << c.cfg.cols;
  return out.str();
}

TEST(BitFusionTest, FastSearchEqualsReferenceOnRandomLayers) {
  std::mt19937_64 rng(20180602);
  int compared = 0;
  for (int i = 0; i < 20; ++i) {
    const RandomCase c = MakeRandomCase(rng);
    for (int w = 1; w <= 8; ++w) {
      for (int a = 1; a <= 8; ++a) {
        SCOPED_TRACE(Describe(c, w, a));
        bool reference_threw = false;
        BitFusionStats reference;
        try {
          reference = SimulateBitFusionConvReference(c.cfg, c.shape, w, a);
        } catch (const util::InputError&) {
          reference_threw = true;
        }
        if (reference_threw) {
          EXPECT_THROW(SimulateBitFusionConvUncached(c.cfg, c.shape, w, a), util::InputError);
          continue;
        }
        const BitFusionStats fast = SimulateBitFusionConvUncached(c.cfg, c.shape, w, a);
        EXPECT_EQ(fast, reference)
            << "fast " << fast.cycles << " " << BitFusionLoopOrderString(fast) << " vs reference "
            << reference.cycles << " " << BitFusionLoopOrderString(reference);
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 20 * 64 / 2);
}

TEST(BitFusionTest, FastSearchEqualsReferenceOnResNetStyleLayers) {
  const BitFusionConfig cfg;
  const BitFusionConvShape shapes[] = {
      {16, 7, 7, 2, 2, 112, 112, 3, 64, true},    // conv1 (im2col)
      {16, 1, 1, 1, 1, 56, 56, 256, 64, false},   // layer1 conv1
      {16, 3, 3, 2, 2, 14, 14, 256, 256, false},  // layer3.0 conv2
      {16, 1, 1, 2, 2, 7, 7, 1024, 2048, false},  // layer4.0 downsample
  };
  for (const BitFusionConvShape& s : shapes) {
    for (const auto& [w, a] : {std::pair{8, 8}, {4, 4}, {2, 8}, {3, 5}, {1, 2}}) {
      SCOPED_TRACE(std::to_string(s.in_channels) + "->" + std::to_string(s.out_channels) + " w" +
                   std::to_string(w) + "a" + std::to_string(a));
      EXPECT_EQ(SimulateBitFusionConvUncached(cfg, s, w, a),
                SimulateBitFusionConvReference(cfg, s, w, a));
    }
  }
}

TEST(BitFusionTest, CacheReturnsTheSameResultsAndCanBeCleared) {
  const BitFusionConfig cfg;
  ClearBitFusionCache();
  EXPECT_EQ(BitFusionCacheSize(), 0u);
  const BitFusionStats first = SimulateBitFusionConv(cfg, 16, 3, 28, 1, 128, 128, false, 4, 6);
  EXPECT_EQ(BitFusionCacheSize(), 1u);
  const BitFusionStats again = SimulateBitFusionConv(cfg, 16, 3, 28, 1, 128, 128, false, 4, 6);
  EXPECT_EQ(BitFusionCacheSize(), 1u);
  EXPECT_EQ(first, again);
  BitFusionConfig wide = cfg;
  wide.dram_bits_per_cycle = 4096;  // part of the key
  const BitFusionStats other = SimulateBitFusionConv(wide, 16, 3, 28, 1, 128, 128, false, 4, 6);
  EXPECT_EQ(BitFusionCacheSize(), 2u);
  EXPECT_LT(other.cycles, first.cycles);
  ClearBitFusionCache();
  EXPECT_EQ(BitFusionCacheSize(), 0u);
}

TEST(BitFusionTest, NonSquareOfSquareDimensionsEqualsSquare) {
  const BitFusionConfig cfg;
  BitFusionConvShape s{16, 3, 3, 1, 1, 28, 28, 64, 128, false};
  const BitFusionStats square = SimulateBitFusionConv(cfg, 16, 3, 28, 1, 64, 128, false, 4, 4);
  EXPECT_EQ(SimulateBitFusionConv(cfg, s, 4, 4), square);
  // A 1x3 kernel does no more work than a 3x3 one.
  s.kernel_h = 1;
  const BitFusionStats narrow = SimulateBitFusionConv(cfg, s, 4, 4);
  EXPECT_EQ(narrow.compute_cycles * 3, square.compute_cycles);
}

LayerShape MakeLayer(LayerKind kind, int64_t in_c, int64_t out_c, int64_t k, int64_t stride,
                     int64_t out_hw, int64_t groups, int64_t batch) {
  LayerShape l;
  l.name = "layer";
  l.kind = kind;
  l.in_channels = in_c;
  l.out_channels = out_c;
  l.kernel_h = l.kernel_w = k;
  l.stride_h = l.stride_w = stride;
  l.groups = groups;
  l.out_h = l.out_w = out_hw;
  l.in_h = l.in_w = (out_hw - 1) * stride + k;
  l.batch = batch;
  return l;
}

void ExpectScaled(const BitFusionStats& one, int64_t factor, const BitFusionStats& total) {
  EXPECT_EQ(total.cycles, one.cycles * factor);
  EXPECT_EQ(total.compute_cycles, one.compute_cycles * factor);
  EXPECT_EQ(total.mem_stall_cycles, one.mem_stall_cycles * factor);
  EXPECT_EQ(total.wbuf_read_bits, one.wbuf_read_bits * factor);
  EXPECT_EQ(total.wbuf_write_bits, one.wbuf_write_bits * factor);
  EXPECT_EQ(total.ibuf_read_bits, one.ibuf_read_bits * factor);
  EXPECT_EQ(total.ibuf_write_bits, one.ibuf_write_bits * factor);
  EXPECT_EQ(total.obuf_read_bits, one.obuf_read_bits * factor);
  EXPECT_EQ(total.obuf_write_bits, one.obuf_write_bits * factor);
  EXPECT_EQ(total.dram_read_bits, one.dram_read_bits * factor);
  EXPECT_EQ(total.dram_write_bits, one.dram_write_bits * factor);
  EXPECT_DOUBLE_EQ(total.energy_total_nj, one.energy_total_nj * static_cast<double>(factor));
}

TEST(BitFusionTest, DepthwisePerChannelIsChannelsTimesOneChannelConv) {
  BitFusionConfig cfg;
  cfg.depthwise = DepthwiseMapping::kPerChannel;
  const LayerShape dw = MakeLayer(LayerKind::kDepthwise, 144, 144, 3, 2, 28, 144, 16);
  const BitFusionStats one = SimulateBitFusionConv(cfg, 16, 3, 28, 2, 1, 1, false, 4, 6);
  const BitFusionStats total = SimulateBitFusionLayer(cfg, dw, 4, 6);
  ExpectScaled(one, 144, total);

  const double clock_hz = 500e6;
  const Cost cost = EvaluateBitFusion(cfg, clock_hz, dw, 4, 6);
  EXPECT_EQ(cost.cycles, one.cycles * 144);
  EXPECT_EQ(cost.compute_cycles, one.compute_cycles * 144);
  EXPECT_EQ(cost.dram_read_bits, one.dram_read_bits * 144);
  EXPECT_EQ(cost.dram_write_bits, one.dram_write_bits * 144);
  EXPECT_DOUBLE_EQ(cost.seconds, static_cast<double>(cost.cycles) / clock_hz);
  ASSERT_EQ(cost.buffers.size(), 3u);
  EXPECT_EQ(cost.buffers[0].name, "weight");
  EXPECT_EQ(cost.buffers[0].read_bits, one.wbuf_read_bits * 144);
  EXPECT_EQ(cost.buffers[1].name, "input");
  EXPECT_EQ(cost.buffers[1].write_bits, one.ibuf_write_bits * 144);
  EXPECT_EQ(cost.buffers[2].name, "output");
  EXPECT_EQ(cost.buffers[2].read_bits, one.obuf_read_bits * 144);
  EXPECT_TRUE(cost.has_energy);
  double energy_pj = cost.compute_pj + cost.dram_pj;
  for (const BufferCost& b : cost.buffers) energy_pj += b.read_pj + b.write_pj;
  EXPECT_NEAR(energy_pj, one.energy_total_nj * 1e3 * 144, 1e-9 * energy_pj);
  EXPECT_NEAR(cost.compute_pj, one.energy_core_nj * 1e3 * 144, 1e-9 * cost.compute_pj);
  EXPECT_NEAR(cost.dram_pj, one.energy_dram_nj * 1e3 * 144, 1e-9 * cost.dram_pj);
}

TEST(BitFusionTest, DepthwiseGroupedDenseUsesArrayWideGroups) {
  BitFusionConfig cfg;
  cfg.depthwise = DepthwiseMapping::kGroupedDense;
  // 96 channels = 3 groups of 32.
  const LayerShape dw96 = MakeLayer(LayerKind::kDepthwise, 96, 96, 3, 1, 56, 96, 16);
  const BitFusionStats group = SimulateBitFusionConv(cfg, 16, 3, 56, 1, 32, 32, false, 8, 8);
  ExpectScaled(group, 3, SimulateBitFusionLayer(cfg, dw96, 8, 8));
  // 72 channels = 2 groups of 32 plus one of 8.
  const LayerShape dw72 = MakeLayer(LayerKind::kDepthwise, 72, 72, 3, 1, 56, 72, 16);
  const BitFusionStats rest = SimulateBitFusionConv(cfg, 16, 3, 56, 1, 8, 8, false, 8, 8);
  const BitFusionStats total = SimulateBitFusionLayer(cfg, dw72, 8, 8);
  EXPECT_EQ(total.cycles, 2 * group.cycles + rest.cycles);
  EXPECT_EQ(total.dram_read_bits, 2 * group.dram_read_bits + rest.dram_read_bits);
  EXPECT_EQ(total.obuf_write_bits, 2 * group.obuf_write_bits + rest.obuf_write_bits);
  EXPECT_EQ(EvaluateBitFusion(cfg, 500e6, dw72, 8, 8).cycles, total.cycles);
}

TEST(BitFusionTest, ConvAndFcLayersMapToOneCall) {
  const BitFusionConfig cfg;
  LayerShape conv1 = MakeLayer(LayerKind::kConv, 3, 64, 7, 2, 112, 1, 16);
  conv1.is_first = true;
  EXPECT_EQ(SimulateBitFusionLayer(cfg, conv1, 8, 8),
            SimulateBitFusionConv(cfg, 16, 7, 112, 2, 3, 64, true, 8, 8));
  conv1.is_first = false;
  EXPECT_EQ(SimulateBitFusionLayer(cfg, conv1, 8, 8),
            SimulateBitFusionConv(cfg, 16, 7, 112, 2, 3, 64, false, 8, 8));
  BitFusionConfig no_im2col = cfg;
  no_im2col.first_layer_im2col = false;
  conv1.is_first = true;
  EXPECT_EQ(SimulateBitFusionLayer(no_im2col, conv1, 8, 8),
            SimulateBitFusionConv(cfg, 16, 7, 112, 2, 3, 64, false, 8, 8));

  LayerShape fc = MakeLayer(LayerKind::kFc, 2048, 1000, 1, 1, 1, 1, 16);
  const Cost cost = EvaluateBitFusion(cfg, 500e6, fc, 8, 8);
  EXPECT_EQ(cost.cycles, 99671);
  EXPECT_EQ(cost.bound, Bound::kMemory);  // 2048x1000 8-bit weights over 192 bits/cycle
  // Fully connected layers never use im2col.
  fc.is_first = true;
  EXPECT_EQ(EvaluateBitFusion(cfg, 500e6, fc, 8, 8).cycles, 99671);
  EXPECT_EQ(SimulateBitFusionLayer(cfg, fc, 4, 4),
            SimulateBitFusionConv(cfg, 16, 1, 1, 1, 2048, 1000, false, 4, 4));

  // Grouped (non-depthwise) convs: groups identical dense convs.
  const LayerShape grouped = MakeLayer(LayerKind::kConv, 128, 256, 3, 1, 14, 4, 16);
  ExpectScaled(SimulateBitFusionConv(cfg, 16, 3, 14, 1, 32, 64, false, 4, 4), 4,
               SimulateBitFusionLayer(cfg, grouped, 4, 4));
}

TEST(BitFusionTest, BoundFollowsTheBusierResource) {
  BitFusionConfig cfg;
  cfg.dram_bits_per_cycle = 4096;
  const LayerShape conv = MakeLayer(LayerKind::kConv, 256, 256, 3, 1, 14, 1, 16);
  const Cost wide = EvaluateBitFusion(cfg, 500e6, conv, 8, 8);
  const BitFusionStats s = SimulateBitFusionLayer(cfg, conv, 8, 8);
  EXPECT_EQ(wide.bound, s.memory_cycles > s.compute_cycles ? Bound::kMemory : Bound::kCompute);
  EXPECT_EQ(wide.bound, Bound::kCompute);
  cfg.dram_bits_per_cycle = 16;
  EXPECT_EQ(EvaluateBitFusion(cfg, 500e6, conv, 8, 8).bound, Bound::kMemory);
  EXPECT_THROW(EvaluateBitFusion(cfg, 0.0, conv, 8, 8), util::InputError);
  EXPECT_THROW(EvaluateBitFusion(cfg, 500e6, conv, 8, 9), util::InputError);
}

}  // namespace
}  // namespace haq::hw
