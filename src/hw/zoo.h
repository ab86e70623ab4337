#pragma once
/// Layer shapes of the zoo's ImageNet-style networks at any input size and batch,
/// without weights (the hardware side: cost tables and policy costs). Layer names
/// follow torchvision's module paths so that imported exports line up.
#include <cstdint>
#include <string>
#include <vector>

#include "hw/layer_shape.h"

namespace haq::hw {

/// MobileNet-V2 inverted-residual stage: expansion t, channels c, repeats n, stride s.
struct InvertedResidualStage {
  int64_t t, c, n, s;
};
/// The standard MobileNet-V2 stages (HAQ's layout).
const std::vector<InvertedResidualStage>& MobileNetV2Stages();

/// MobileNet-V1 depthwise-separable block: output channels and depthwise stride.
struct SeparableBlock {
  int64_t c, s;
};
const std::vector<SeparableBlock>& MobileNetV1Blocks();

struct ZooInput {
  int64_t height = 224;
  int64_t width = 224;
  int64_t channels = 3;
  int64_t batch = 1;
  int64_t num_classes = 1000;
};

/// Names of the shape-only zoo networks.
std::vector<std::string> ZooShapeModelNames();

/// Quantizable layers in execution order. Throws util::InputError for an unknown
/// name (with "did you mean") or an input too small for the network's strides.
std::vector<LayerShape> ZooLayerShapes(const std::string& name, const ZooInput& input);

/// Output side of a convolution with "same"-style padding k/2.
int64_t ConvOutSize(int64_t in, int64_t kernel, int64_t stride);

}  // namespace haq::hw
