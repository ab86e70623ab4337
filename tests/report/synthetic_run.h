#pragma once
// Synthetic search run directories for the report tests: the files haq search
// writes (settings.json, log.jsonl, state.json, network.json, hardware.yaml and,
// when finished, summary.json), with seeded random policies pushed through the real
// environment's pins and budget wall, so costs and ratios are what a search logs.
// No search runs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "hw/cost_model.h"
#include "hw/cost_table.h"
#include "hw/spec.h"
#include "hw/zoo.h"
#include "quant/sensitivity.h"
#include "search/env.h"
#include "search/greedy.h"
#include "search/run_settings.h"
#include "search/search.h"
#include "util/file.h"

namespace haq::test {

struct SyntheticRunOptions {
  std::string model = "mobilenet_v1";  // a shape-only zoo network
  std::string hardware = "bitfusion";  // a built-in spec
  std::string budget = "latency=0.6";
  int64_t episodes_logged = 12;     // lines in log.jsonl
  int64_t episodes_committed = 12;  // state.json's count
  int64_t episodes_planned = 12;
  bool finished = true;  // summary.json
  bool state_json = true;
  unsigned seed = 1;
  /// "ilp": also a sensitivity.json with seeded traces, one weight trace negative;
  /// "greedy": also greedy_probes.jsonl, every probe with a seeded accuracy.
  std::string planned;
};

inline std::vector<hw::LayerShape> SyntheticLayers(const SyntheticRunOptions& o) {
  hw::ZooInput in;
  in.batch = hw::BuiltinHardware(o.hardware).batch;
  return hw::ZooLayerShapes(o.model, in);
}

inline search::QuantEnv SyntheticEnv(const SyntheticRunOptions& o,
                                     const std::vector<hw::LayerShape>& layers) {
  const auto model = hw::MakeCostModel(hw::BuiltinHardware(o.hardware));
  return search::QuantEnv(layers, hw::BuildCostTable(*model, layers, o.model),
                          search::ParseBudget(o.budget), search::EnvOptions{});
}

/// Writes a run into `dir` (created) and returns its episodes (all logged ones).
inline std::vector<search::EpisodeRecord> WriteSyntheticRun(const std::filesystem::path& dir,
                                                            const SyntheticRunOptions& o) {
  namespace fs = std::filesystem;
  using json = nlohmann::json;
  fs::create_directories(dir);
  const auto layers = SyntheticLayers(o);
  const search::QuantEnv env = SyntheticEnv(o, layers);
  search::RunSettings settings;  // as haq search writes them
  settings.model = o.model;
  settings.hardware = o.hardware;
  settings.budget = o.budget;
  settings.episodes = o.episodes_planned;
  settings.warmup = 4;
  settings.seed = o.seed;
  util::WriteFileAtomic(dir / "settings.json", settings.ToJson().dump(2) + "\n");
  util::WriteFileAtomic(dir / "network.json",
                        json{{"model", o.model}, {"batch", layers.front().batch},
                             {"layers", hw::ShapesToJson(layers)}}.dump(2) + "\n");
  util::WriteFileAtomic(dir / "hardware.yaml", hw::BuiltinHardwareYaml(o.hardware));

  std::mt19937 rng(o.seed);
  std::uniform_int_distribution<int> bits(2, 8);
  std::uniform_real_distribution<double> acc(40.0, 92.0);
  std::vector<search::EpisodeRecord> log;
  std::string lines;
  for (int64_t e = 0; e < o.episodes_logged; ++e) {
    std::vector<int> step_bits(static_cast<size_t>(env.num_steps()));
    for (int& b : step_bits) b = bits(rng);
    search::EpisodeRecord r;
    r.episode = e;
    const hw::Policy proposed = env.PolicyFromStepBits(step_bits);
    r.policy = env.EnforceBudget(proposed);
    r.walled = env.StepBits(r.policy) != env.StepBits(proposed);
    r.cost = env.Cost(r.policy);
    r.cost_ratio = r.cost / env.uniform8_cost();
    r.accuracy = std::round(acc(rng) * 10) / 10;
    r.reward = 0.1 * (r.accuracy - 92.0);
    r.best_episode = e;
    if (!log.empty() && log[static_cast<size_t>(log.back().best_episode)].reward >= r.reward) {
      r.best_episode = log.back().best_episode;
    }
    r.seconds = 0.5;
    log.push_back(r);
    lines += search::RecordToJson(r).dump() + "\n";
  }
  util::WriteFileAtomic(dir / "log.jsonl", lines);
  if (o.planned == "ilp") {
    quant::SensitivityTable t;
    t.probes = 12;
    t.converged = true;
    std::uniform_real_distribution<double> exponent(-4.0, 1.0);
    for (const hw::LayerShape& l : layers) {
      quant::LayerSensitivity ls;
      ls.name = l.name;
      ls.weights = 1000;
      ls.inputs = 20000;
      ls.weight_trace = ls.weights * std::pow(10.0, exponent(rng));
      ls.input_trace = ls.inputs * std::pow(10.0, exponent(rng));
      ls.weight_trace_se = 0.1 * ls.weight_trace;
      ls.input_trace_se = 0.1 * ls.input_trace;
      t.layers.push_back(ls);
    }
    t.layers[1].weight_trace = -3.0;  // an estimate below zero (noise)
    util::WriteFileAtomic(dir / quant::kSensitivityFile, t.ToJson().dump(2) + "\n");
  } else if (o.planned == "greedy") {
    search::MeasureProbes(
        env,
        [&rng](const hw::Policy&) {
          return search::EvalOutcome{std::uniform_real_distribution<double>(50.0, 92.0)(rng), 0, 0, {}};
        },
        dir / search::kProbesFile, nullptr);
  }
  if (o.state_json) {
    const int64_t n = o.episodes_committed;
    util::WriteFileAtomic(
        dir / "state.json",
        json{{"format", "haq-search-state-1"}, {"episodes_done", n},
             {"agent_file", fmt::format("agent-{:06d}.bin", n)},
             {"best_episode", n > 0 ? log[static_cast<size_t>(n - 1)].best_episode : 0}}
                .dump(2));
  }
  if (o.finished) {
    const auto& best = log[static_cast<size_t>(log.back().best_episode)];
    const hw::Policy uniform4 = env.Uniform(4);
    json rows = json::array();
    for (const auto& [label, policy, top1] :
         {std::tuple{std::string("uniform 8-bit"), env.Uniform(8), 91.5},
          std::tuple{std::string("uniform 4-bit (largest within budget)"), uniform4, 85.25},
          std::tuple{fmt::format("searched (episode {})", best.episode + 1), best.policy, 88.0}}) {
      const double cost = env.Cost(policy);
      rows.push_back({{"label", label}, {"cost", cost}, {"cost_in_unit", env.InUnit(cost)},
                      {"cost_ratio", cost / env.uniform8_cost()}, {"test_top1", top1},
                      {"test_top1_finetuned", top1 + 1.0},
                      {"policy", json::parse(hw::PolicyToJson(policy, o.model, o.hardware))}});
    }
    util::WriteFileAtomic(dir / "summary.json", json{{"rows", rows}}.dump(2));
  }
  return log;
}

}  // namespace haq::test
