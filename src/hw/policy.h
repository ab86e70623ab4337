#pragma once
/// A quantization policy: weight and activation bits for every quantizable layer.
#include <filesystem>
#include <string>
#include <vector>

#include "hw/layer_shape.h"

namespace haq::hw {

struct LayerBits {
  std::string name;  ///< may be empty (HAQ's list form carries no names)
  int w_bits = 8;
  /// 0 = activations not quantized (full precision), e.g. the network's input.
  int a_bits = 8;
};

struct Policy {
  std::vector<LayerBits> layers;
  /// Where it came from, for messages ("policy.json", "--bits 8").
  std::string source;
};

/// Every layer at `w_bits`/`a_bits`, named after `layers`.
Policy UniformPolicy(const std::vector<LayerShape>& layers, int w_bits, int a_bits);

/// Parses JSON: either {"layers": [{"name": ..., "w_bits": W, "a_bits": A}, ...]}
/// (other top-level keys: "version", "model", "hardware", "note" — informational)
/// or HAQ's list form [[W, A], ...] with A = -1 for an unquantized input.
/// Bits must be integers in 1..8 (a_bits also 0 or -1 = not quantized).
/// Throws util::InputError naming `source`, the position and the field.
Policy ParsePolicy(const std::string& json_text, const std::string& source);
Policy LoadPolicy(const std::filesystem::path& path);

/// Checks that `policy` has one entry per layer and, where it names layers, the
/// same names in the same order. Throws util::InputError.
void CheckPolicyMatches(const Policy& policy, const std::vector<LayerShape>& layers,
                        const std::string& model_name);

/// JSON text of `policy` with the layer names of `layers` (object form, version 1).
std::string PolicyToJson(const Policy& policy, const std::string& model_name,
                         const std::string& hardware_name);

/// The activation bits a cost model is charged for: unquantized inputs run at the
/// accelerator's widest mode, 8 bits.
inline int CostABits(const LayerBits& l) { return l.a_bits == 0 ? 8 : l.a_bits; }

}  // namespace haq::hw
