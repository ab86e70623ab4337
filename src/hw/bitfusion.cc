#include "hw/bitfusion.h"

#include <algorithm>
#include <bit>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/error.h"

namespace haq::hw {

namespace {

constexpr int kNumLoops = 5;
constexpr int kNumOrders = 120;
constexpr int kMaxPrecisionBits = 8;  // pmax of the published configuration
constexpr int kMinPrecisionBits = 2;  // pmin: one BitBrick
constexpr int kMinBits = 1;
constexpr int kMaxBits = 8;

constexpr int kLoopB = 0;
constexpr int kLoopOw = 1;
constexpr int kLoopOh = 2;
constexpr int kLoopIc = 3;
constexpr int kLoopOc = 4;

// Data namespaces of the published model.
constexpr int kWgt = 0;
constexpr int kAct = 1;
constexpr int kOut = 2;
constexpr int kNumSpaces = 3;

// tile_deps: which namespaces a tile loop indexes.
constexpr bool kIndexes[kNumLoops][kNumSpaces] = {
    {false, true, true},  // B
    {false, true, true},  // OW
    {false, true, true},  // OH
    {true, true, false},  // IC
    {true, false, true},  // OC
};

constexpr const char* kLoopNames[kNumLoops] = {"B/b", "OW/ow", "OH/oh", "IC/ic", "OC/oc"};

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ceil(log2(x)) + 1: how many clamped powers of two the published model tries.
int NumPow2Options(int64_t x) {
  int k = 0;
  while ((int64_t{1} << k) < x) ++k;
  return k + 1;
}

int64_t PerfFactor(int w_bits, int a_bits) {
  return int64_t{kMaxPrecisionBits / std::max(a_bits, kMinPrecisionBits)} *
         (kMaxPrecisionBits / std::max(w_bits, kMinPrecisionBits));
}

using Order = std::array<int8_t, kNumLoops>;  // outermost first

// All loop orders in itertools.permutations order of (B, OW, OH, IC, OC).
const std::array<Order, kNumOrders>& AllOrders() {
  static const std::array<Order, kNumOrders> orders = [] {
    std::array<Order, kNumOrders> out{};
    Order o{0, 1, 2, 3, 4};
    int i = 0;
    do {
      out[i++] = o;
    } while (std::next_permutation(o.begin(), o.end()));
    return out;
  }();
  return orders;
}

struct EnergyPerBit {
  double core_per_cycle_pj = 0.0;
  double wbuf_read_pj = 0.0;
  double wbuf_write_pj = 0.0;
  double ibuf_read_pj = 0.0;
  double ibuf_write_pj = 0.0;
  double obuf_read_pj = 0.0;
  double obuf_write_pj = 0.0;
  double dram_pj = 0.0;
};

EnergyPerBit MakeEnergy(const BitFusionConfig& cfg) {
  const double bits = static_cast<double>(cfg.buffer_access_bits);
  EnergyPerBit e;
  e.core_per_cycle_pj = cfg.core_pj_per_cycle;
  e.wbuf_read_pj = cfg.weight_buffer.read_pj / bits;
  e.wbuf_write_pj = cfg.weight_buffer.write_pj / bits;
  e.ibuf_read_pj = cfg.input_buffer.read_pj / bits;
  e.ibuf_write_pj = cfg.input_buffer.write_pj / bits;
  e.obuf_read_pj = cfg.output_buffer.read_pj / bits;
  e.obuf_write_pj = cfg.output_buffer.write_pj / bits;
  e.dram_pj = cfg.dram_pj_per_bit;
  return e;
}

// The energy the search compares, summed in the published model's order
// (Stats.get_energy). Both search paths call this with the same counts, so
// their comparisons agree bit for bit.
double SearchEnergyPj(const EnergyPerBit& e, int64_t compute_cycles, int64_t wbuf_read,
                      int64_t wbuf_write, int64_t ibuf_read, int64_t ibuf_write, int64_t obuf_read,
                      int64_t obuf_write, int64_t dram_read, int64_t dram_write) {
  double energy = static_cast<double>(compute_cycles) * e.core_per_cycle_pj;
  energy += static_cast<double>(wbuf_read) * e.wbuf_read_pj;
  energy += static_cast<double>(wbuf_write) * e.wbuf_write_pj;
  energy += static_cast<double>(ibuf_read) * e.ibuf_read_pj;
  energy += static_cast<double>(ibuf_write) * e.ibuf_write_pj;
  energy += static_cast<double>(obuf_read) * e.obuf_read_pj;
  energy += static_cast<double>(obuf_write) * e.obuf_write_pj;
  energy += static_cast<double>(dram_read) * e.dram_pj;
  energy += static_cast<double>(dram_write) * e.dram_pj;
  return energy;
}

// One layer at one bit pair, with everything the model reads from the config.
struct Problem {
  BitFusionConvShape shape;
  int w_bits = 8;
  int a_bits = 8;
  int64_t pf = 1;
  int64_t rows = 16;
  int64_t cols = 32;
  int64_t width_bits = 192;
  int64_t psum_bits = 32;
  std::array<int64_t, kNumSpaces> half_bits{};  // half of each buffer, in bits
  EnergyPerBit energy;
};

void CheckPositive(const char* what, int64_t value) {
  if (value < 1) {
    throw util::InputError(std::string("bitfusion: ") + what + ": expected integer >= 1, got " +
                           std::to_string(value));
  }
}

void CheckBitsInRange(const char* what, int bits) {
  if (bits < kMinBits || bits > kMaxBits) {
    throw util::InputError(std::string("bitfusion: ") + what + ": expected integer in 1..8, got " +
                           std::to_string(bits));
  }
}

Problem MakeProblem(const BitFusionConfig& cfg, const BitFusionConvShape& shape, int w_bits,
                    int a_bits) {
  CheckBitsInRange("w_bits", w_bits);
  CheckBitsInRange("a_bits", a_bits);
  CheckPositive("batch", shape.batch);
  CheckPositive("kernel_h", shape.kernel_h);
  CheckPositive("kernel_w", shape.kernel_w);
  CheckPositive("stride_h", shape.stride_h);
  CheckPositive("stride_w", shape.stride_w);
  CheckPositive("out_h", shape.out_h);
  CheckPositive("out_w", shape.out_w);
  CheckPositive("in_channels", shape.in_channels);
  CheckPositive("out_channels", shape.out_channels);
  CheckPositive("rows", cfg.rows);
  CheckPositive("cols", cfg.cols);
  CheckPositive("dram_bits_per_cycle", cfg.dram_bits_per_cycle);
  CheckPositive("weight_buffer_bytes", cfg.weight_buffer_bytes);
  CheckPositive("input_buffer_bytes", cfg.input_buffer_bytes);
  CheckPositive("output_buffer_bytes", cfg.output_buffer_bytes);
  CheckPositive("psum_bits", cfg.psum_bits);
  CheckPositive("buffer_access_bits", cfg.buffer_access_bits);
  Problem p;
  p.shape = shape;
  p.w_bits = w_bits;
  p.a_bits = a_bits;
  p.pf = PerfFactor(w_bits, a_bits);
  p.rows = cfg.rows;
  p.cols = cfg.cols;
  p.width_bits = cfg.dram_bits_per_cycle;
  p.psum_bits = cfg.psum_bits;
  p.half_bits[kWgt] = cfg.weight_buffer_bytes * 4;
  p.half_bits[kAct] = cfg.input_buffer_bytes * 4;
  p.half_bits[kOut] = cfg.output_buffer_bytes * 4;
  p.energy = MakeEnergy(cfg);
  return p;
}

// The candidate tile sizes, in the published model's order.
struct TileOptions {
  std::vector<int64_t> b;
  std::vector<std::pair<int64_t, int64_t>> o;  // (o_h, o_w)
  std::vector<int64_t> ic;
  std::vector<int64_t> oc;
};

TileOptions MakeTileOptions(const Problem& p) {
  const BitFusionConvShape& s = p.shape;
  TileOptions t;
  for (int i = 0; i < NumPow2Options(s.batch); ++i)
    t.b.push_back(std::min(int64_t{1} << i, s.batch));
  const int num_o = std::max(NumPow2Options(s.out_h), NumPow2Options(s.out_w));
  for (int i = 0; i < num_o; ++i) {
    t.o.emplace_back(std::min(int64_t{1} << i, s.out_h), std::min(int64_t{1} << i, s.out_w));
  }
  for (int i = 0; i < NumPow2Options(s.in_channels); ++i) {
    t.ic.push_back(std::min(int64_t{1} << i, s.in_channels));
  }
  if (s.im2col) {
    for (int i = 0; i < NumPow2Options(s.out_channels); ++i) {
      t.oc.push_back(std::min(int64_t{1} << i, s.out_channels));
    }
  } else {
    const int num_oc = NumPow2Options(CeilDiv(s.out_channels, p.cols));
    for (int i = 0; i < num_oc; ++i)
      t.oc.push_back(std::min((int64_t{1} << i) * p.cols, s.out_channels));
  }
  return t;
}

struct Tiling {
  int64_t b = 1;
  int64_t oh = 1;
  int64_t ow = 1;
  int64_t ic = 1;
  int64_t oc = 1;
  std::array<int64_t, kNumLoops> num{};  // trip count of each tile loop
};

Tiling MakeTiling(const Problem& p, int64_t b, std::pair<int64_t, int64_t> o, int64_t ic,
                  int64_t oc) {
  const BitFusionConvShape& s = p.shape;
  Tiling t;
  t.b = b;
  t.oh = o.first;
  t.ow = o.second;
  t.ic = ic;
  t.oc = oc;
  t.num[kLoopB] = CeilDiv(s.batch, b);
  t.num[kLoopOw] = CeilDiv(s.out_w, t.ow);
  t.num[kLoopOh] = CeilDiv(s.out_h, t.oh);
  t.num[kLoopIc] = CeilDiv(s.in_channels, ic);
  t.num[kLoopOc] = CeilDiv(s.out_channels, oc);
  return t;
}

int64_t WeightFootprint(const Problem& p, int64_t ic, int64_t oc) {
  const int64_t lanes = p.rows * p.pf;
  return CeilDiv(p.shape.kernel_h * p.shape.kernel_w * ic, lanes) * lanes * oc * p.w_bits;
}

int64_t InputFootprint(const Problem& p, int64_t b, int64_t oh, int64_t ow, int64_t ic) {
  const BitFusionConvShape& s = p.shape;
  if (s.im2col) return oh * ow * s.kernel_h * s.kernel_w * ic * b * p.a_bits;
  const int64_t iw = s.kernel_w + (ow - 1) * s.stride_w;
  const int64_t ih = s.kernel_h + (oh - 1) * s.stride_h;
  return iw * ih * ic * b * p.a_bits;
}

int64_t OutputFootprint(const Problem& p, int64_t b, int64_t oh, int64_t ow, int64_t oc) {
  return ow * oh * CeilDiv(oc, p.cols) * p.cols * b * p.psum_bits;
}

// Order-independent quantities of one legal tiling.
struct TileFacts {
  int64_t num_tiles = 0;
  int64_t compute_cycles = 0;
  std::array<int64_t, kNumSpaces> footprint{};
  int64_t wbuf_reads = 0;   // array reads of weights
  int64_t ibuf_reads = 0;   // array reads of inputs
  int64_t obuf_access = 0;  // array reads (and as many writes) of partial sums
  BitFusionDataflow dataflow = BitFusionDataflow::kOutputStationary;
};

// Footprints, legality, compute cycles and on-chip accesses of one tiling.
// Returns nullopt when a tile overflows half of its buffer.
std::optional<TileFacts> MakeTileFacts(const Problem& p, const Tiling& t) {
  const BitFusionConvShape& s = p.shape;
  TileFacts f;
  f.footprint[kWgt] = WeightFootprint(p, t.ic, t.oc);
  f.footprint[kAct] = InputFootprint(p, t.b, t.oh, t.ow, t.ic);
  f.footprint[kOut] = OutputFootprint(p, t.b, t.oh, t.ow, t.oc);
  for (int ns = 0; ns < kNumSpaces; ++ns) {
    if (f.footprint[ns] > p.half_bits[ns]) return std::nullopt;
  }
  f.num_tiles = 1;
  for (int64_t n : t.num) f.num_tiles *= n;
  const int64_t khkw = s.kernel_h * s.kernel_w;
  const int64_t lanes = p.rows * p.pf;
  const int64_t oc_cols = CeilDiv(t.oc, p.cols);
  int64_t tile_cycles = 0;
  int64_t os_loop = 0;
  if (s.im2col) {
    tile_cycles = t.b * t.oh * t.ow * oc_cols * CeilDiv(khkw * t.ic, lanes);
    os_loop = CeilDiv(t.ic * khkw, lanes) * lanes;
  } else {
    tile_cycles = t.b * oc_cols * t.ow * t.oh * khkw * CeilDiv(t.ic, lanes);
    os_loop = CeilDiv(t.ic, lanes) * lanes * khkw;
  }
  f.compute_cycles = f.num_tiles * tile_cycles;

  // The published model's dataflow proxies (ties: input-, output-, weight-stationary).
  const int64_t a = p.a_bits;
  const int64_t w = p.w_bits;
  const int64_t o_bits = p.psum_bits;
  const int64_t is_loop = oc_cols * p.cols;
  const int64_t ws_loop = t.b * t.oh * t.ow;
  const int64_t is_energy = (os_loop * ws_loop) * (a + is_loop * (w + o_bits));
  const int64_t os_energy = (is_loop * ws_loop) * (o_bits + os_loop * (a + w));
  const int64_t ws_energy = (os_loop * is_loop) * (w + ws_loop * (a + o_bits));
  const int64_t min_energy = std::min({is_energy, os_energy, ws_energy});
  const int64_t T = f.num_tiles;
  const int64_t reduce = khkw * t.ic;        // kw * kh * ic
  const int64_t pixels = t.oh * t.ow * t.b;  // oh * ow * b
  if (is_energy == min_energy) {
    f.dataflow = BitFusionDataflow::kInputStationary;
    f.ibuf_reads = T * (reduce * pixels) * a;
    f.obuf_access = T * (reduce * pixels) * t.oc * o_bits;
    f.wbuf_reads = T * (reduce * pixels) * t.oc * w;
  } else if (os_energy == min_energy) {
    f.dataflow = BitFusionDataflow::kOutputStationary;
    f.ibuf_reads = T * (t.oc * pixels) * reduce * a;
    f.obuf_access = T * (t.oc * pixels) * o_bits;
    f.wbuf_reads = T * (t.oc * pixels) * reduce * w;
  } else {
    f.dataflow = BitFusionDataflow::kWeightStationary;
    f.ibuf_reads = T * (reduce * t.oc) * pixels * a;
    f.obuf_access = T * (reduce * t.oc) * pixels * o_bits;
    f.wbuf_reads = T * (reduce * t.oc) * w;
  }
  return f;
}

// DRAM traffic and resident (first-load) size of every namespace.
struct Traffic {
  std::array<int64_t, kNumSpaces> total{};
  std::array<int64_t, kNumSpaces> resident{};
};

// Cycles and the stall part from compute cycles and DRAM traffic.
struct Timing {
  int64_t cycles = 0;
  int64_t mem_stall = 0;
  int64_t memory = 0;
};

Timing MakeTiming(const Problem& p, int64_t compute_cycles, const Traffic& tr) {
  const int64_t dram_read = tr.total[kWgt] + tr.total[kAct] + tr.total[kOut];
  const int64_t dram_write = tr.total[kOut];
  const int64_t initial = tr.resident[kWgt] + tr.resident[kAct] + tr.resident[kOut];
  const int64_t final_store = tr.resident[kOut];
  const int64_t latency = CeilDiv(initial, p.width_bits) + CeilDiv(final_store, p.width_bits);
  const int64_t middle = dram_read + dram_write - initial - final_store;
  const int64_t memory = CeilDiv(middle, p.width_bits);
  Timing t;
  t.mem_stall = std::max<int64_t>(0, memory - compute_cycles) + latency;
  t.cycles = compute_cycles + t.mem_stall;
  t.memory = memory + latency;
  return t;
}

struct Evaluated {
  BitFusionStats stats;
  double search_energy_pj = 0.0;
};

// ---------------------------------------------------------------------------
// REFERENCE: a direct transcription of the published get_stats_fast for one
// tiling and loop order; nullopt when the tiling does not fit.
std::optional<Evaluated> EvaluateMapping(const Problem& p, const Tiling& t, int order_index) {
  const std::optional<TileFacts> facts = MakeTileFacts(p, t);
  if (!facts) return std::nullopt;
  const Order& order = AllOrders()[order_index];
  Traffic tr;
  std::array<bool, kNumSpaces> promote{true, true, true};
  for (int ns = 0; ns < kNumSpaces; ++ns) tr.total[ns] = tr.resident[ns] = facts->footprint[ns];
  for (int pos = kNumLoops - 1; pos >= 0; --pos) {  // innermost loop first
    const int loop = order[pos];
    const int64_t n = t.num[loop];
    for (int ns = 0; ns < kNumSpaces; ++ns) {
      if (promote[ns]) {
        if (kIndexes[loop][ns]) {
          tr.total[ns] *= n;
          if (tr.total[ns] > p.half_bits[ns]) {
            promote[ns] = false;
          } else {
            tr.resident[ns] = tr.total[ns];
          }
        }
      } else {
        tr.total[ns] *= n;
      }
    }
  }
  const Timing timing = MakeTiming(p, facts->compute_cycles, tr);

  Evaluated ev;
  BitFusionStats& s = ev.stats;
  s.cycles = timing.cycles;
  s.compute_cycles = facts->compute_cycles;
  s.mem_stall_cycles = timing.mem_stall;
  s.memory_cycles = timing.memory;
  s.wbuf_read_bits = facts->wbuf_reads;
  s.wbuf_write_bits = tr.total[kWgt];
  s.ibuf_read_bits = facts->ibuf_reads;
  s.ibuf_write_bits = tr.total[kAct];
  s.obuf_read_bits = tr.total[kOut] + facts->obuf_access;
  s.obuf_write_bits = tr.total[kOut] + facts->obuf_access;
  s.dram_read_bits = tr.total[kWgt] + tr.total[kAct] + tr.total[kOut];
  s.dram_write_bits = tr.total[kOut];

  const EnergyPerBit& e = p.energy;
  const double core_pj = static_cast<double>(s.compute_cycles) * e.core_per_cycle_pj;
  double sram_pj = static_cast<double>(s.wbuf_read_bits) * e.wbuf_read_pj;
  sram_pj += static_cast<double>(s.wbuf_write_bits) * e.wbuf_write_pj;
  sram_pj += static_cast<double>(s.ibuf_read_bits) * e.ibuf_read_pj;
  sram_pj += static_cast<double>(s.ibuf_write_bits) * e.ibuf_write_pj;
  sram_pj += static_cast<double>(s.obuf_read_bits) * e.obuf_read_pj;
  sram_pj += static_cast<double>(s.obuf_write_bits) * e.obuf_write_pj;
  double dram_pj = static_cast<double>(s.dram_read_bits) * e.dram_pj;
  dram_pj += static_cast<double>(s.dram_write_bits) * e.dram_pj;
  s.energy_core_nj = core_pj * 1e-3;
  s.energy_sram_nj = sram_pj * 1e-3;
  s.energy_dram_nj = dram_pj * 1e-3;
  s.energy_total_nj = s.energy_core_nj + s.energy_sram_nj + s.energy_dram_nj;

  s.tile_b = t.b;
  s.tile_oh = t.oh;
  s.tile_ow = t.ow;
  s.tile_ic = t.ic;
  s.tile_oc = t.oc;
  s.num_tiles = facts->num_tiles;
  for (int i = 0; i < kNumLoops; ++i) s.loop_order[i] = static_cast<BitFusionLoop>(order[i]);
  s.order_index = order_index;
  s.dataflow = facts->dataflow;

  ev.search_energy_pj = SearchEnergyPj(e, s.compute_cycles, s.wbuf_read_bits, s.wbuf_write_bits,
                                       s.ibuf_read_bits, s.ibuf_write_bits, s.obuf_read_bits,
                                       s.obuf_write_bits, s.dram_read_bits, s.dram_write_bits);
  return ev;
}

[[noreturn]] void ThrowNoTiling(const Problem& p) {
  const BitFusionConvShape& s = p.shape;
  throw util::InputError("bitfusion: no tiling fits half of each buffer for a " +
                         std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) + " conv " +
                         std::to_string(s.in_channels) + "->" + std::to_string(s.out_channels) +
                         " at w" + std::to_string(p.w_bits) + "/a" + std::to_string(p.a_bits));
}

// ---------------------------------------------------------------------------
// Fast search.
//
// Loops whose trip count is 1 change nothing in the DRAM walk, and OW/OH with
// equal trip counts are interchangeable, so for a given tiling many of the 120
// orders give identical results. Orders are grouped into classes by the sequence
// of their non-trivial loops (OW and OH merged when their counts match); each
// class is evaluated once and represented by its first order (the one the
// published search would have kept on a tie). Tilings are visited by a lower
// bound on their cycles, and the search stops once the bound exceeds the best.

struct OrderClass {
  int order_index = 0;
  int num_loops = 0;
  std::array<int8_t, kNumLoops> inner_first{};  // the class's non-trivial loops
};

// Classes of loop orders for each set of non-trivial loops (5-bit mask) and
// whether OW and OH are interchangeable (bit 5).
const std::vector<OrderClass>& OrderClasses(unsigned key) {
  static const std::array<std::vector<OrderClass>, 64> tables = [] {
    std::array<std::vector<OrderClass>, 64> out;
    for (unsigned k = 0; k < 64; ++k) {
      const unsigned mask = k & 31u;
      const bool merge = (k & 32u) != 0;
      std::vector<int> seen_signatures;
      for (int oi = 0; oi < kNumOrders; ++oi) {
        const Order& order = AllOrders()[oi];
        OrderClass c;
        c.order_index = oi;
        int signature = 0;
        for (int pos = kNumLoops - 1; pos >= 0; --pos) {
          const int loop = order[pos];
          if (!(mask & (1u << loop))) continue;
          const int symbol = (merge && loop == kLoopOh) ? kLoopOw : loop;
          signature = signature * 8 + symbol + 1;
          c.inner_first[c.num_loops++] = static_cast<int8_t>(loop);
        }
        if (std::find(seen_signatures.begin(), seen_signatures.end(), signature) !=
            seen_signatures.end()) {
          continue;
        }
        seen_signatures.push_back(signature);
        out[k].push_back(c);
      }
    }
    return out;
  }();
  return tables[key];
}

struct Candidate {
  int64_t lower_bound = 0;
  int64_t tiling_index = 0;
  Tiling tiling;
  TileFacts facts;
};

// Walk of one namespace over a class's non-trivial loops, innermost first.
inline void WalkSpace(int ns, int64_t footprint, int64_t half, const OrderClass& c,
                      const std::array<int64_t, kNumLoops>& num, int64_t* total,
                      int64_t* resident) {
  int64_t size = footprint;
  int64_t fits = footprint;
  int pos = 0;
  for (; pos < c.num_loops; ++pos) {
    const int loop = c.inner_first[pos];
    if (!kIndexes[loop][ns]) continue;
    size *= num[loop];
    if (size > half) break;
    fits = size;
  }
  if (pos < c.num_loops) {
    for (++pos; pos < c.num_loops; ++pos) size *= num[c.inner_first[pos]];
  }
  *total = size;
  *resident = fits;
}

BitFusionStats FastSearch(const Problem& p) {
  const TileOptions opt = MakeTileOptions(p);
  const int64_t n_o = static_cast<int64_t>(opt.o.size());
  const int64_t n_ic = static_cast<int64_t>(opt.ic.size());
  const int64_t n_oc = static_cast<int64_t>(opt.oc.size());

  std::vector<Candidate> candidates;
  candidates.reserve(256);
  for (size_t ib = 0; ib < opt.b.size(); ++ib) {
    for (int64_t io = 0; io < n_o; ++io) {
      const auto o = opt.o[io];
      for (int64_t iic = 0; iic < n_ic; ++iic) {
        // Footprints grow with every tile size: once the input tile overflows,
        // larger ic only overflow too; likewise oc for weights and outputs.
        if (InputFootprint(p, opt.b[ib], o.first, o.second, opt.ic[iic]) > p.half_bits[kAct]) break;
        for (int64_t ioc = 0; ioc < n_oc; ++ioc) {
          const int64_t oc = opt.oc[ioc];
          if (WeightFootprint(p, opt.ic[iic], oc) > p.half_bits[kWgt] ||
              OutputFootprint(p, opt.b[ib], o.first, o.second, oc) > p.half_bits[kOut]) {
            break;
          }
          Candidate c;
          c.tiling = MakeTiling(p, opt.b[ib], o, opt.ic[iic], oc);
          std::optional<TileFacts> facts = MakeTileFacts(p, c.tiling);
          if (!facts) continue;
          c.facts = *facts;
          c.tiling_index = ((static_cast<int64_t>(ib) * n_o + io) * n_ic + iic) * n_oc + ioc;
          // cycles >= compute + first-load + last-store, and every resident size is
          // at least the footprint; cycles >= all DRAM traffic / width, and each
          // namespace moves at least its whole tensor once (reads and writes).
          const auto& fp = c.facts.footprint;
          const int64_t bound_latency = c.facts.compute_cycles +
                                        CeilDiv(fp[kWgt] + fp[kAct] + fp[kOut], p.width_bits) +
                                        CeilDiv(fp[kOut], p.width_bits);
          std::array<int64_t, kNumSpaces> whole = fp;
          for (int loop = 0; loop < kNumLoops; ++loop) {
            for (int ns = 0; ns < kNumSpaces; ++ns) {
              if (kIndexes[loop][ns]) whole[ns] *= c.tiling.num[loop];
            }
          }
          const int64_t bound_traffic =
              CeilDiv(whole[kWgt] + whole[kAct] + 2 * whole[kOut], p.width_bits);
          c.lower_bound = std::max(bound_latency, bound_traffic);
          candidates.push_back(c);
        }
      }
    }
  }
  if (candidates.empty()) ThrowNoTiling(p);
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& x, const Candidate& y) {
    return x.lower_bound != y.lower_bound ? x.lower_bound < y.lower_bound
                                          : x.tiling_index < y.tiling_index;
  });

  bool have_best = false;
  int64_t best_cycles = 0;
  double best_energy = 0.0;
  int best_order = 0;
  int64_t best_tiling_index = 0;
  const Candidate* best_candidate = nullptr;
  for (const Candidate& cand : candidates) {
    if (have_best && cand.lower_bound > best_cycles) break;
    const Tiling& t = cand.tiling;
    const TileFacts& f = cand.facts;
    unsigned key = 0;
    for (int loop = 0; loop < kNumLoops; ++loop) {
      if (t.num[loop] > 1) key |= 1u << loop;
    }
    if (t.num[kLoopOw] == t.num[kLoopOh]) key |= 32u;
    for (const OrderClass& oc : OrderClasses(key)) {
      Traffic tr;
      for (int ns = 0; ns < kNumSpaces; ++ns) {
        WalkSpace(ns, f.footprint[ns], p.half_bits[ns], oc, t.num, &tr.total[ns], &tr.resident[ns]);
      }
      const Timing timing = MakeTiming(p, f.compute_cycles, tr);
      if (have_best && timing.cycles > best_cycles) continue;
      const int64_t obuf = tr.total[kOut] + f.obuf_access;
      const double energy = SearchEnergyPj(
          p.energy, f.compute_cycles, f.wbuf_reads, tr.total[kWgt], f.ibuf_reads, tr.total[kAct],
          obuf, obuf, tr.total[kWgt] + tr.total[kAct] + tr.total[kOut], tr.total[kOut]);
      bool better = !have_best;
      if (!better) {
        if (timing.cycles != best_cycles) {
          better = timing.cycles < best_cycles;
        } else if (energy != best_energy) {
          better = energy < best_energy;
        } else if (oc.order_index != best_order) {
          better = oc.order_index < best_order;
        } else {
          better = cand.tiling_index < best_tiling_index;
        }
      }
      if (better) {
        have_best = true;
        best_cycles = timing.cycles;
        best_energy = energy;
        best_order = oc.order_index;
        best_tiling_index = cand.tiling_index;
        best_candidate = &cand;
      }
    }
  }
  return EvaluateMapping(p, best_candidate->tiling, best_order)->stats;
}

