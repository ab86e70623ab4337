#pragma once
/// What a cost model says about one layer at one (weight, activation) bit pair.
/// Counts (cycles, bits moved) and energies are kept apart: the performance model
/// counts actions, the spec's energy table prices them.
#include <cstdint>
#include <string>
#include <vector>

namespace haq::hw {

/// Traffic and energy of one on-chip buffer.
struct BufferCost {
  std::string name;  ///< e.g. "weight", "input", "output", "lhs", "rhs"
  int64_t read_bits = 0;
  int64_t write_bits = 0;
  double read_pj = 0.0;
  double write_pj = 0.0;
  double EnergyPj() const { return read_pj + write_pj; }
};

/// The resource that bounds a layer's latency.
enum class Bound { kCompute, kMemory };
const char* BoundName(Bound bound);

struct Cost {
  int64_t cycles = 0;          ///< total latency in clock cycles
  double seconds = 0.0;        ///< cycles / clock
  int64_t compute_cycles = 0;  ///< cycles the compute array is busy
  int64_t dram_read_bits = 0;
  int64_t dram_write_bits = 0;
  std::vector<BufferCost> buffers;
  /// False when the hardware spec has no energy table (energies are then 0).
  bool has_energy = false;
  double compute_pj = 0.0;
  double dram_pj = 0.0;
  Bound bound = Bound::kCompute;

  double BufferPj() const;
  double EnergyPj() const { return compute_pj + BufferPj() + dram_pj; }
  int64_t DramBytes() const { return (dram_read_bits + dram_write_bits + 7) / 8; }
};

}  // namespace haq::hw
