#pragma once
/// Bit Fusion cost model (Sharma et al., "Bit Fusion: Bit-Level Dynamically
/// Composable Architecture for Accelerating Deep Neural Networks", ISCA 2018),
/// reproducing the per-layer behaviour of the authors' published Python model
/// (github hsharma35/bitfusion, `optimizer.get_stats_fast` and its exhaustive
/// tiling / loop-order search). Golden data: tests/data/bitfusion_reference_benchmarks.csv.
///
/// Per layer the model searches every tiling (b, o, ic, oc, each a clamped power of
/// two; oc a power-of-two multiple of the array's columns unless im2col) and all 120
/// orders of the tile loops {B, OW, OH, IC, OC}; it keeps the candidate with the
/// fewest cycles, then the least energy, then the first seen. Loop orders are
/// visited in `itertools.permutations` order of (B, OW, OH, IC, OC), outermost loop
/// first (the published code iterates a Python set of them, whose order depends on
/// string hashing; this only matters for exact ties in both cycles and energy), and
/// within an order tilings in the published nest (b outer, then o, ic, oc).
///
/// Counts are exact integers (the published model's float `ceil` is exact for
/// values below 2^53). Energies are priced from the config's energy table: buffer
/// energies per bit are `read_pj / buffer_access_bits`.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "hw/cost.h"
#include "hw/layer_shape.h"
#include "hw/spec.h"

namespace haq::hw {

/// The tile loops, numbered as in the published model's list
/// ['B/b', 'OW/ow', 'OH/oh', 'IC/ic', 'OC/oc'].
enum class BitFusionLoop : int8_t { kBatch = 0, kOutW = 1, kOutH = 2, kInC = 3, kOutC = 4 };

/// Name of a loop as the published model spells it ("B/b", "OW/ow", ...).
const char* BitFusionLoopName(BitFusionLoop loop);

/// On-chip dataflow chosen per tiling by the published model's access proxies.
/// With weight and activation bits <= 8 it is always output-stationary.
enum class BitFusionDataflow : int8_t { kInputStationary, kOutputStationary, kWeightStationary };

/// One convolution as the Bit Fusion model sees it. The published model only has
/// square kernels/outputs/strides (K, O, S); this generalises them with separate
/// heights and widths: output tiles are o_h = min(2^i, out_h), o_w = min(2^i, out_w)
/// with one shared index i in 0..ceil(log2(max(out_h, out_w))), the input tile is
/// (kernel_w + (o_w-1)*stride_w) x (kernel_h + (o_h-1)*stride_h), and kernel_h*kernel_w
/// replaces K*K everywhere. Square shapes give exactly the published results.
/// A fully connected layer is kernel = out = stride = 1.
struct BitFusionConvShape {
  int64_t batch = 1;
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t out_h = 1;
  int64_t out_w = 1;
  int64_t in_channels = 1;
  int64_t out_channels = 1;
  /// The layer is computed in im2col form (the published model does this for the
  /// network's first conv): the reduction is kernel_h*kernel_w*in_channels long,
  /// output-channel tiles are any power of two.
  bool im2col = false;

  bool operator==(const BitFusionConvShape&) const = default;
};

/// The published model's per-layer outputs plus the chosen mapping.
/// All bit counts are totals for the layer (whole batch).
struct BitFusionStats {
  int64_t cycles = 0;            ///< compute + mem_stall_cycles
  int64_t compute_cycles = 0;    ///< cycles the array is busy
  int64_t mem_stall_cycles = 0;  ///< max(0, memory - compute) + first-load + last-store
  /// ceil(middle DRAM traffic / width) + first-load + last-store: all cycles the
  /// DRAM interface is busy (not in the published output; used for Cost::bound).
  int64_t memory_cycles = 0;
  int64_t wbuf_read_bits = 0;
  int64_t wbuf_write_bits = 0;
  int64_t ibuf_read_bits = 0;
  int64_t ibuf_write_bits = 0;
  int64_t obuf_read_bits = 0;
  int64_t obuf_write_bits = 0;
  int64_t dram_read_bits = 0;
  int64_t dram_write_bits = 0;
  double energy_core_nj = 0.0;   ///< compute_cycles x core energy per cycle
  double energy_sram_nj = 0.0;   ///< weight, input, output buffers (read then write)
  double energy_dram_nj = 0.0;   ///< (read + write bits) x DRAM energy per bit
  double energy_total_nj = 0.0;  ///< core + sram + dram