// ---------------------------------------------------------------------------
// Memo cache.

struct CacheKey {
  BitFusionConvShape shape;
  int w_bits = 0;
  int a_bits = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t width_bits = 0;
  int64_t psum_bits = 0;
  std::array<int64_t, kNumSpaces> half_bits{};
  std::array<double, 8> energy{};

  bool operator==(const CacheKey&) const = default;
};

CacheKey MakeCacheKey(const Problem& p) {
  CacheKey k;
  k.shape = p.shape;
  k.w_bits = p.w_bits;
  k.a_bits = p.a_bits;
  k.rows = p.rows;
  k.cols = p.cols;
  k.width_bits = p.width_bits;
  k.psum_bits = p.psum_bits;
  k.half_bits = p.half_bits;
  const EnergyPerBit& e = p.energy;
  k.energy = {e.core_per_cycle_pj, e.wbuf_read_pj, e.wbuf_write_pj, e.ibuf_read_pj,
              e.ibuf_write_pj,     e.obuf_read_pj, e.obuf_write_pj, e.dram_pj};
  return k;
}

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
    const BitFusionConvShape& s = k.shape;
    for (int64_t v : {s.batch, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.out_h, s.out_w,
                      s.in_channels, s.out_channels}) {
      mix(static_cast<uint64_t>(v));
    }
    mix(s.im2col ? 1 : 0);
    mix(static_cast<uint64_t>(k.w_bits) * 16 + static_cast<uint64_t>(k.a_bits));
    for (int64_t v : {k.rows, k.cols, k.width_bits, k.psum_bits}) mix(static_cast<uint64_t>(v));
    for (int64_t v : k.half_bits) mix(static_cast<uint64_t>(v));
    for (double v : k.energy) mix(std::bit_cast<uint64_t>(v));
    return static_cast<size_t>(h);
  }
};

