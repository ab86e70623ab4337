#include "cli/models.h"

#include <fmt/format.h>

#include <regex>

#include "hw/zoo.h"
#include "util/error.h"

namespace haq::cli {

void AddModelOptions(CLI::App& app, ModelOptions& o) {
  app.add_option("--model", o.name, "Model: a zoo name (haq list models)")->required();
  app.add_option("--input", o.input, "Input height x width, e.g. 224x224 (zoo models)");
}

ResolvedModel ResolveModelLayers(const ModelOptions& o, int64_t batch) {
  static const std::regex kSize(R"(([0-9]{1,5})x([0-9]{1,5}))");
  std::smatch m;
  if (!std::regex_match(o.input, m, kSize)) {
    throw util::InputError(
        fmt::format("--input: expected HEIGHTxWIDTH such as 224x224, got '{}'", o.input));
  }
  hw::ZooInput in;
  in.height = std::stoll(m[1]);
  in.width = std::stoll(m[2]);
  in.batch = batch;
  ResolvedModel r;
  r.name = o.name;
  r.layers = hw::ZooLayerShapes(o.name, in);
  r.input_description = fmt::format("input {}x{}x{}", in.channels, in.height, in.width);
  return r;
}

}  // namespace haq::cli
