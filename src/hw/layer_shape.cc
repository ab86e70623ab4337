#include "hw/layer_shape.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/json.h"

namespace haq::hw {

std::string_view KindName(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv:
      return "conv";
    case LayerKind::kDepthwise:
      return "depthwise";
    case LayerKind::kFc:
      return "fc";
  }
  return "?";
}

int64_t LayerShape::WeightCount() const {
  return out_channels * (in_channels / groups) * kernel_h * kernel_w;
}

int64_t LayerShape::MacsPerImage() const { return WeightCount() * out_h * out_w; }

std::string LayerShape::Summary() const {
  if (kind == LayerKind::kFc) return fmt::format("fc {}->{}", in_channels, out_channels);
  const std::string kernel = fmt::format("{}x{}", kernel_h, kernel_w);
  const std::string stride =
      stride_h == stride_w ? fmt::format("s{}", stride_h) : fmt::format("s{}x{}", stride_h, stride_w);
  return fmt::format("{} {} {}{}->{} {}x{}", kernel, stride, kind == LayerKind::kDepthwise ? "dw " : "",
                     in_channels, out_channels, in_h, in_w);
}

void Validate(const LayerShape& s) {
  auto positive = [&](const char* field, int64_t v) {
    if (v < 1) {
      throw util::InputError(
          fmt::format("layer '{}': {}: expected an integer >= 1, got {}", s.name, field, v));
    }
  };
  positive("in_channels", s.in_channels);
  positive("out_channels", s.out_channels);
  positive("kernel_h", s.kernel_h);
  positive("kernel_w", s.kernel_w);
  positive("stride_h", s.stride_h);
  positive("stride_w", s.stride_w);
  positive("groups", s.groups);
  positive("in_h", s.in_h);
  positive("in_w", s.in_w);
  positive("out_h", s.out_h);
  positive("out_w", s.out_w);
  positive("batch", s.batch);
  // Resource guards: with these bounds every count a cost model forms (bits moved,
  // MACs x bits, summed over up to kMaxLayers layers) fits in int64.
  auto product = [&](const char* what, std::initializer_list<int64_t> factors, int limit_log2) {
    int64_t p = 1;
    for (int64_t f : factors) {
      if (__builtin_mul_overflow(p, f, &p) || p > (int64_t{1} << limit_log2)) {
        throw util::InputError(fmt::format("layer '{}': {}: expected at most 2^{}, got more ({})",
                                           s.name, what, limit_log2, s.Summary()));
      }
    }
  };
  product("weights", {s.out_channels, s.in_channels / s.groups, s.kernel_h,
                      s.kernel_w}, kMaxLog2Weights);
  product("multiply-accumulates x batch",
          {s.out_channels, s.in_channels / s.groups, s.kernel_h, s.kernel_w,
           s.out_h, s.out_w, s.batch}, kMaxLog2Work);
  product("input values x batch", {s.in_channels, s.in_h, s.in_w, s.batch}, kMaxLog2Work);
  product("output values x batch", {s.out_channels, s.out_h, s.out_w, s.batch}, kMaxLog2Work);
  if (s.in_channels % s.groups || s.out_channels % s.groups) {
    throw util::InputError(fmt::format(
        "layer '{}': groups: expected a divisor of in_channels ({}) and out_channels ({}), got {}",
        s.name, s.in_channels, s.out_channels, s.groups));
  }
  if (s.kind == LayerKind::kDepthwise &&
      (s.groups != s.in_channels || s.in_channels != s.out_channels)) {
    throw util::InputError(fmt::format(
        "layer '{}': depthwise: expected groups == in_channels == out_channels, got {}, {}, {}",
        s.name, s.groups, s.in_channels, s.out_channels));
  }
  if (s.kind == LayerKind::kFc &&
      (s.kernel_h != 1 || s.kernel_w != 1 || s.out_h != 1 || s.out_w != 1 || s.groups != 1)) {
    throw util::InputError(fmt::format(
        "layer '{}': fc: expected a 1x1 kernel, 1x1 output and one group", s.name));
  }
}