// Bounded so a long-running process cannot grow it without limit.
constexpr size_t kMaxCacheEntries = size_t{1} << 16;

struct Cache {
  std::mutex mutex;
  std::unordered_map<CacheKey, BitFusionStats, CacheKeyHash> entries;
};

Cache& TheCache() {
  static Cache cache;
  return cache;
}

BitFusionStats Scaled(const BitFusionStats& s, int64_t factor) {
  BitFusionStats r = s;
  for (int64_t* v :
       {&r.cycles, &r.compute_cycles, &r.mem_stall_cycles, &r.memory_cycles, &r.wbuf_read_bits,
        &r.wbuf_write_bits, &r.ibuf_read_bits, &r.ibuf_write_bits, &r.obuf_read_bits,
        &r.obuf_write_bits, &r.dram_read_bits, &r.dram_write_bits}) {
    *v *= factor;
  }
  const double f = static_cast<double>(factor);
  for (double* v : {&r.energy_core_nj, &r.energy_sram_nj, &r.energy_dram_nj, &r.energy_total_nj}) {
    *v *= f;
  }
  return r;
}

// Sums counts and energies; the mapping diagnostics stay those of `a`.
BitFusionStats Sum(const BitFusionStats& a, const BitFusionStats& b) {
  BitFusionStats r = a;
  r.cycles += b.cycles;
  r.compute_cycles += b.compute_cycles;
  r.mem_stall_cycles += b.mem_stall_cycles;
  r.memory_cycles += b.memory_cycles;
  r.wbuf_read_bits += b.wbuf_read_bits;
  r.wbuf_write_bits += b.wbuf_write_bits;
  r.ibuf_read_bits += b.ibuf_read_bits;
  r.ibuf_write_bits += b.ibuf_write_bits;
  r.obuf_read_bits += b.obuf_read_bits;
  r.obuf_write_bits += b.obuf_write_bits;
  r.dram_read_bits += b.dram_read_bits;
  r.dram_write_bits += b.dram_write_bits;
  r.energy_core_nj += b.energy_core_nj;
  r.energy_sram_nj += b.energy_sram_nj;
  r.energy_dram_nj += b.energy_dram_nj;
  r.energy_total_nj += b.energy_total_nj;
  return r;
}

}  // namespace

