// Loading a run directory for the report, the Pareto front, the comparison matrix
// and the terminal summaries. The HTML is in html.cc.
#include "report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <type_traits>

#include "hw/cost_model.h"
#include "hw/cost_table.h"
#include "search/search.h"
#include "search/summary.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::report {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<size_t> ParetoFront(const std::vector<Point>& points) {
  std::vector<size_t> order(points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    if (points[i].cost != points[j].cost) return points[i].cost < points[j].cost;
    return points[i].accuracy > points[j].accuracy;
  });
  // A point is dominated only by points before it in this order; it survives when
  // it beats every earlier accuracy, or ties the best one at that point's cost.
  std::vector<size_t> front;
  for (size_t i : order) {
    const Point& p = points[i];
    if (front.empty()) {
      front.push_back(i);
      continue;
    }
    const Point& best = points[front.back()];
    if (p.accuracy > best.accuracy ||
        (p.accuracy == best.accuracy && p.cost == best.cost)) {
      front.push_back(i);
    }
  }
  return front;
}

std::string LayerClass(const hw::LayerShape& layer) {
  switch (layer.kind) {
    case hw::LayerKind::kDepthwise: return "depthwise";
    case hw::LayerKind::kFc: return "fc";
    case hw::LayerKind::kConv: break;
  }
  return layer.kernel_h == 1 && layer.kernel_w == 1 ? "pointwise" : "conv";
}

std::string RunReportData::Status() const {
  if (complete()) return "complete";
  return fmt::format("partial (interrupted after episode {}; no summary.json)",
                     episodes.empty() ? 0 : episodes.back().episode + 1);
}

