#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/models.h"
#include "hw/cost_model.h"
#include "hw/cost_table.h"
#include "hw/policy.h"
#include "hw/spec.h"
#include "report/layer_table.h"
#include "util/error.h"
#include "util/format.h"

namespace haq::cli {

namespace {

struct CostOptions {
  ModelOptions model;
  std::string hw;
  std::string policy;
  int bits = 8;
  int64_t batch = 0;
  std::string table;
  int threads = 2;
};

void RunCost(const CostOptions& o) {
  const hw::HardwareSpec spec = hw::LoadHardware(o.hw);
  const int64_t batch = o.batch > 0 ? o.batch : spec.batch;
  const ResolvedModel model = ResolveModelLayers(o.model, batch);
  hw::Policy policy = o.policy.empty() ? hw::UniformPolicy(model.layers, o.bits, o.bits)
                                       : hw::LoadPolicy(o.policy);
  hw::CheckPolicyMatches(policy, model.layers, model.name);
  const auto cost_model = hw::MakeCostModel(spec);

  // Build the whole table only when it is to be saved; otherwise one pair per layer.
  hw::PolicyCost total;
  if (!o.table.empty()) {
    const hw::CostTable table = hw::BuildCostTable(*cost_model, model.layers, model.name, o.threads);
    hw::SaveCostTable(table, o.table);
    total = hw::SumPolicy(table, policy);
  } else {
    total = hw::EvaluatePolicy(*cost_model, model.layers, policy);
  }

  fmt::print("model {} ({} quantizable layers, {}), batch {}\n", model.name, model.layers.size(),
             model.input_description, batch);
  fmt::print("hardware {} ({}, {:g} MHz; {}), policy {}\n", spec.name, spec.kind,
             spec.clock_hz / 1e6, spec.source, policy.source);
  fmt::print("{}", report::LayerTable(model.layers, policy, total, report::LayerTableStyle::kCost));
  const std::string energy =
      total.has_energy ? fmt::format("{:.3f} mJ", total.energy_pj * 1e-9)
                       : fmt::format("n/a ({} has no energy table)", spec.name);
  fmt::print("total: {} cycles, {:.3f} ms, energy {}, weights {:.3f} MB, DRAM traffic {:.3f} MB\n",
             util::GroupDigits(total.cycles), total.seconds * 1e3, energy,
             static_cast<double>(total.weight_bits) / 8e6,
             static_cast<double>(total.dram_bits) / 8e6);
  if (!o.table.empty()) {
    fmt::print("wrote the {}x8x8 cost table to {}\n", model.layers.size(), o.table);
  }
}

}  // namespace

Action RegisterCost(CLI::App& app) {
  auto o = std::make_shared<CostOptions>();
  AddModelOptions(app, o->model);
  app.add_option("--hw", o->hw, "Hardware: a built-in name (haq list hw) or a spec .yaml file")
      ->required();
  auto* policy = app.add_option("--policy", o->policy,
                                "Policy JSON: per-layer bits (object form or HAQ's [[w,a],...])");
  app.add_option("--bits", o->bits, "Uniform weight and activation bits (default 8)")
      ->check(CLI::Range(1, 8))
      ->excludes(policy);
  app.add_option("--batch", o->batch, "Batch size (default: the hardware spec's batch)")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--table", o->table,
                 "Also write the full layers x 8 x 8 cost table (.csv, or .npy with HAQ's layout)");
  app.add_option("--threads", o->threads, "Threads for building the table")->check(CLI::Range(1, 64));
  app.footer(
      "Examples:\n"
      "  haq cost --model mobilenet_v2 --hw bismo-cloud --batch 16 --table cloud.npy\n"
      "  haq cost --model resnet50 --hw bitfusion --bits 4\n"
      "  haq cost --model mobilenet_v1 --hw my_accel.yaml --policy best_policy.json");
  return [o] { RunCost(*o); };
}

}  // namespace haq::cli