const char* BitFusionLoopName(BitFusionLoop loop) {
  const int i = static_cast<int>(loop);
  return (i >= 0 && i < kNumLoops) ? kLoopNames[i] : "?";
}

std::string BitFusionLoopOrderString(const BitFusionStats& stats) {
  std::string out;
  for (int i = 0; i < kNumLoops; ++i) {
    if (i) out += " > ";
    out += BitFusionLoopName(stats.loop_order[i]);
  }
  return out;
}

BitFusionStats SimulateBitFusionConvReference(const BitFusionConfig& cfg,
                                              const BitFusionConvShape& shape, int w_bits,
                                              int a_bits) {
  const Problem p = MakeProblem(cfg, shape, w_bits, a_bits);
  const TileOptions opt = MakeTileOptions(p);
  // optimize_for_order: the best tiling of every order, then the best order.
  std::optional<Evaluated> best;
  for (int oi = 0; oi < kNumOrders; ++oi) {
    std::optional<Evaluated> order_best;
    for (int64_t b : opt.b) {
      for (const auto& o : opt.o) {
        for (int64_t ic : opt.ic) {
          for (int64_t oc : opt.oc) {
            std::optional<Evaluated> ev = EvaluateMapping(p, MakeTiling(p, b, o, ic, oc), oi);
            if (!ev) continue;
            if (!order_best || order_best->stats.cycles > ev->stats.cycles ||
                (order_best->stats.cycles == ev->stats.cycles &&
                 order_best->search_energy_pj > ev->search_energy_pj)) {
              order_best = std::move(ev);
            }
          }
        }
      }
    }
    if (!order_best) continue;
    if (!best || best->stats.cycles > order_best->stats.cycles ||
        (best->stats.cycles == order_best->stats.cycles &&
         best->search_energy_pj > order_best->search_energy_pj)) {
      best = std::move(order_best);
    }
  }
  if (!best) ThrowNoTiling(p);
  return best->stats;
}

