#include "hw/layer_shape.h"

#include <fmt/format.h>

#include "util/error.h"

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

}  // namespace haq::hw
