#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "hw/spec.h"
#include "hw/zoo.h"

namespace haq::cli {

namespace {
struct ListOptions {
  std::string what;
  std::string show;
};

void RunList(const ListOptions& o) {
  if (o.what == "models") {
    for (const auto& name : hw::ZooShapeModelNames()) {
      const auto layers = hw::ZooLayerShapes(name, hw::ZooInput{});
      fmt::print("{:<16} {} quantizable layers at 3x224x224 (shapes only, no weights)\n", name,
                 layers.size());
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
