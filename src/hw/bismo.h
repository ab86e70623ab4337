#pragma once
/// BISMO bit-serial matrix multiplication overlay (Umuroglu, Rasnayake, Själander,
/// FPL 2018), scheduled as in the simulator behind HAQ's released latency table.
/// With the bismo-cloud spec it reproduces haq_qmobilenetv2_cloud_latency_table.npy
/// entry for entry.
///
/// A layer becomes binary matrix products: A (activations, M x K, a bits) times
/// W^T (weights, N x K, w bits), cut into tiles of dm (A) and dn (W) rows and K
/// slices of dk bits. One operand streams, the other stays resident in a buffer of
/// `buffer_words` dk-bit words; operands larger than that are cut greedily, in
/// whole tiles, into chunks, and every (resident chunk, streaming chunk) pair is a
/// block run back to back. Both dataflows are evaluated and the faster is used.
#include <cstdint>
#include <vector>

#include "hw/cost.h"
#include "hw/layer_shape.h"
#include "hw/spec.h"

namespace haq::hw {

/// One binary-matrix-product problem: A is m x k with a_bits, W is n x k with w_bits.
struct BismoProduct {
  int64_t m = 1;
  int64_t n = 1;
  int64_t k = 1;
};

/// A chunk: `tiles` consecutive tiles, each `rows` high except the last, which is
/// `last` high (a partial tile at the end of an operand). Every chunk the greedy
/// split makes has this form, which is what lets the model stay O(1) in the
/// operand's size.
struct BismoChunk {
  int64_t tiles = 1;
  int64_t rows = 1;
  int64_t last = 1;
  int64_t total_rows() const { return (tiles - 1) * rows + last; }
  /// The tile heights, one entry per tile (for tests and the simulator).
  std::vector<int64_t> Heights() const;
};

/// `count` identical chunks in a row.
struct BismoChunkRun {
  BismoChunk chunk;
  int64_t count = 1;
};

/// Cuts an operand of `total_rows` rows into tiles of `tile` rows (the last one
/// partial) and those greedily into chunks of at most `capacity_words` words, a tile
/// costing height*kw*bits words; a tile larger than the capacity forms a chunk by
/// itself. Returns the chunks in order as at most three runs, computed
/// arithmetically (an operand of 2^40 rows costs nothing more than one of 40).
std::vector<BismoChunkRun> BismoChunkRuns(int64_t total_rows, int64_t tile, int64_t kw,
                                          int64_t bits, int64_t capacity_words);

/// Cycles of one block in closed form, O(1). `x` is the streaming chunk, `y` the
/// resident one; kw the number of K slices; bx, by the bit planes of the streaming
/// and resident operands.
int64_t BismoBlockCycles(const BismoChunk& x, const BismoChunk& y, int64_t kw, int64_t bx,
                         int64_t by);

/// The same block simulated operation by operation, for any tile heights (reference
/// for tests; O(ops)).
int64_t BismoBlockCyclesSimulated(const std::vector<int64_t>& x_rows,
                                  const std::vector<int64_t>& y_rows, int64_t kw, int64_t bx,
                                  int64_t by);

/// Counts for one product under the faster dataflow.
struct BismoProductCost {
  int64_t cycles = 0;
  int64_t ops = 0;             ///< binary tile operations (pure compute cycles)
  int64_t a_words_fetched = 0; ///< dk-bit words streamed from DRAM for A
  int64_t w_words_fetched = 0; ///< likewise for W
  int64_t buffer_read_bits = 0;
  bool a_streams = true;       ///< the chosen dataflow
};

BismoProductCost BismoEvaluateProduct(const BismoConfig& cfg, const BismoProduct& p, int w_bits,
                                      int a_bits);

/// The layer's cost: products per the layer kind (see the .cc), times groups and
/// batch as the schedule requires.
Cost EvaluateBismo(const BismoConfig& cfg, double clock_hz, const LayerShape& layer, int w_bits,
                   int a_bits);

}  // namespace haq::hw