  // Diagnostics: the chosen mapping (of one call; scaled results keep it).
  int64_t tile_b = 0;
  int64_t tile_oh = 0;
  int64_t tile_ow = 0;
  int64_t tile_ic = 0;
  int64_t tile_oc = 0;
  int64_t num_tiles = 0;  ///< edge tiles counted as full
  /// Loop order, outermost first.
  std::array<BitFusionLoop, 5> loop_order{};
  /// Index of `loop_order` in itertools.permutations order (0..119).
  int order_index = 0;
  BitFusionDataflow dataflow = BitFusionDataflow::kOutputStationary;

  bool operator==(const BitFusionStats&) const = default;
};

/// "OC/oc > B/b > ..." (outermost first) for diagnostics.
std::string BitFusionLoopOrderString(const BitFusionStats& stats);

/// The published model on one square conv layer (fully connected: K = O = S = 1),
/// at batch `batch`, `w_bits` weight and `a_bits` activation bits, each in 1..8.
/// Throughput uses max(bits, 2) (so 1 counts as 2, 3 as 4, 5..7 as 8); storage and
/// traffic use the true bits. Results are memoised in a process-wide, thread-safe
/// cache keyed on every argument (and every config field the model reads).
/// Throws util::InputError on bits outside 1..8, non-positive sizes, or a layer for
/// which no tiling fits the buffers.
BitFusionStats SimulateBitFusionConv(const BitFusionConfig& cfg, int64_t batch, int64_t K,
                                     int64_t O, int64_t S, int64_t IC, int64_t OC, bool im2col,
                                     int w_bits, int a_bits);

/// As above for a (possibly non-square) shape; cached.
BitFusionStats SimulateBitFusionConv(const BitFusionConfig& cfg, const BitFusionConvShape& shape,
                                     int w_bits, int a_bits);

/// The fast search without the memo cache (for benchmarks and tests).
BitFusionStats SimulateBitFusionConvUncached(const BitFusionConfig& cfg,
                                             const BitFusionConvShape& shape, int w_bits,
                                             int a_bits);

/// REFERENCE IMPLEMENTATION: a direct, unoptimised transcription of the published
/// search (every loop order, every tiling, a full DRAM walk for each). Slow; it
/// exists so tests can prove the fast path returns identical results.
BitFusionStats SimulateBitFusionConvReference(const BitFusionConfig& cfg,
                                              const BitFusionConvShape& shape, int w_bits,
                                              int a_bits);

/// Empties the memo cache (benchmarks use it to time uncached searches).
void ClearBitFusionCache();

/// Number of entries currently memoised.
size_t BitFusionCacheSize();

/// Cost of one quantizable layer on Bit Fusion, at the layer's own batch.
///
/// Mapping of a LayerShape onto the published model:
/// - kConv with groups == 1, and kFc: one call. im2col is used when
///   `layer.is_first && cfg.first_layer_im2col` and the layer is a conv (the
///   published model never uses im2col for a fully connected layer).
/// - kConv with groups G > 1: G identical dense convs of in/G -> out/G channels,
///   run one after another (the published model ignores groups): every count and
///   energy is G x one call.
/// - kDepthwise (C channels), by `cfg.depthwise`:
///   - kPerChannel: each channel is its own 1-in/1-out conv, run one after another;
///     the C calls are identical, so one is simulated and every count and energy is
///     multiplied by C. Faithful to the array (one column busy, pf does not help).
///   - kGroupedDense: floor(C / cols) groups of `cols` channels, each computed as a
///     dense conv with in = out = cols (zero weights off the diagonal), plus one
///     dense conv of in = out = C mod cols for the remainder; their counts and
///     energies add.
///
/// Fills every Cost field: cycles, seconds = cycles / clock_hz, compute cycles,
/// DRAM bits, buffers {"weight", "input", "output"} with bits and pJ, has_energy,
/// compute_pj, dram_pj (energies in pJ), bound = kMemory when the DRAM interface is
/// busy for more cycles than the array (memory_cycles > compute_cycles), else
/// kCompute. Throws util::InputError on bits outside 1..8 or an invalid shape.
Cost EvaluateBitFusion(const BitFusionConfig& cfg, double clock_hz, const LayerShape& layer,
                       int w_bits, int a_bits);

/// The summed BitFusionStats behind EvaluateBitFusion (same mapping), for
/// diagnostics and tests.
BitFusionStats SimulateBitFusionLayer(const BitFusionConfig& cfg, const LayerShape& layer,
                                      int w_bits, int a_bits);

}  // namespace haq::hw
