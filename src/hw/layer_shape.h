#pragma once
/// The hardware-facing description of one quantizable layer: plain data, no LibTorch.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace haq::hw {

enum class LayerKind { kConv, kDepthwise, kFc };

/// "conv", "depthwise", "fc".
std::string_view KindName(LayerKind kind);

/// One quantizable layer as the accelerator sees it. A fully connected layer has
/// kernel 1x1, in/out size 1x1. `groups` is 1 for ordinary convs and equal to
/// in_channels (== out_channels) for depthwise ones; other group counts are
/// grouped convs of kind kConv.
struct LayerShape {
  std::string name;
  LayerKind kind = LayerKind::kConv;
  int64_t in_channels = 1;
  int64_t out_channels = 1;
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t groups = 1;
  int64_t in_h = 1;
  int64_t in_w = 1;
  int64_t out_h = 1;
  int64_t out_w = 1;
  int64_t batch = 1;
  /// The network's first quantizable layer: it reads the raw network input.
  bool is_first = false;

  /// Number of weights (without bias).
  int64_t WeightCount() const;
  /// Multiply-accumulates for one image.
  int64_t MacsPerImage() const;
  /// "3x3 s2 32->64 112x112" style summary for tables.
  std::string Summary() const;
};

/// Resource guards (Validate): at most 2^36 weights per layer and 2^44 multiply-
/// accumulates, input or output values per layer at its batch; at most kMaxLayers
/// layers per network. With bits <= 8 every cost count then fits in int64, summed
/// over all layers (2^14 x 2^47 < 2^63).
inline constexpr int kMaxLog2Weights = 36;
inline constexpr int kMaxLog2Work = 44;
inline constexpr int64_t kMaxLayers = 16384;

/// Throws util::InputError if a field is out of range or inconsistent
/// (non-positive sizes, sizes beyond the resource guards, groups not dividing
/// channels, depthwise with Cin != Cout).
void Validate(const LayerShape& shape);

/// Throws util::InputError naming `model` unless 1 <= layers.size() <= kMaxLayers.
void CheckLayerCount(const std::vector<LayerShape>& layers, const std::string& model);

/// The layers as a JSON array of objects (name, kind, every size field, is_first):
/// what a search run directory keeps in network.json, so reports need no model.
nlohmann::json ShapesToJson(const std::vector<LayerShape>& layers);
/// The inverse; every field required and validated. Throws util::InputError naming
/// `source`, the layer's position and the field.
std::vector<LayerShape> ShapesFromJson(const nlohmann::json& array, const std::string& source);

}  // namespace haq::hw
