#pragma once
/// Cost tables: for every quantizable layer and every (w, a) in 1..8, the layer's
/// cost on one hardware. Built once per (network, hardware); a policy's cost is
/// then a table sum.
#include <filesystem>
#include <string>
#include <vector>

#include "hw/cost.h"
#include "hw/cost_model.h"
#include "hw/layer_shape.h"
#include "hw/policy.h"

namespace haq::hw {

constexpr int kMaxBits = 8;

struct CostTable {
  std::string model;
  std::string hardware;
  std::vector<LayerShape> layers;
  /// Indexed [layer][w_bits - 1][a_bits - 1], row-major.
  std::vector<Cost> entries;

  const Cost& At(size_t layer, int w_bits, int a_bits) const;
};

/// Evaluates all layers x 64 bit pairs, spreading layers over `threads` threads.
CostTable BuildCostTable(const CostModel& model, const std::vector<LayerShape>& layers,
                         const std::string& model_name, int threads = 1);

/// Weight storage of a layer at `w_bits`, in bits.
inline int64_t WeightBits(const LayerShape& layer, int w_bits) {
  return layer.WeightCount() * w_bits;
}

/// Totals of a policy.
struct PolicyCost {
  std::vector<Cost> layers;  ///< per layer, at the policy's bits
  int64_t cycles = 0;
  double seconds = 0.0;
  bool has_energy = false;
  double energy_pj = 0.0;
  int64_t weight_bits = 0;
  int64_t dram_bits = 0;
};

/// Sums `policy` over `table` (policy must match the table's layers).
PolicyCost SumPolicy(const CostTable& table, const Policy& policy);
/// Evaluates `policy` layer by layer without building a whole table.
PolicyCost EvaluatePolicy(const CostModel& model, const std::vector<LayerShape>& layers,
                          const Policy& policy);

/// CSV: one row per layer and (w, a) pair.
void SaveCostTableCsv(const CostTable& table, const std::filesystem::path& path);
/// .npy in HAQ's layout: int64 cycles, shape [layers, 8, 8], index [layer, w-1, a-1].
void SaveCostTableNpy(const CostTable& table, const std::filesystem::path& path);
/// Saves by extension (.csv or .npy); anything else is an InputError.
void SaveCostTable(const CostTable& table, const std::filesystem::path& path);

}  // namespace haq::hw
