#include "hw/policy.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::hw {

using nlohmann::json;

namespace {

std::string Describe(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

// Line and column of byte offset `pos` in `text` (1-based).
std::pair<size_t, size_t> LineColumn(const std::string& text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

int ReadBits(const json& v, const std::string& where, bool activation) {
  const char* expected = activation ? "an integer in 1..8 (0 or -1: not quantized)"
                                    : "an integer in 1..8";
  // Unsigned values above int64's range would wrap: they are out of range anyway.
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
    throw util::InputError(fmt::format("{}: expected {}, got {}", where, expected, Describe(v)));
  }
  const int64_t b = v.get<int64_t>();
  if (activation && (b == 0 || b == -1)) return 0;
  if (b < 1 || b > 8) {
    throw util::InputError(fmt::format("{}: expected {}, got {}", where, expected, b));
  }
  return static_cast<int>(b);
}

}  // namespace

Policy UniformPolicy(const std::vector<LayerShape>& layers, int w_bits, int a_bits) {
  Policy p;
  p.source = fmt::format("uniform w{}a{}", w_bits, a_bits);
  for (const auto& l : layers) p.layers.push_back({l.name, w_bits, a_bits});
  return p;
}

Policy ParsePolicy(const std::string& text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(text, util::RejectDuplicateKeys(source));
  } catch (const json::parse_error& e) {
    const auto [line, col] = LineColumn(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    // nlohmann's text starts "[json.exception.parse_error.101] parse error at line..."
    const auto colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    throw util::InputError(fmt::format("{}:{}:{}: malformed JSON: {}", source, line, col, what));
  } catch (const json::out_of_range& e) {  // a number beyond double's range, like 1E999
    throw util::InputError(fmt::format("{}: malformed JSON: {}", source, e.what()));
  }
  Policy p;
  p.source = source;
  const json* list = &doc;
  bool named = false;
  if (doc.is_object()) {
    static const std::vector<std::string> kKeys = {"version", "model", "hardware", "note", "layers",
                                                   "cost", "accuracy"};
    for (const auto& [key, value] : doc.items()) {
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
        throw util::InputError(fmt::format("{}: unknown key '{}'{}. Known keys: {}", source, key,
                                           util::DidYouMean(key, kKeys), util::JoinNames(kKeys)));
      }
    }
    if (doc.contains("version") && doc["version"] != 1) {
      throw util::InputError(
          fmt::format("{}: version: expected 1, got {}", source, Describe(doc["version"])));
    }
    if (!doc.contains("layers")) {
      throw util::InputError(fmt::format("{}: required key 'layers' not found", source));
    }
    list = &doc["layers"];
    named = true;
  }
  if (!list->is_array()) {
    throw util::InputError(fmt::format(
        "{}: {}expected a list of layers ({{\"name\", \"w_bits\", \"a_bits\"}} objects or "
        "[w_bits, a_bits] pairs), got {}",
        source, named ? "layers: " : "", Describe(*list)));
  }
  if (list->empty()) {
    throw util::InputError(fmt::format("{}: {}expected at least one layer, got none", source,
                                       named ? "layers: " : ""));
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const std::string where = fmt::format("{}: {}[{}]", source, named ? "layers" : "", i);
    LayerBits b;
    if (e.is_array()) {
      if (e.size() != 2) {
        throw util::InputError(fmt::format("{}: expected a [w_bits, a_bits] pair, got {}", where,
                                           Describe(e)));
      }
      b.w_bits = ReadBits(e[0], where + "[0] (w_bits)", false);
      b.a_bits = ReadBits(e[1], where + "[1] (a_bits)", true);
    } else if (e.is_object()) {
      static const std::vector<std::string> kLayerKeys = {"name", "w_bits", "a_bits", "kind"};
      for (const auto& [key, value] : e.items()) {
        if (std::find(kLayerKeys.begin(), kLayerKeys.end(), key) == kLayerKeys.end()) {
          throw util::InputError(fmt::format("{}: unknown key '{}'{}. Known keys: {}", where, key,
                                             util::DidYouMean(key, kLayerKeys),
                                             util::JoinNames(kLayerKeys)));
        }
      }
      for (const char* key : {"w_bits", "a_bits"}) {
        if (!e.contains(key)) {
          throw util::InputError(fmt::format("{}: required key '{}' not found", where, key));
        }
      }
      if (e.contains("name")) {
        if (!e["name"].is_string()) {
          throw util::InputError(
              fmt::format("{}.name: expected a string, got {}", where, Describe(e["name"])));
        }
        b.name = e["name"].get<std::string>();
      }
      b.w_bits = ReadBits(e["w_bits"], where + ".w_bits", false);
      b.a_bits = ReadBits(e["a_bits"], where + ".a_bits", true);
    } else {
      throw util::InputError(fmt::format(
          "{}: expected {{\"name\", \"w_bits\", \"a_bits\"}} or [w_bits, a_bits], got {}", where,
          Describe(e)));
    }
    p.layers.push_back(std::move(b));
  }
  return p;
}

Policy LoadPolicy(const std::filesystem::path& path) {
  return ParsePolicy(util::ReadFile(path, 64 << 20), path.string());
}

void CheckPolicyMatches(const Policy& policy, const std::vector<LayerShape>& layers,
                        const std::string& model_name) {
  if (policy.layers.size() != layers.size()) {
    throw util::InputError(fmt::format(
        "{}: expected {} layers (one per quantizable layer of {}), got {}", policy.source,
        layers.size(), model_name, policy.layers.size()));
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string& name = policy.layers[i].name;
    if (!name.empty() && name != layers[i].name) {
      throw util::InputError(fmt::format("{}: layers[{}].name: expected '{}' (layer {} of {}), got '{}'",
                                         policy.source, i, layers[i].name, i, model_name, name));
    }
  }
}

std::string PolicyToJson(const Policy& policy, const std::string& model_name,
                         const std::string& hardware_name) {
  json doc;
  doc["version"] = 1;
  doc["model"] = model_name;
  if (!hardware_name.empty()) doc["hardware"] = hardware_name;
  json list = json::array();
  for (const auto& l : policy.layers) {
    list.push_back({{"name", l.name}, {"w_bits", l.w_bits}, {"a_bits", l.a_bits}});
  }
  doc["layers"] = std::move(list);
  return doc.dump(2) + "\n";
}

}  // namespace haq::hw
