#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "hw/spec.h"
#include "graph/zoo.h"
#include "hw/zoo.h"
#include "train/model_io.h"
#include "util/json.h"

namespace haq::cli {

namespace {
struct ListOptions {
  std::string what;
  std::string show;
};

void RunList(const ListOptions& o) {
  if (o.what == "models") {
    for (const auto& name : graph::ZooModelNames()) {
      const std::string ckpt = train::ShippedCheckpoint(name);
      std::string weights = "no weights (shapes, costs, training from scratch)";
      if (!ckpt.empty()) {
        const auto c = train::LoadCheckpoint(ckpt);
        weights = c.meta.contains("test_top1")
                      ? fmt::format("pretrained: {:.2f}% test top-1 ({})",
                                    util::JsonField<double>(c.meta, "test_top1", ckpt + ": meta"),
                                    ckpt)
                      : fmt::format("pretrained ({})", ckpt);
      }
      // Shape-only zoo models are counted without building a network.
      const auto shape_only = hw::ZooShapeModelNames();
      const size_t layers =
          std::find(shape_only.begin(), shape_only.end(), name) != shape_only.end()
              ? hw::ZooLayerShapes(name, hw::ZooInput{}).size()
              : graph::BuildZooModel(name).quant_layers().size();
      fmt::print("{:<20} {} quantizable layers; {}\n    {}\n", name, layers, weights,
                 graph::ZooDescription(name));
    }
    return;
  }
  if (!o.show.empty()) {
    fmt::print("{}", hw::BuiltinHardwareYaml(o.show));
    return;
  }
  for (const auto& name : hw::BuiltinHardwareNames()) {
    const auto spec = hw::BuiltinHardware(name);
    fmt::print("{:<12} {:<10} {:>6g} MHz  batch {:<3} {}\n", name, spec.kind, spec.clock_hz / 1e6,
               spec.batch, spec.description);
  }
}
}  // namespace

Action RegisterList(CLI::App& app) {
  auto o = std::make_shared<ListOptions>();
  app.add_option("what", o->what, "models or hw")
      ->required()
      ->check(CLI::IsMember({"models", "hw"}));
  app.add_option("--show", o->show, "Print a built-in hardware spec's YAML (with 'hw')");
  app.footer("Examples:\n  haq list models\n  haq list hw\n  haq list hw --show bismo-edge");
  return [o] { RunList(*o); };
}

}  // namespace haq::cli