BitFusionStats SimulateBitFusionConvUncached(const BitFusionConfig& cfg,
                                             const BitFusionConvShape& shape, int w_bits,
                                             int a_bits) {
  return FastSearch(MakeProblem(cfg, shape, w_bits, a_bits));
}

BitFusionStats SimulateBitFusionConv(const BitFusionConfig& cfg, const BitFusionConvShape& shape,
                                     int w_bits, int a_bits) {
  const Problem p = MakeProblem(cfg, shape, w_bits, a_bits);
  const CacheKey key = MakeCacheKey(p);
  Cache& cache = TheCache();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    const auto it = cache.entries.find(key);
    if (it != cache.entries.end()) return it->second;
  }
  BitFusionStats stats = FastSearch(p);
  std::lock_guard<std::mutex> lock(cache.mutex);
  if (cache.entries.size() >= kMaxCacheEntries) cache.entries.clear();
  cache.entries.emplace(key, stats);
  return stats;
}

BitFusionStats SimulateBitFusionConv(const BitFusionConfig& cfg, int64_t batch, int64_t K,
                                     int64_t O, int64_t S, int64_t IC, int64_t OC, bool im2col,
                                     int w_bits, int a_bits) {
  BitFusionConvShape shape;
  shape.batch = batch;
  shape.kernel_h = shape.kernel_w = K;
  shape.stride_h = shape.stride_w = S;
  shape.out_h = shape.out_w = O;
  shape.in_channels = IC;
  shape.out_channels = OC;
  shape.im2col = im2col;
  return SimulateBitFusionConv(cfg, shape, w_bits, a_bits);
}

