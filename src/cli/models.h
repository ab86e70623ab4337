#pragma once
/// How the CLI names a model: a zoo name, at an input size.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "hw/layer_shape.h"

namespace haq::cli {

struct ModelOptions {
  std::string name;
  std::string input = "224x224";  ///< HxW
};

void AddModelOptions(CLI::App& app, ModelOptions& o);

struct ResolvedModel {
  std::string name;
  std::string input_description;
  std::vector<hw::LayerShape> layers;
};

/// The model's quantizable layers at `batch`. Throws util::InputError.
ResolvedModel ResolveModelLayers(const ModelOptions& o, int64_t batch);

}  // namespace haq::cli
