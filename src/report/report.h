#pragma once
/// `haq report`: a search run directory (search/search.h) as one self-contained
/// HTML file (inline SVG charts and CSS, no network access): the best policy's bits
/// and per-layer costs, the search curve, accuracy against cost with the Pareto
/// front and uniform baselines, the settings; and several runs side by side with
/// every run's best policy costed on every run's hardware.
///
/// No LibTorch: the committed episodes come through an EpisodeReader (the CLI and
/// tests pass search::ReadRun by way of report/read_run.h, whose header needs
/// LibTorch).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hw/cost.h"
#include "hw/layer_shape.h"
#include "hw/policy.h"
#include "hw/spec.h"
#include "quant/sensitivity.h"
#include "search/env.h"
#include "search/greedy.h"
#include "search/front.h"
#include "search/run_settings.h"
#include "search/summary.h"

namespace haq::report {

// ---- Pure helpers (unit-tested on their own) --------------------------------------

struct Point {
  double cost = 0.0;      ///< minimised
  double accuracy = 0.0;  ///< maximised
};

/// Indices of the points no other point dominates (another point with cost <= and
/// accuracy >=, one of them strictly), ordered by increasing cost. Identical points
/// are all on the front or all off it.
std::vector<size_t> ParetoFront(const std::vector<Point>& points);

/// Axis ticks: multiples of a "nice" step (1, 2 or 5 x 10^k) covering [lo, hi].
struct Ticks {
  double lo = 0.0;  ///< first tick (<= the data's lo)
  double hi = 1.0;  ///< last tick (>= the data's hi)
  double step = 1.0;
  std::vector<double> values;  ///< lo, lo + step, ..., hi
};
/// About `target` intervals; an empty range (lo == hi) is widened around the value.
Ticks NiceTicks(double lo, double hi, int target = 5);
/// A tick value with as many decimals as the step needs ("0.25", "10", "-2").
std::string FormatTick(double value, double step);

/// The layer classes the bit charts colour: "depthwise", "pointwise" (1x1 conv),
/// "conv" (any other conv), "fc".
std::string LayerClass(const hw::LayerShape& layer);

// ---- A run ---------------------------------------------------------------------------

/// One committed episode (the fields of search::EpisodeRecord a report shows).
struct Episode {
  int64_t episode = 0;  ///< 0-based; shown 1-based
  hw::Policy policy;
  double cost = 0.0;  ///< base units (seconds, pJ, bits)
  double cost_ratio = 0.0;
  double accuracy = 0.0;
  double reward = 0.0;
  int64_t best_episode = 0;
  bool walled = false;
};

/// A row of summary.json (written when a run finishes).
struct SummaryRow {
  std::string label;
  double cost = 0.0;
  double cost_ratio = 0.0;
  double test_top1 = 0.0;
  double test_top1_finetuned = 0.0;       ///< the mean over seeds
  std::vector<double> finetuned_seeds;    ///< per seed of --final-seeds (empty: older run)
  std::vector<search::BudgetCost> other_budgets;  ///< against the run's further budgets
};

struct RunReportData {
  std::filesystem::path dir;
  search::RunSettings settings;  ///< settings.json, read through the run settings table
  std::string model;        ///< network.json's model
  std::vector<hw::LayerShape> layers;
  hw::HardwareSpec spec;
  std::vector<Episode> episodes;  ///< committed, in order
  /// Index into episodes: the best by reward, or summary.json's final_episode.
  size_t best = 0;
  std::optional<std::vector<SummaryRow>> summary;  ///< absent: interrupted run
  /// Searched minus the uniform baseline after the final fine-tune, per seed (paired);
  /// empty for runs without a final fine-tune or from before --final-seeds.
  std::vector<double> searched_minus_uniform;

  /// The run's environment: metric, budget, pins, uniform baselines.
  std::shared_ptr<const search::QuantEnv> env;
  /// Per layer, the best policy on the run's hardware.
  std::vector<hw::Cost> layer_costs;
  /// Cost (base units) of the uniform 1..8-bit policies, pins applied: [bits - 1].
  std::vector<double> uniform_costs;
  /// The planned strategies' per-layer sensitivity, when the run directory keeps it:
  /// the ILP's table (sensitivity.json) and the greedy strategy's probes done
  /// (greedy_probes.jsonl).
  std::optional<quant::SensitivityTable> sensitivity;
  std::vector<search::Probe> probes;

  bool complete() const { return summary.has_value(); }
  const Episode& best_episode() const { return episodes.at(best); }
  /// "complete" or "partial (interrupted after episode N; no summary.json)".
  std::string Status() const;
};

/// Every episode as (cost ratio, accuracy), in episode order.
std::vector<Point> EpisodePoints(const RunReportData& run);

/// Cheap checks before any work: `dir` exists and holds settings.json.
void CheckRunDirectory(const std::filesystem::path& dir);

/// Loads a run directory. Throws util::InputError naming the file and the field or
/// position: missing directory, no settings.json, missing or malformed network.json
/// / hardware.yaml, a malformed log line, no committed episode (no state.json, or 0
/// episodes), a policy that does not fit the network, a sensitivity table or probe
/// file of other layers.
RunReportData LoadRun(const std::filesystem::path& dir);

/// The whole report as one HTML document.
std::string RenderHtml(const RunReportData& run);

/// A sweep's report (`haq report DIR` on a sweep directory): its front.json as a
/// chart of the searched points against the uniform line, and a table linking each
/// budget's run.
std::string RenderSweepHtml(const search::SweepFront& front);

/// A few lines for the terminal: best episode, reward, accuracy, cost ratio, mean
/// bits per layer class, Pareto front size, the file written.
std::string TerminalSummary(const RunReportData& run, const std::filesystem::path& written);

// ---- Several runs --------------------------------------------------------------------

/// One cell of the comparison matrix: policy of run i on the hardware and metric of
/// run j.
struct CompareCell {
  double cost = 0.0;     ///< base units of run j's metric
  double in_unit = 0.0;  ///< ms, mJ or MB
  double ratio = 0.0;    ///< over run j's uniform 8-bit cost
};

/// Throws util::InputError naming the runs unless they share the layer count and
/// names.
void CheckComparable(const std::vector<RunReportData>& runs);
/// [i][j]: run i's best policy costed on run j's hardware with run j's metric.
std::vector<std::vector<CompareCell>> CompareMatrix(const std::vector<RunReportData>& runs);
std::string RenderCompareHtml(const std::vector<RunReportData>& runs);
std::string CompareSummary(const std::vector<RunReportData>& runs,
                           const std::filesystem::path& written);

}  // namespace haq::report