void ClearBitFusionCache() {
  Cache& cache = TheCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.entries.clear();
}

size_t BitFusionCacheSize() {
  Cache& cache = TheCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  return cache.entries.size();
}

BitFusionStats SimulateBitFusionLayer(const BitFusionConfig& cfg, const LayerShape& layer,
                                      int w_bits, int a_bits) {
  CheckBitsInRange("w_bits", w_bits);
  CheckBitsInRange("a_bits", a_bits);
  Validate(layer);
  BitFusionConvShape shape;
  shape.batch = layer.batch;
  shape.kernel_h = layer.kernel_h;
  shape.kernel_w = layer.kernel_w;
  shape.stride_h = layer.stride_h;
  shape.stride_w = layer.stride_w;
  shape.out_h = layer.out_h;
  shape.out_w = layer.out_w;
  switch (layer.kind) {
    case LayerKind::kFc: {
      shape.kernel_h = shape.kernel_w = 1;
      shape.stride_h = shape.stride_w = 1;
      shape.out_h = shape.out_w = 1;
      shape.in_channels = layer.in_channels;
      shape.out_channels = layer.out_channels;
      return SimulateBitFusionConv(cfg, shape, w_bits, a_bits);
    }
    case LayerKind::kConv: {
      const int64_t groups = std::max<int64_t>(layer.groups, 1);
      shape.in_channels = layer.in_channels / groups;
      shape.out_channels = layer.out_channels / groups;
      shape.im2col = layer.is_first && cfg.first_layer_im2col;
      const BitFusionStats one = SimulateBitFusionConv(cfg, shape, w_bits, a_bits);
      return groups == 1 ? one : Scaled(one, groups);
    }
    case LayerKind::kDepthwise: {
      const int64_t channels = layer.in_channels;
      if (cfg.depthwise == DepthwiseMapping::kPerChannel) {
        shape.in_channels = shape.out_channels = 1;
        return Scaled(SimulateBitFusionConv(cfg, shape, w_bits, a_bits), channels);
      }
      const int64_t cols = std::max<int64_t>(cfg.cols, 1);
      const int64_t full_groups = channels / cols;
      const int64_t remainder = channels % cols;
      std::optional<BitFusionStats> total;
      if (full_groups > 0) {
        shape.in_channels = shape.out_channels = cols;
        total = Scaled(SimulateBitFusionConv(cfg, shape, w_bits, a_bits), full_groups);
      }
      if (remainder > 0) {
        shape.in_channels = shape.out_channels = remainder;
        const BitFusionStats rest = SimulateBitFusionConv(cfg, shape, w_bits, a_bits);
        total = total ? Sum(*total, rest) : rest;
      }
      return *total;
    }
  }
  throw util::InputError("bitfusion: unknown layer kind");
}

