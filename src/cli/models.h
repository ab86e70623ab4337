#pragma once
/// How the CLI names a model: a shape-only zoo name (no LibTorch work), or anything
/// train::LoadModel takes (graph zoo name, checkpoint .pt, ONNX file).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "hw/layer_shape.h"

namespace haq::cli {

struct ModelOptions {
  std::string name;
  std::string input;  ///< "HxW"; empty = the model's own size
};

void AddModelOptions(CLI::App& app, ModelOptions& o);

/// "HxW" -> {H, W}; empty -> {}. Throws util::InputError naming --input.
std::vector<int64_t> ParseInputSize(const std::string& input);

struct ResolvedModel {
  std::string name;
  std::string input_description;
  std::vector<hw::LayerShape> layers;
};

/// The model's quantizable layers at `batch`. Throws util::InputError.
ResolvedModel ResolveModelLayers(const ModelOptions& o, int64_t batch);

}  // namespace haq::cli