namespace {

// A file of the run directory that must exist, with the message for when it does not.
fs::path RequiredFile(const fs::path& dir, const char* name, const char* why) {
  const fs::path path = dir / name;
  if (!fs::is_regular_file(path)) {
    throw util::InputError(fmt::format("{}: missing: {}", path.string(), why));
  }
  return path;
}

constexpr const char* kNewerRun =
    "the report needs {}, which haq search writes into every new run directory (this run was "
    "made before it did; run the search again to report it)";

void LoadNetwork(const fs::path& dir, RunReportData& run) {
  const fs::path path = RequiredFile(
      dir, "network.json", fmt::format(kNewerRun, "the run's layer shapes").c_str());
  const json j = util::ReadJsonFile(path);
  const std::string where = path.string();
  run.model = util::JsonField<std::string>(j, "model", where);
  const json& layers = util::JsonMember(j, "layers", where);
  if (!layers.is_array() || layers.empty()) {
    throw util::InputError(fmt::format("{}: layers: expected a non-empty array, got {}", where,
                                       layers.dump().substr(0, 40)));
  }
  run.layers = hw::ShapesFromJson(layers, where);
}

void LoadHardware(const fs::path& dir, RunReportData& run) {
  const fs::path path = RequiredFile(
      dir, "hardware.yaml", fmt::format(kNewerRun, "the run's hardware spec").c_str());
  run.spec = hw::ParseHardwareSpec(util::ReadFile(path), path.string());
}

void LoadSettings(const fs::path& dir, RunReportData& run, search::EnvOptions& options) {
  const fs::path path = dir / "settings.json";
  run.settings = search::RunSettings::FromJson(util::ReadJsonFile(path), path.string());
  const search::RunSettings& s = run.settings;
  options.b_min = s.b_min;
  options.b_max = s.b_max;
  options.pin_first = s.pin_first;
  options.pin_last = s.pin_last;
  options.weights_only = s.kmeans();
}

void LoadSummary(const fs::path& dir, RunReportData& run) {
  const fs::path path = dir / "summary.json";
  if (!fs::exists(path)) return;
  const search::RunSummary summary =
      search::RunSummary::FromJson(util::ReadJsonFile(path), path.string());
  std::vector<SummaryRow> rows;
  for (const search::FinalRow& r : summary.rows) {
    rows.push_back({r.label, r.cost, r.cost_ratio, r.test_top1, r.test_top1_finetuned,
                    r.test_top1_finetuned_seeds, r.other_budgets});
  }
  run.summary = std::move(rows);
  if (summary.searched_minus_uniform) {
    run.searched_minus_uniform = summary.searched_minus_uniform->per_seed;
  }
  // The policy the run delivered (haq search --final-candidates may pick another
  // than the best by reward); runs written before it existed lack the field.
  if (summary.final_episode) {
    const int64_t e = *summary.final_episode;
    if (e < 0 || e >= static_cast<int64_t>(run.episodes.size())) {
      throw util::InputError(fmt::format("{}: final_episode: expected 0..{}, got {}",
                                         path.string(), run.episodes.size() - 1, e));
    }
    run.best = static_cast<size_t>(e);
  }
}

void LoadEpisodes(const fs::path& dir, RunReportData& run) {
  const fs::path state = dir / "state.json";
  if (!fs::exists(state)) {
    throw util::InputError(fmt::format(
        "{}: missing: no episode of this run was committed, nothing to report", state.string()));
  }
  for (const search::EpisodeRecord& r : search::ReadRun(dir).log) {
    run.episodes.push_back({r.episode, r.policy, r.cost, r.cost_ratio, r.accuracy, r.reward,
                            r.best_episode, r.walled});
  }
  if (run.episodes.empty()) {
    throw util::InputError(fmt::format(
        "{}: episodes_done: expected at least 1 committed episode, got 0", state.string()));
  }
  const std::string log = (dir / "log.jsonl").string();
  for (size_t i = 0; i < run.episodes.size(); ++i) {
    const Episode& e = run.episodes[i];
    const std::string where = fmt::format("{}:{}", log, i + 1);
    if (e.episode != static_cast<int64_t>(i)) {
      throw util::InputError(fmt::format("{}: episode: expected {}, got {}", where, i, e.episode));
    }
    if (e.best_episode < 0 || e.best_episode > e.episode) {
      throw util::InputError(fmt::format("{}: best_episode: expected 0..{}, got {}", where,
                                         e.episode, e.best_episode));
    }
    hw::CheckPolicyMatches(e.policy, run.layers, fmt::format("{} (network.json)", run.model));
  }
  run.best = static_cast<size_t>(run.episodes.back().best_episode);
}

void ComputeCosts(RunReportData& run, const search::EnvOptions& options) {
  const auto model = hw::MakeCostModel(run.spec);
  const hw::CostTable table = hw::BuildCostTable(*model, run.layers, run.model);
  run.env = std::make_shared<const search::QuantEnv>(
      run.layers, table, search::ParseBudgets(run.settings.budget).front(), options);
  const hw::Policy& best = run.best_episode().policy;
  run.layer_costs.clear();
  for (size_t l = 0; l < run.layers.size(); ++l) {
    run.layer_costs.push_back(
        model->Evaluate(run.layers[l], best.layers[l].w_bits, hw::CostABits(best.layers[l])));
  }
  run.uniform_costs.clear();
  for (int b = 1; b <= hw::kMaxBits; ++b) run.uniform_costs.push_back(run.env->Cost(run.env->Uniform(b)));
}

// The planned strategies' files, checked against the run's layers.
void LoadSensitivity(const fs::path& dir, RunReportData& run) {
  const fs::path table = dir / quant::kSensitivityFile;
  if (fs::exists(table)) {
    quant::SensitivityTable t = quant::SensitivityTable::FromJson(util::ReadJsonFile(table), table.string());
    if (t.layers.size() != run.layers.size()) {
      throw util::InputError(fmt::format("{}: layers: expected the run's {} layers (network.json), got {}",
                                         table.string(), run.layers.size(), t.layers.size()));
    }
    for (size_t l = 0; l < t.layers.size(); ++l) {
      if (t.layers[l].name != run.layers[l].name) {
        throw util::InputError(fmt::format("{}: layers[{}].name: expected '{}' (network.json), got '{}'",
                                           table.string(), l, run.layers[l].name, t.layers[l].name));
      }
    }
    run.sensitivity = std::move(t);
  }
  run.probes = search::ReadProbes(*run.env, dir / search::kProbesFile);
}

}  // namespace

void CheckRunDirectory(const fs::path& dir) {
  if (!fs::exists(dir)) throw util::InputError(fmt::format("{}: no such directory", dir.string()));
  if (!fs::is_directory(dir)) {
    throw util::InputError(fmt::format("{}: expected a search run directory, got a file", dir.string()));
  }
  if (!fs::exists(dir / "settings.json")) {
    throw util::InputError(fmt::format(
        "{}: not a search run directory (no settings.json; haq search --out DIR makes one)",
        dir.string()));
  }
}

RunReportData LoadRun(const fs::path& dir) {
  CheckRunDirectory(dir);
  RunReportData run;
  run.dir = dir;
  search::EnvOptions options;
  LoadSettings(dir, run, options);
  LoadNetwork(dir, run);
  LoadHardware(dir, run);
  LoadEpisodes(dir, run);
  LoadSummary(dir, run);
  ComputeCosts(run, options);
  LoadSensitivity(dir, run);
  return run;
}

