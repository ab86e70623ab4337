#pragma once
/// Per-layer quantization sensitivity (HAWQ-style, docs/SEARCH.md "Sensitivity"):
/// for each quantizable layer, Hutchinson estimates of the Hessian trace of the loss
/// with respect to the layer's weight and to its input activation, and the squared
/// quantization error of each at every width. The expected loss increase of
/// quantizing a tensor T of n values at b bits is then estimated as
/// tr(H_T) / n x ||Q_b(T) - T||^2 (the second-order term for an error spread evenly
/// over T's values). The table is plain data (no LibTorch; quant/hessian.h computes
/// it) so the ILP, the report and `haq sensitivity` share it; it is written as JSON
/// with the settings it was computed for, and a run refuses a table computed for
/// another model, split or seed.
#include <array>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace haq::quant {

struct LayerSensitivity {
  std::string name;
  int64_t weights = 0;          ///< values in the weight
  double weight_trace = 0.0;    ///< estimate of tr(H_W)
  double weight_trace_se = 0.0; ///< its standard error over the probes
  /// ||Q_b(W) - W||^2 of the trained weight, b = 1..8 (index b - 1).
  std::array<double, 8> weight_error{};
  int64_t inputs = 0;           ///< input values over the images
  double input_trace = 0.0;     ///< estimate of tr(H_x), x the layer's input on the images
  double input_trace_se = 0.0;
  /// ||Q_b(x) - x||^2 over the images with the run's calibrated clips, b = 1..8.
  std::array<double, 8> input_error{};

  /// tr(H_W) / n x ||Q_b(W) - W||^2, bits 1..8.
  double WeightPerturbation(int bits) const;
  /// tr(H_x) / n x ||Q_b(x) - x||^2; 0 for bits 0 (input left unquantized).
  double InputPerturbation(int bits) const;
};

struct SensitivityTable {
  /// What the table was computed for (model, data split, seed, images, options);
  /// a run compares it field by field with its own.
  nlohmann::json computed_for = nlohmann::json::object();
  int64_t probes = 0;           ///< Hutchinson probes used
  bool converged = false;       ///< every trace reached the tolerance before the cap
  double seconds = 0.0;         ///< wall time of the computation
  std::vector<LayerSensitivity> layers;

  nlohmann::json ToJson() const;
  /// Throws util::InputError naming `where` and the field.
  static SensitivityTable FromJson(const nlohmann::json& j, const std::string& where);
};

/// Reads `path`, checks that it was computed for `expected` (every field of it equal;
/// InputError "PATH: computed_for.FIELD: the table was computed for A, this run has B")
/// and that its layers are `layer_names` in order.
SensitivityTable ReadSensitivity(const std::filesystem::path& path, const nlohmann::json& expected,
                                 const std::vector<std::string>& layer_names);

/// The run directory's copy of the ILP's sensitivity table.
inline constexpr const char* kSensitivityFile = "sensitivity.json";

/// Writes `table` to `path` atomically.
void WriteSensitivity(const std::filesystem::path& path, const SensitivityTable& table);

}  // namespace haq::quant