void CheckLayerCount(const std::vector<LayerShape>& layers, const std::string& model) {
  if (layers.empty() || layers.size() > static_cast<size_t>(kMaxLayers)) {
    throw util::InputError(fmt::format("{}: expected 1 to {} quantizable layers, got {}", model,
                                       kMaxLayers, layers.size()));
  }
}

namespace {

struct IntField {
  const char* name;
  int64_t LayerShape::*member;
};
constexpr IntField kIntFields[] = {
    {"in_channels", &LayerShape::in_channels}, {"out_channels", &LayerShape::out_channels},
    {"kernel_h", &LayerShape::kernel_h},       {"kernel_w", &LayerShape::kernel_w},
    {"stride_h", &LayerShape::stride_h},       {"stride_w", &LayerShape::stride_w},
    {"groups", &LayerShape::groups},           {"in_h", &LayerShape::in_h},
    {"in_w", &LayerShape::in_w},               {"out_h", &LayerShape::out_h},
    {"out_w", &LayerShape::out_w},             {"batch", &LayerShape::batch}};

}  // namespace

nlohmann::json ShapesToJson(const std::vector<LayerShape>& layers) {
  nlohmann::json out = nlohmann::json::array();
  for (const LayerShape& l : layers) {
    nlohmann::json j = {{"name", l.name}, {"kind", KindName(l.kind)}, {"is_first", l.is_first}};
    for (const IntField& f : kIntFields) j[f.name] = l.*f.member;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<LayerShape> ShapesFromJson(const nlohmann::json& array, const std::string& source) {
  if (!array.is_array() || array.empty() || array.size() > static_cast<size_t>(kMaxLayers)) {
    throw util::InputError(fmt::format(
        "{}: layers: expected an array of 1 to {} layers, got {}", source, kMaxLayers,
        array.is_array() ? fmt::format("{} layers", array.size()) : std::string(array.type_name())));
  }
  std::vector<LayerShape> layers;
  for (size_t i = 0; i < array.size(); ++i) {
    const nlohmann::json& j = array[i];
    const std::string where = fmt::format("{}: layers[{}]", source, i);
    auto field = [&](const char* name) -> const nlohmann::json& {
      return util::JsonMember(j, name, where);
    };
    LayerShape l;
    const nlohmann::json& name = field("name");
    const nlohmann::json& kind = field("kind");
    const nlohmann::json& first = field("is_first");
    if (!name.is_string()) {
      throw util::InputError(fmt::format("{}.name: expected a string, got {}", where, name.dump()));
    }
    l.name = name.get<std::string>();
    if (kind == "conv") {
      l.kind = LayerKind::kConv;
    } else if (kind == "depthwise") {
      l.kind = LayerKind::kDepthwise;
    } else if (kind == "fc") {
      l.kind = LayerKind::kFc;
    } else {
      throw util::InputError(fmt::format(
          "{}.kind: expected \"conv\", \"depthwise\" or \"fc\", got {}", where, kind.dump()));
    }
    if (!first.is_boolean()) {
      throw util::InputError(fmt::format("{}.is_first: expected true or false, got {}", where,
                                         first.dump()));
    }
    l.is_first = first.get<bool>();
    for (const IntField& f : kIntFields) {
      const nlohmann::json& v = field(f.name);
      if (!v.is_number_integer()) {
        throw util::InputError(fmt::format("{}.{}: expected an integer, got {}", where, f.name,
                                           v.dump()));
      }
      l.*f.member = v.get<int64_t>();
    }
    try {
      Validate(l);
    } catch (const util::InputError& e) {
      throw util::InputError(fmt::format("{}: {}", where, e.what()));
    }
    layers.push_back(std::move(l));
  }
  return layers;
}

}  // namespace haq::hw