std::vector<Point> EpisodePoints(const RunReportData& run) {
  std::vector<Point> points;
  for (const Episode& e : run.episodes) points.push_back({e.cost_ratio, e.accuracy});
  return points;
}

namespace {

// "conv w 6.2 a 5.1" per layer class present, in a fixed order.
std::string MeanBitsPerClass(const RunReportData& run) {
  struct Sum {
    double w = 0, a = 0;
    int n = 0, na = 0;
  };
  std::map<std::string, Sum> sums;
  const hw::Policy& p = run.best_episode().policy;
  for (size_t l = 0; l < run.layers.size(); ++l) {
    Sum& s = sums[LayerClass(run.layers[l])];
    s.w += p.layers[l].w_bits;
    ++s.n;
    if (p.layers[l].a_bits > 0) {
      s.a += p.layers[l].a_bits;
      ++s.na;
    }
  }
  std::string out;
  for (const char* name : {"conv", "pointwise", "depthwise", "fc"}) {
    const auto it = sums.find(name);
    if (it == sums.end()) continue;
    const Sum& s = it->second;
    out += fmt::format("{}{} ({}): w {:.1f}, a {}", out.empty() ? "" : "; ", name, s.n, s.w / s.n,
                       s.na > 0 ? fmt::format("{:.1f}", s.a / s.na) : std::string("fp"));
  }
  return out;
}

}  // namespace

std::string TerminalSummary(const RunReportData& run, const fs::path& written) {
  const Episode& b = run.best_episode();
  const std::string unit = search::MetricUnit(run.env->budget_spec().metric);
  std::string out = fmt::format("run {}: {} on {}, budget {}, agent {}, {}/{} episodes, {}\n",
                                run.dir.string(), run.model, run.spec.name, run.settings.budget,
                                run.settings.agent, run.episodes.size(), run.settings.total_episodes(), run.Status());
  out += fmt::format(
      "best: episode {}, reward {:.3f}, accuracy {:.2f}%, cost {:.4g} {} ({:.3f}x of uniform 8-bit)\n",
      b.episode + 1, b.reward, b.accuracy, run.env->InUnit(b.cost), unit, b.cost_ratio);
  out += fmt::format("mean bits per layer class: {}\n", MeanBitsPerClass(run));
  out += fmt::format("Pareto front: {} of {} policies\n", ParetoFront(EpisodePoints(run)).size(),
                     run.episodes.size());
  out += fmt::format("wrote {}\n", written.string());
  return out;
}

void CheckComparable(const std::vector<RunReportData>& runs) {
  const RunReportData& first = runs.at(0);
  for (size_t i = 1; i < runs.size(); ++i) {
    const RunReportData& r = runs[i];
    if (r.layers.size() != first.layers.size()) {
      throw util::InputError(fmt::format(
          "--compare: {} has {} layers ({}), {} has {} ({}); runs must share the model's layers",
          first.dir.string(), first.layers.size(), first.model, r.dir.string(), r.layers.size(),
          r.model));
    }
    for (size_t l = 0; l < r.layers.size(); ++l) {
      if (r.layers[l].name != first.layers[l].name) {
        throw util::InputError(fmt::format(
            "--compare: layer {} is '{}' in {} and '{}' in {}; runs must share the model's layers", l,
            first.layers[l].name, first.dir.string(), r.layers[l].name, r.dir.string()));
      }
    }
  }
}

std::vector<std::vector<CompareCell>> CompareMatrix(const std::vector<RunReportData>& runs) {
  CheckComparable(runs);
  std::vector<std::vector<CompareCell>> m(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const RunReportData& hw_run : runs) {
      const search::QuantEnv& env = *hw_run.env;
      const double cost = env.Cost(runs[i].best_episode().policy);
      m[i].push_back({cost, env.InUnit(cost), cost / env.uniform8_cost()});
    }
  }
  return m;
}

std::string CompareSummary(const std::vector<RunReportData>& runs, const fs::path& written) {
  std::string out;
  for (const RunReportData& r : runs) {
    const Episode& b = r.best_episode();
    out += fmt::format("{}: {} on {}, budget {}, best episode {} of {}: accuracy {:.2f}%, {:.3f}x "
                       "of uniform 8-bit, {}\n",
                       r.dir.string(), r.model, r.spec.name, r.settings.budget, b.episode + 1,
                       r.episodes.size(), b.accuracy, b.cost_ratio, r.Status());
  }
  out += fmt::format("wrote {}\n", written.string());
  return out;
}

}  // namespace haq::report