Cost EvaluateBitFusion(const BitFusionConfig& cfg, double clock_hz, const LayerShape& layer,
                       int w_bits, int a_bits) {
  if (!(clock_hz > 0.0)) {
    throw util::InputError("bitfusion: clock_hz: expected a positive frequency, got " +
                           std::to_string(clock_hz));
  }
  const BitFusionStats s = SimulateBitFusionLayer(cfg, layer, w_bits, a_bits);
  const EnergyPerBit e = MakeEnergy(cfg);
  Cost cost;
  cost.cycles = s.cycles;
  cost.seconds = static_cast<double>(s.cycles) / clock_hz;
  cost.compute_cycles = s.compute_cycles;
  cost.dram_read_bits = s.dram_read_bits;
  cost.dram_write_bits = s.dram_write_bits;
  auto buffer = [](const char* name, int64_t read_bits, int64_t write_bits, double read_pj,
                   double write_pj) {
    BufferCost b;
    b.name = name;
    b.read_bits = read_bits;
    b.write_bits = write_bits;
    b.read_pj = static_cast<double>(read_bits) * read_pj;
    b.write_pj = static_cast<double>(write_bits) * write_pj;
    return b;
  };
  cost.buffers.push_back(
      buffer("weight", s.wbuf_read_bits, s.wbuf_write_bits, e.wbuf_read_pj, e.wbuf_write_pj));
  cost.buffers.push_back(
      buffer("input", s.ibuf_read_bits, s.ibuf_write_bits, e.ibuf_read_pj, e.ibuf_write_pj));
  cost.buffers.push_back(
      buffer("output", s.obuf_read_bits, s.obuf_write_bits, e.obuf_read_pj, e.obuf_write_pj));
  cost.has_energy = true;
  cost.compute_pj = static_cast<double>(s.compute_cycles) * e.core_per_cycle_pj;
  cost.dram_pj = static_cast<double>(s.dram_read_bits) * e.dram_pj +
                 static_cast<double>(s.dram_write_bits) * e.dram_pj;
  cost.bound = s.memory_cycles > s.compute_cycles ? Bound::kMemory : Bound::kCompute;
  return cost;
}

}  // namespace haq::hw
