#pragma once
/// The model zoo as graph Networks (same node set as imported ONNX models):
/// ImageNet-size MobileNet-V1/V2 and ResNet-18/50 (torchvision layouts and names;
/// their layer shapes equal hw::ZooLayerShapes), and compact nets for 28x28
/// single-channel input, the embedded Fashion-MNIST default.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/network.h"

namespace haq::graph {

struct ZooOptions {
  /// Image size; 0 means the model's native size (224 or 28).
  int64_t height = 0;
  int64_t width = 0;
  /// 0 means native (1000 for ImageNet models, 10 for the compact ones).
  int64_t num_classes = 0;
  /// Seeds the weight initialisation.
  uint64_t seed = 0;
};

/// Every zoo name.
std::vector<std::string> ZooModelNames();
/// True for a zoo name.
bool IsZooModel(const std::string& name);
/// A one-line description ("MobileNet-V2 for 1x28x28, ...").
std::string ZooDescription(const std::string& name);

/// A freshly initialised zoo network (torchvision-style initialisation, seeded).
/// Throws util::InputError (with "did you mean") for an unknown name.
Network BuildZooModel(const std::string& name, const ZooOptions& options = {});

}  // namespace haq::graph
