#pragma once
/// Hardware specifications: parsed from YAML (with `version:`) into immutable
/// structs by a pure function, apart from evaluation. Unknown keys are errors.
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace haq::hw {

/// How a depthwise convolution is laid onto an array that has no native support.
enum class DepthwiseMapping {
  /// Channels in independent dense groups of the array's width (BISMO cloud,
  /// reproducing HAQ's released table).
  kGroupedDense,
  /// Every channel as its own 1-input, 1-output convolution.
  kPerChannel,
};

/// Bit-serial matrix multiplication overlay (Umuroglu et al., FPL 2018).
struct BismoConfig {
  int64_t dm = 16;               ///< rows of the PE array (activation-tile rows)
  int64_t dn = 16;               ///< columns of the PE array (weight-tile rows)
  int64_t dk_bits = 256;         ///< K-slice width in bits (one stream word)
  int64_t buffer_words = 16384;  ///< capacity of each operand buffer, in dk-bit words
  DepthwiseMapping depthwise = DepthwiseMapping::kGroupedDense;
};

/// Per-access energies of one SRAM buffer, as CACTI reports them.
struct BufferEnergy {
  double read_pj = 0.0;   ///< per access of `access_bits`
  double write_pj = 0.0;  ///< per access of `access_bits`
};

/// Bit Fusion (Sharma et al., ISCA 2018), following the authors' published
/// cost model.
struct BitFusionConfig {
  int64_t rows = 16;               ///< N: reduction (input-channel) direction
  int64_t cols = 32;               ///< M: output channels
  int64_t dram_bits_per_cycle = 192;
  int64_t weight_buffer_bytes = 65536;
  int64_t input_buffer_bytes = 32768;
  int64_t output_buffer_bytes = 16384;
  int64_t psum_bits = 32;
  bool first_layer_im2col = true;
  DepthwiseMapping depthwise = DepthwiseMapping::kGroupedDense;
  // Energy table (45 nm).
  double core_pj_per_cycle = 235.104;
  double dram_pj_per_bit = 15.0;
  int64_t buffer_access_bits = 32;
  BufferEnergy weight_buffer{0.683701, 0.925317};
  BufferEnergy input_buffer{1.90318, 3.63853};
  BufferEnergy output_buffer{1.06097, 2.33869};
};

struct HardwareSpec {
  int version = 1;
  std::string name;
  std::string description;
  std::string kind;         ///< "bismo" or "bitfusion"
  double clock_hz = 0.0;
  int64_t batch = 1;        ///< default batch for cost tables
  std::string source;       ///< where it was read from: a path or "built-in:NAME"
  std::variant<BismoConfig, BitFusionConfig> config;
};

/// Parses a spec from YAML text. `source` names the origin in error messages
/// (`source:line: key.path: expected ..., got ...`). Throws util::InputError.
HardwareSpec ParseHardwareSpec(const std::string& yaml_text, const std::string& source);

/// Names of the built-in specs ("bismo-edge", "bismo-cloud", "bitfusion").
std::vector<std::string> BuiltinHardwareNames();

/// A built-in spec by name; throws util::InputError with a "did you mean" otherwise.
HardwareSpec BuiltinHardware(const std::string& name);

/// The YAML text of a built-in spec (for `haq list hw --show`).
const std::string& BuiltinHardwareYaml(const std::string& name);

/// A built-in name, or a path to a .yaml/.yml file.
HardwareSpec LoadHardware(const std::string& name_or_path);

/// The YAML text LoadHardware parses for `name_or_path` (to keep beside results).
std::string HardwareYaml(const std::string& name_or_path);

}  // namespace haq::hw
