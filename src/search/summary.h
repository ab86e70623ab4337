#pragma once
/// What a finished search run delivers, as summary.json holds it: the final stage's
/// comparison on the test set (uniform 8-bit, the uniform baseline at the budget,
/// the searched policy), the candidates it chose among, each restart's best, and the
/// paired searched-minus-uniform differences. Written by the final stage
/// (final_stage.h), read by `haq report`. No LibTorch.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hw/policy.h"
#include "search/search.h"

namespace haq::search {

/// A row's cost against a budget other than the run's first (--budget given several
/// times; possibly on another accelerator).
struct BudgetCost {
  std::string budget;         ///< as given ("energy=3bit@bitfusion")
  std::string unit;           ///< "ms", "mJ", "MB"
  double limit_in_unit = 0.0;
  double cost_in_unit = 0.0;
  double cost_ratio = 0.0;    ///< cost / uniform 8-bit's on that budget's hardware
};

/// A row of the final comparison.
struct FinalRow {
  std::string label;
  hw::Policy policy;
  double cost = 0.0;          ///< base units (seconds, pJ, bits)
  double cost_in_unit = 0.0;  ///< ms, mJ, MB
  double cost_ratio = 0.0;    ///< cost / uniform 8-bit cost
  double test_top1 = 0.0;     ///< before the final fine-tune
  double test_top1_finetuned = 0.0;  ///< after it: the mean over seeds (= test_top1 if none)
  std::vector<double> test_top1_finetuned_seeds;  ///< per seed (empty: not fine-tuned)
  /// Its costs against the run's second and later budgets (empty: one budget).
  std::vector<BudgetCost> other_budgets;
};

/// A candidate of --final-candidates: its reward before and after the final fine-tune.
struct CandidateRow {
  int64_t episode = 0;
  double reward_accuracy = 0.0;
  double reward_accuracy_finetuned = 0.0;
};

/// The best episode of one restart of --restarts.
struct RestartRow {
  int64_t restart = 0;
  uint64_t seed = 0;
  int64_t best_episode = 0;
  double best_reward = 0.0;
  double best_reward_accuracy = 0.0;
};

struct PairedDifference {
  std::vector<double> per_seed;  ///< searched - uniform, seed by seed
  double mean = 0.0;
  double std = 0.0;  ///< population
};

struct RunSummary {
  std::string metric;  ///< "latency", "energy", "size"
  std::string unit;    ///< "ms", "mJ", "MB"
  double budget = 0.0;
  double budget_in_unit = 0.0;
  double uniform8_cost = 0.0;
  double full_precision_reward_accuracy = 0.0;
  int64_t episodes = 0;
  int64_t best_episode = 0;  ///< by reward
  double best_reward = 0.0;
  double best_reward_accuracy = 0.0;
  std::vector<RestartRow> restarts;  ///< empty without --restarts
  /// The delivered policy's episode (absent in summaries written before
  /// --final-candidates: then the best by reward).
  std::optional<int64_t> final_episode;
  std::vector<CandidateRow> final_candidates;  ///< empty: the best episode was taken
  std::vector<uint64_t> final_seeds;           ///< empty: no final fine-tune
  int64_t test_images = 0;
  /// Absent: no final fine-tune (or a summary from before --final-seeds).
  std::optional<PairedDifference> searched_minus_uniform;
  double search_seconds = 0.0;
  std::vector<FinalRow> rows;

  /// `model` and `hardware` name the policies' origin in their JSON.
  nlohmann::json ToJson(const std::string& model, const std::string& hardware) const;
  /// Reads summary.json (`where` names it). Fields of later haq versions are
  /// optional; `rows` with label, cost, cost_ratio, test_top1 and
  /// test_top1_finetuned is required. util::InputError naming the field otherwise.
  static RunSummary FromJson(const nlohmann::json& j, const std::string& where);
};

/// Each restart's best episode (by reward, the first of equals) for a log of
/// restarts of `episodes_per_restart` episodes each, restart r having seed seed + r.
std::vector<RestartRow> RestartBests(const std::vector<EpisodeRecord>& log,
                                     int64_t episodes_per_restart, uint64_t seed);

}  // namespace haq::search
