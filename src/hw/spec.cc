#include "hw/spec.h"

#include <fmt/format.h>

#include <limits>

#include "util/error.h"
#include "util/file.h"
#include "util/yaml.h"

namespace haq::hw {

// Defined in the generated builtin_specs.cc (from specs/hw/*.yaml).
const std::vector<std::pair<std::string, std::string>>& BuiltinSpecTexts();

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr double kMaxDouble = std::numeric_limits<double>::max();
// Sizes beyond these are typos, not hardware; they also keep cost arithmetic
// far from int64 overflow.
constexpr int64_t kMaxArray = 4096;
constexpr int64_t kMaxBufferBytes = int64_t{1} << 34;  // 16 GiB
constexpr int64_t kMaxBatch = 1 << 16;

DepthwiseMapping ParseDepthwise(const util::YamlMap& m, const std::string& fallback) {
  const std::string v = m.Choice("depthwise", {"grouped-dense", "per-channel"}, fallback);
  return v == "grouped-dense" ? DepthwiseMapping::kGroupedDense : DepthwiseMapping::kPerChannel;
}

BismoConfig ParseBismo(const util::YamlMap& m) {
  BismoConfig c;
  c.dm = m.Int("array_rows", 1, kMaxArray);
  c.dn = m.Int("array_cols", 1, kMaxArray);
  c.dk_bits = m.Int("k_slice_bits", 1, 1 << 16);
  c.buffer_words = m.Int("buffer_words", 1, int64_t{1} << 32);
  c.depthwise = ParseDepthwise(m, "grouped-dense");
  m.RejectUnknownKeys();
  return c;
}

BufferEnergy ParseBufferEnergy(const util::YamlMap& m) {
  BufferEnergy e;
  e.read_pj = m.Number("read_pj", 0.0, kMaxDouble);
  e.write_pj = m.Number("write_pj", 0.0, kMaxDouble);
  m.RejectUnknownKeys();
  return e;
}

BitFusionConfig ParseBitFusion(const util::YamlMap& m) {
  BitFusionConfig c;
  c.rows = m.Int("array_rows", 1, kMaxArray);
  c.cols = m.Int("array_cols", 1, kMaxArray);
  c.dram_bits_per_cycle = m.Int("dram_bits_per_cycle", 1, 1 << 20);
  c.weight_buffer_bytes = m.Int("weight_buffer_bytes", 1, kMaxBufferBytes);
  c.input_buffer_bytes = m.Int("input_buffer_bytes", 1, kMaxBufferBytes);
  c.output_buffer_bytes = m.Int("output_buffer_bytes", 1, kMaxBufferBytes);
  c.psum_bits = m.Int("psum_bits", 1, 64, 32);
  c.first_layer_im2col = m.Bool("first_layer_im2col", true);
  c.depthwise = ParseDepthwise(m, "grouped-dense");
  const util::YamlMap e = m.Map("energy");
  c.core_pj_per_cycle = e.Number("core_pj_per_cycle", 0.0, kMaxDouble);
  c.dram_pj_per_bit = e.Number("dram_pj_per_bit", 0.0, kMaxDouble);
  c.buffer_access_bits = e.Int("buffer_access_bits", 1, 1 << 16);
  c.weight_buffer = ParseBufferEnergy(e.Map("weight_buffer"));
  c.input_buffer = ParseBufferEnergy(e.Map("input_buffer"));
  c.output_buffer = ParseBufferEnergy(e.Map("output_buffer"));
  e.RejectUnknownKeys();
  m.RejectUnknownKeys();
  return c;
}

}  // namespace

HardwareSpec ParseHardwareSpec(const std::string& yaml_text, const std::string& source) {
  const YAML::Node doc = util::ParseYaml(yaml_text, source);
  if (!doc.IsDefined() || doc.IsNull()) {
    throw util::InputError(source + ":1: document: expected a hardware spec mapping, got an empty file");
  }
  const util::YamlMap root(doc, source, "");
  HardwareSpec spec;
  spec.source = source;
  spec.version = static_cast<int>(root.Int("version", 1, 1));
  spec.name = root.String("name");
  spec.description = root.String("description", "");
  spec.kind = root.Choice("kind", {"bismo", "bitfusion"});
  spec.clock_hz = root.Number("clock_mhz", 0.0, 1e6, /*min_exclusive=*/true) * 1e6;
  spec.batch = root.Int("batch", 1, kMaxBatch);
  // Only the section of the spec's own kind is read; another kind's section is an
  // unknown key.
  if (spec.kind == "bismo") {
    spec.config = ParseBismo(root.Map("bismo"));
  } else {
    spec.config = ParseBitFusion(root.Map("bitfusion"));
  }
  root.RejectUnknownKeys();
  return spec;
}

std::vector<std::string> BuiltinHardwareNames() {
  std::vector<std::string> names;
  for (const auto& [name, text] : BuiltinSpecTexts()) names.push_back(name);
  return names;
}

const std::string& BuiltinHardwareYaml(const std::string& name) {
  for (const auto& [builtin, text] : BuiltinSpecTexts()) {
    if (builtin == name) return text;
  }
  const auto names = BuiltinHardwareNames();
  throw util::InputError(fmt::format("unknown hardware '{}'{}; built-in: {} (or give a .yaml file)",
                                     name, util::DidYouMean(name, names), util::JoinNames(names)));
}

HardwareSpec BuiltinHardware(const std::string& name) {
  return ParseHardwareSpec(BuiltinHardwareYaml(name), "built-in:" + name);
}

namespace {
bool LooksLikeFile(const std::string& name_or_path) {
  return name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".yaml") ||
         name_or_path.ends_with(".yml");
}
}  // namespace

std::string HardwareYaml(const std::string& name_or_path) {
  if (!LooksLikeFile(name_or_path)) return BuiltinHardwareYaml(name_or_path);
  return util::ReadFile(name_or_path, 1 << 20);
}

HardwareSpec LoadHardware(const std::string& name_or_path) {
  if (!LooksLikeFile(name_or_path)) return BuiltinHardware(name_or_path);
  return ParseHardwareSpec(HardwareYaml(name_or_path), name_or_path);
}

}  // namespace haq::hw
