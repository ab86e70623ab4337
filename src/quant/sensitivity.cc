#include "quant/sensitivity.h"

#include <fmt/format.h>

#include <cmath>

#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::quant {

using json = nlohmann::json;

namespace {

constexpr int64_t kVersion = 1;

void CheckBits(int bits, int lowest) {
  if (bits < lowest || bits > 8) {
    throw util::InputError(fmt::format("sensitivity: expected bits {}..8, got {}", lowest, bits));
  }
}

std::array<double, 8> Errors(const json& j, const char* key, const std::string& where) {
  const std::string at = where + "." + key;
  const std::vector<double> v = util::JsonNumbers(util::JsonMember(j, key, where), at);
  if (v.size() != 8) {
    throw util::InputError(
        fmt::format("{}: expected 8 numbers (bits 1..8), got {}", at, v.size()));
  }
  std::array<double, 8> out{};
  for (size_t i = 0; i < 8; ++i) {
    if (!(v[i] >= 0)) {
      throw util::InputError(fmt::format("{}[{}]: expected a number >= 0, got {}", at, i, v[i]));
    }
    out[i] = v[i];
  }
  return out;
}

int64_t PositiveCount(const json& j, const char* key, const std::string& where) {
  const int64_t n = util::JsonField<int64_t>(j, key, where);
  if (n < 1) throw util::InputError(fmt::format("{}: {}: expected at least 1, got {}", where, key, n));
  return n;
}

double Finite(const json& j, const char* key, const std::string& where) {
  const double x = util::JsonField<double>(j, key, where);
  if (!std::isfinite(x)) throw util::InputError(fmt::format("{}: {}: expected a finite number", where, key));
  return x;
}

}  // namespace

double LayerSensitivity::WeightPerturbation(int bits) const {
  CheckBits(bits, 1);
  return weight_trace / static_cast<double>(weights) * weight_error[bits - 1];
}

double LayerSensitivity::InputPerturbation(int bits) const {
  CheckBits(bits, 0);
  if (bits == 0) return 0.0;
  return input_trace / static_cast<double>(inputs) * input_error[bits - 1];
}

json SensitivityTable::ToJson() const {
  json layers_json = json::array();
  for (const LayerSensitivity& l : layers) {
    layers_json.push_back({{"name", l.name},
                           {"weights", l.weights},
                           {"weight_trace", l.weight_trace},
                           {"weight_trace_se", l.weight_trace_se},
                           {"weight_error", l.weight_error},
                           {"inputs", l.inputs},
                           {"input_trace", l.input_trace},
                           {"input_trace_se", l.input_trace_se},
                           {"input_error", l.input_error}});
  }
  return {{"version", kVersion},     {"computed_for", computed_for}, {"probes", probes},
          {"converged", converged}, {"seconds", seconds},           {"layers", layers_json}};
}

SensitivityTable SensitivityTable::FromJson(const json& j, const std::string& where) {
  const int64_t version = util::JsonField<int64_t>(j, "version", where);
  if (version != kVersion) {
    throw util::InputError(fmt::format("{}: version: expected {}, got {}", where, kVersion, version));
  }
  SensitivityTable t;
  t.computed_for = util::JsonMember(j, "computed_for", where);
  if (!t.computed_for.is_object()) {
    throw util::InputError(fmt::format("{}: computed_for: expected an object, got {}", where,
                                       t.computed_for.dump()));
  }
  t.probes = PositiveCount(j, "probes", where);
  t.converged = util::JsonField<bool>(j, "converged", where);
  t.seconds = util::JsonField<double>(j, "seconds", where);
  const json& layers = util::JsonMember(j, "layers", where);
  if (!layers.is_array() || layers.empty()) {
    throw util::InputError(fmt::format("{}: layers: expected a non-empty array", where));
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string at = fmt::format("{}: layers[{}]", where, i);
    const json& lj = layers[i];
    LayerSensitivity l;
    l.name = util::JsonField<std::string>(lj, "name", at);
    l.weights = PositiveCount(lj, "weights", at);
    l.weight_trace = Finite(lj, "weight_trace", at);
    l.weight_trace_se = Finite(lj, "weight_trace_se", at);
    l.weight_error = Errors(lj, "weight_error", at);
    l.inputs = PositiveCount(lj, "inputs", at);
    l.input_trace = Finite(lj, "input_trace", at);
    l.input_trace_se = Finite(lj, "input_trace_se", at);
    l.input_error = Errors(lj, "input_error", at);
    t.layers.push_back(std::move(l));
  }
  return t;
}

SensitivityTable ReadSensitivity(const std::filesystem::path& path, const json& expected,
                                 const std::vector<std::string>& layer_names) {
  const std::string where = path.string();
  SensitivityTable t = SensitivityTable::FromJson(util::ReadJsonFile(path), where);
  for (const auto& [key, value] : expected.items()) {
    if (!t.computed_for.contains(key)) {
      throw util::InputError(fmt::format("{}: computed_for: missing field '{}'", where, key));
    }
    if (t.computed_for.at(key) != value) {
      throw util::InputError(fmt::format(
          "{}: computed_for.{}: the table was computed for {}, this run has {}; delete the file "
          "to compute it afresh",
          where, key, t.computed_for.at(key).dump(), value.dump()));
    }
  }
  if (t.layers.size() != layer_names.size()) {
    throw util::InputError(fmt::format("{}: layers: expected the model's {} layers, got {}", where,
                                       layer_names.size(), t.layers.size()));
  }
  for (size_t i = 0; i < layer_names.size(); ++i) {
    if (t.layers[i].name != layer_names[i]) {
      throw util::InputError(fmt::format("{}: layers[{}].name: expected '{}' (the model's), got '{}'",
                                         where, i, layer_names[i], t.layers[i].name));
    }
  }
  return t;
}

void WriteSensitivity(const std::filesystem::path& path, const SensitivityTable& table) {
  util::WriteFileAtomic(path, table.ToJson().dump(2) + "\n");
}

}  // namespace haq::quant
