#include "cli/models.h"

#include <fmt/format.h>

#include <regex>

#include "hw/layer_shape.h"
#include "hw/zoo.h"
#include "train/model_io.h"
#include "util/error.h"

namespace haq::cli {

void AddModelOptions(CLI::App& app, ModelOptions& o) {
  app.add_option("--model", o.name,
                 "Model: a zoo name (haq list models), a checkpoint .pt or an .onnx file")
      ->required();
  app.add_option("--input", o.input, "Input height x width, e.g. 224x224 (default: the model's)");
}

std::vector<int64_t> ParseInputSize(const std::string& input) {
  if (input.empty()) return {};
  static const std::regex kSize(R"(([0-9]{1,5})x([0-9]{1,5}))");
  std::smatch m;
  if (!std::regex_match(input, m, kSize) || std::stoll(m[1]) < 1 || std::stoll(m[2]) < 1) {
    throw util::InputError(
        fmt::format("--input: expected HEIGHTxWIDTH such as 224x224, got '{}'", input));
  }
  return {std::stoll(m[1]), std::stoll(m[2])};
}

ResolvedModel ResolveModelLayers(const ModelOptions& o, int64_t batch) {
  const std::vector<int64_t> hw_size = ParseInputSize(o.input);
  ResolvedModel r;
  r.name = o.name;
  const auto shape_only = hw::ZooShapeModelNames();
  if (std::find(shape_only.begin(), shape_only.end(), o.name) != shape_only.end()) {
    // ImageNet zoo: shapes without building a network.
    hw::ZooInput in;
    if (!hw_size.empty()) {
      in.height = hw_size[0];
      in.width = hw_size[1];
    }
    in.batch = batch;
    r.layers = hw::ZooLayerShapes(o.name, in);
    r.input_description = fmt::format("input {}x{}x{}", in.channels, in.height, in.width);
    return r;
  }
  train::ModelRequest req;
  req.spec = o.name;
  req.input_hw = hw_size;
  req.pretrained = false;  // shapes only: no need to read weights
  const train::LoadedModel m = train::LoadModel(req);
  r.layers = m.net.LayerShapes(batch);
  // A network without convolutions or fully connected layers has nothing to quantize
  // or cost: say so about the model, before a policy or table is built for it.
  hw::CheckLayerCount(r.layers, o.name);
  r.input_description = fmt::format("input {}", fmt::join(m.net.input_spec().chw, "x"));
  return r;
}

}  // namespace haq::cli
