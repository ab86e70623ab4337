#pragma once
/// Strict reading of YAML mappings: every key is typed and range-checked, unknown
/// keys are errors with a "did you mean", and every message names the place as
/// `source:line: key.path: expected ..., got ...`.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace haq::util {

/// Parses YAML text; a syntax error becomes InputError `source:line:col: ...`.
YAML::Node ParseYaml(const std::string& text, const std::string& source);

class YamlMap {
 public:
  /// `node` must be a mapping (else InputError). `path` is the dotted key path of
  /// `node` ("" for the document root).
  YamlMap(const YAML::Node& node, std::string source, std::string path);

  bool Has(const std::string& key) const;
  int64_t Int(const std::string& key, int64_t min, int64_t max) const;
  int64_t Int(const std::string& key, int64_t min, int64_t max, int64_t fallback) const;
  /// A finite number; `min_exclusive` excludes `min` itself (for "> 0").
  double Number(const std::string& key, double min, double max, bool min_exclusive = false) const;
  double Number(const std::string& key, double min, double max, bool min_exclusive,
                double fallback) const;
  bool Bool(const std::string& key, bool fallback) const;
  std::string String(const std::string& key) const;
  std::string String(const std::string& key, const std::string& fallback) const;
  /// One of `allowed`.
  std::string Choice(const std::string& key, const std::vector<std::string>& allowed) const;
  std::string Choice(const std::string& key, const std::vector<std::string>& allowed,
                     const std::string& fallback) const;
  YamlMap Map(const std::string& key) const;

  /// Throws on the first key not read by any accessor above (with "did you mean").
  void RejectUnknownKeys() const;

  /// "source:line: path.key" for messages about `key` (the key's line if present).
  std::string Where(const std::string& key) const;
  [[noreturn]] void Fail(const std::string& key, const std::string& expected,
                         const std::string& got) const;

 private:
  /// The value at `key` (YAML::Node is a handle: returned by value, never assigned
  /// to, since assignment writes through into the document).
  YAML::Node Required(const std::string& key) const;
  std::string KeyPath(const std::string& key) const;
  int Line(const std::string& key) const;

  YAML::Node node_;
  std::string source_;
  std::string path_;
  std::vector<std::string> keys_;  // in document order
  mutable std::set<std::string> used_;
};

/// How a scalar looks in messages: the text quoted, or "a mapping" / "a sequence".
std::string DescribeYaml(const YAML::Node& node);

}  // namespace haq::util
