#include "util/yaml.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace haq::util {

YAML::Node ParseYaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file".
    throw InputError(fmt::format("{}:{}:{}: malformed YAML: nested deeper than {} levels",
                                 source, e.mark.line + 1, e.mark.column + 1, e.depth() - 1));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}:{}: malformed YAML: {}", source, e.mark.line + 1,
                                 e.mark.column + 1, e.msg));
  }
}

std::string DescribeYaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
  }
  return "?";
}

YamlMap::YamlMap(const YAML::Node& node, std::string source, std::string path)
    : node_(node), source_(std::move(source)), path_(std::move(path)) {
  if (!node_.IsMap()) {
    const int line = node_.Mark().line >= 0 ? node_.Mark().line + 1 : 1;
    throw InputError(fmt::format("{}:{}: {}: expected a mapping of keys to values, got {}",
                                 source_, line, path_.empty() ? "document" : path_,
                                 DescribeYaml(node_)));
  }
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      throw InputError(fmt::format("{}:{}: {}: expected keys that are plain names, got {}",
                                   source_, kv.first.Mark().line + 1,
                                   path_.empty() ? "document" : path_, DescribeYaml(kv.first)));
    }
    const std::string key = kv.first.as<std::string>();
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) {
      // yaml-cpp keeps both entries and lookups see the first: say so rather than
      // silently ignoring the second.
      throw InputError(fmt::format("{}:{}: {}: key given twice (first at line {})", source_,
                                   kv.first.Mark().line + 1, KeyPath(key), Line(key)));
    }
    keys_.push_back(key);
  }
}

std::string YamlMap::KeyPath(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

int YamlMap::Line(const std::string& key) const {
  for (const auto& kv : node_) {
    if (kv.first.as<std::string>() == key) return kv.first.Mark().line + 1;
  }
  return node_.Mark().line >= 0 ? node_.Mark().line + 1 : 1;
}

std::string YamlMap::Where(const std::string& key) const {
  return fmt::format("{}:{}: {}", source_, Line(key), KeyPath(key));
}

void YamlMap::Fail(const std::string& key, const std::string& expected,
                   const std::string& got) const {
  throw InputError(fmt::format("{}: expected {}, got {}", Where(key), expected, got));
}

// yaml-cpp's non-const operator[] inserts missing keys: read through a const view.
bool YamlMap::Has(const std::string& key) const {
  const YAML::Node& view = node_;
  return view[key].IsDefined();
}

YAML::Node YamlMap::Required(const std::string& key) const {
  used_.insert(key);
  const YAML::Node& view = node_;
  YAML::Node value = view[key];
  if (!value.IsDefined()) {
    const std::string typo = ClosestMatch(key, keys_);
    throw InputError(fmt::format("{}:{}: {}: required key '{}' not found{}. Found keys: {}",
                                 source_, Line(key), path_.empty() ? "document" : path_, key,
                                 typo.empty() ? "" : " (is '" + typo + "' a misspelling?)",
                                 keys_.empty() ? "none" : JoinNames(keys_)));
  }
  return value;
}

int64_t YamlMap::Int(const std::string& key, int64_t min, int64_t max) const {
  const YAML::Node v = Required(key);
  const std::string expected = max == std::numeric_limits<int64_t>::max()
                                   ? fmt::format("an integer >= {}", min)
                                   : fmt::format("an integer in {}..{}", min, max);
  int64_t value = 0;
  if (!v.IsScalar() || !YAML::convert<int64_t>::decode(v, value)) {
    Fail(key, expected, DescribeYaml(v));
  }
  if (value < min || value > max) Fail(key, expected, std::to_string(value));
  return value;
}

int64_t YamlMap::Int(const std::string& key, int64_t min, int64_t max, int64_t fallback) const {
  used_.insert(key);
  return Has(key) ? Int(key, min, max) : fallback;
}

double YamlMap::Number(const std::string& key, double min, double max, bool min_exclusive) const {
  const YAML::Node v = Required(key);
  const std::string expected =
      max == std::numeric_limits<double>::max()
          ? fmt::format("a number {} {}", min_exclusive ? ">" : ">=", min)
          : fmt::format("a number {} {} and <= {}", min_exclusive ? ">" : ">=", min, max);
  double value = 0;
  if (!v.IsScalar() || !YAML::convert<double>::decode(v, value) || !std::isfinite(value)) {
    Fail(key, expected, DescribeYaml(v));
  }
  if (value < min || (min_exclusive && value == min) || value > max) {
    Fail(key, expected, v.Scalar());
  }
  return value;
}

double YamlMap::Number(const std::string& key, double min, double max, bool min_exclusive,
                       double fallback) const {
  used_.insert(key);
  return Has(key) ? Number(key, min, max, min_exclusive) : fallback;
}

bool YamlMap::Bool(const std::string& key, bool fallback) const {
  used_.insert(key);
  if (!Has(key)) return fallback;
  const YAML::Node v = Required(key);
  bool value = false;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, value)) {
    Fail(key, "true or false", DescribeYaml(v));
  }
  return value;
}

std::string YamlMap::String(const std::string& key) const {
  const YAML::Node v = Required(key);
  if (!v.IsScalar()) Fail(key, "a string", DescribeYaml(v));
  return v.Scalar();
}

std::string YamlMap::String(const std::string& key, const std::string& fallback) const {
  used_.insert(key);
  return Has(key) ? String(key) : fallback;
}

std::string YamlMap::Choice(const std::string& key, const std::vector<std::string>& allowed) const {
  const std::string value = String(key);
  for (const auto& a : allowed) {
    if (a == value) return value;
  }
  Fail(key, "one of " + JoinNames(allowed), "'" + value + "'" + DidYouMean(value, allowed));
}

std::string YamlMap::Choice(const std::string& key, const std::vector<std::string>& allowed,
                            const std::string& fallback) const {
  used_.insert(key);
  return Has(key) ? Choice(key, allowed) : fallback;
}

YamlMap YamlMap::Map(const std::string& key) const {
  const YAML::Node v = Required(key);
  if (!v.IsMap()) Fail(key, "a mapping of keys to values", DescribeYaml(v));
  return YamlMap(v, source_, KeyPath(key));
}

void YamlMap::RejectUnknownKeys() const {
  std::vector<std::string> known(used_.begin(), used_.end());
  for (const auto& key : keys_) {
    if (used_.count(key)) continue;
    throw InputError(fmt::format("{}: unknown key '{}'{}. Known keys here: {}", Where(key), key,
                                 DidYouMean(key, known), JoinNames(known)));
  }
}

}  // namespace haq::util
