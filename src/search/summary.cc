#include "search/summary.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/error.h"
#include "util/json.h"
#include "util/stats.h"

namespace haq::search {

namespace {
using json = nlohmann::json;

uint64_t Seed(const json& v, const std::string& where) {
  if (!v.is_number_unsigned()) {
    throw util::InputError(fmt::format("{}: expected a seed (an integer >= 0), got {}", where, v.dump()));
  }
  return v.get<uint64_t>();
}
}  // namespace

json RunSummary::ToJson(const std::string& model, const std::string& hardware) const {
  json restart_rows = json::array();
  for (const RestartRow& r : restarts) {
    restart_rows.push_back({{"restart", r.restart},
                            {"seed", r.seed},
                            {"best_episode", r.best_episode},
                            {"best_reward", r.best_reward},
                            {"best_reward_accuracy", r.best_reward_accuracy}});
  }
  json candidate_rows = json::array();
  for (const CandidateRow& c : final_candidates) {
    candidate_rows.push_back({{"episode", c.episode},
                              {"reward_accuracy", c.reward_accuracy},
                              {"reward_accuracy_finetuned", c.reward_accuracy_finetuned}});
  }
  json summary_rows = json::array();
  for (const FinalRow& f : rows) {
    json row = {{"label", f.label},
                {"policy", json::parse(hw::PolicyToJson(f.policy, model, hardware))},
                {"cost", f.cost},
                {"cost_in_unit", f.cost_in_unit},
                {"cost_ratio", f.cost_ratio},
                {"test_top1", f.test_top1},
                {"test_top1_finetuned", f.test_top1_finetuned}};
    if (!f.test_top1_finetuned_seeds.empty()) {
      row["test_top1_finetuned_seeds"] = f.test_top1_finetuned_seeds;
      row["test_top1_finetuned_std"] = util::PopulationStd(f.test_top1_finetuned_seeds);
    }
    if (!f.other_budgets.empty()) {
      json others = json::array();
      for (const BudgetCost& b : f.other_budgets) {
        others.push_back({{"budget", b.budget},
                          {"unit", b.unit},
                          {"limit_in_unit", b.limit_in_unit},
                          {"cost_in_unit", b.cost_in_unit},
                          {"cost_ratio", b.cost_ratio}});
      }
      row["other_budgets"] = std::move(others);
    }
    summary_rows.push_back(std::move(row));
  }
  json paired = nullptr;
  if (searched_minus_uniform) {
    paired = {{"per_seed", searched_minus_uniform->per_seed},
              {"mean", searched_minus_uniform->mean},
              {"std", searched_minus_uniform->std}};
  }
  json j = {{"metric", metric},
            {"unit", unit},
            {"budget", budget},
            {"budget_in_unit", budget_in_unit},
            {"uniform8_cost", uniform8_cost},
            {"full_precision_reward_accuracy", full_precision_reward_accuracy},
            {"episodes", episodes},
            {"best_episode", best_episode},
            {"best_reward", best_reward},
            {"best_reward_accuracy", best_reward_accuracy},
            {"restarts", restart_rows},
            {"final_candidates", candidate_rows},
            {"final_seeds", final_seeds},
            {"test_images", test_images},
            {"searched_minus_uniform", paired},
            {"search_seconds", search_seconds},
            {"rows", summary_rows}};
  if (final_episode) j["final_episode"] = *final_episode;
  return j;
}

RunSummary RunSummary::FromJson(const json& j, const std::string& where) {
  if (!j.is_object()) {
    throw util::InputError(fmt::format("{}: expected a JSON object, got {}", where, j.type_name()));
  }
  RunSummary s;
  if (!j.contains("rows") || !j["rows"].is_array()) {
    throw util::InputError(fmt::format("{}: rows: expected an array", where));
  }
  for (size_t i = 0; i < j["rows"].size(); ++i) {
    const json& r = j["rows"][i];
    const std::string at = fmt::format("{}: rows[{}]", where, i);
    FinalRow f;
    f.label = util::JsonField<std::string>(r, "label", at);
    f.cost = util::JsonField<double>(r, "cost", at);
    f.cost_ratio = util::JsonField<double>(r, "cost_ratio", at);
    f.cost_in_unit = util::JsonFieldOr<double>(r, "cost_in_unit", at, 0.0);
    f.test_top1 = util::JsonField<double>(r, "test_top1", at);
    f.test_top1_finetuned = util::JsonField<double>(r, "test_top1_finetuned", at);
    if (r.contains("test_top1_finetuned_seeds")) {
      f.test_top1_finetuned_seeds =
          util::JsonNumbers(r["test_top1_finetuned_seeds"], at + ": test_top1_finetuned_seeds");
    }
    if (r.contains("policy")) f.policy = hw::ParsePolicy(r["policy"].dump(), at + ": policy");
    if (r.contains("other_budgets")) {
      const json& others = r["other_budgets"];
      if (!others.is_array()) {
        throw util::InputError(fmt::format("{}: other_budgets: expected a list, got {}", at, others.dump()));
      }
      for (size_t k = 0; k < others.size(); ++k) {
        const std::string bat = fmt::format("{}: other_budgets[{}]", at, k);
        f.other_budgets.push_back({util::JsonField<std::string>(others[k], "budget", bat),
                                   util::JsonField<std::string>(others[k], "unit", bat),
                                   util::JsonField<double>(others[k], "limit_in_unit", bat),
                                   util::JsonField<double>(others[k], "cost_in_unit", bat),
                                   util::JsonField<double>(others[k], "cost_ratio", bat)});
      }
    }
    s.rows.push_back(std::move(f));
  }
  // Fields added by later versions: absent in older summaries.
  s.metric = util::JsonFieldOr<std::string>(j, "metric", where, "");
  s.unit = util::JsonFieldOr<std::string>(j, "unit", where, "");
  s.budget = util::JsonFieldOr<double>(j, "budget", where, 0.0);
  s.budget_in_unit = util::JsonFieldOr<double>(j, "budget_in_unit", where, 0.0);
  s.uniform8_cost = util::JsonFieldOr<double>(j, "uniform8_cost", where, 0.0);
  s.full_precision_reward_accuracy =
      util::JsonFieldOr<double>(j, "full_precision_reward_accuracy", where, 0.0);
  s.episodes = util::JsonFieldOr<int64_t>(j, "episodes", where, 0);
  s.best_episode = util::JsonFieldOr<int64_t>(j, "best_episode", where, 0);
  s.best_reward = util::JsonFieldOr<double>(j, "best_reward", where, 0.0);
  s.best_reward_accuracy = util::JsonFieldOr<double>(j, "best_reward_accuracy", where, 0.0);
  s.test_images = util::JsonFieldOr<int64_t>(j, "test_images", where, 0);
  s.search_seconds = util::JsonFieldOr<double>(j, "search_seconds", where, 0.0);
  if (j.contains("final_episode")) {
    s.final_episode = util::JsonField<int64_t>(j, "final_episode", where);
  }
  if (j.contains("restarts") && j["restarts"].is_array()) {
    for (size_t i = 0; i < j["restarts"].size(); ++i) {
      const json& r = j["restarts"][i];
      const std::string at = fmt::format("{}: restarts[{}]", where, i);
      s.restarts.push_back({util::JsonField<int64_t>(r, "restart", at),
                            Seed(util::JsonMember(r, "seed", at), at + ": seed"),
                            util::JsonField<int64_t>(r, "best_episode", at),
                            util::JsonField<double>(r, "best_reward", at),
                            util::JsonField<double>(r, "best_reward_accuracy", at)});
    }
  }
  if (j.contains("final_candidates") && j["final_candidates"].is_array()) {
    for (size_t i = 0; i < j["final_candidates"].size(); ++i) {
      const json& c = j["final_candidates"][i];
      const std::string at = fmt::format("{}: final_candidates[{}]", where, i);
      s.final_candidates.push_back({util::JsonField<int64_t>(c, "episode", at),
                                    util::JsonField<double>(c, "reward_accuracy", at),
                                    util::JsonField<double>(c, "reward_accuracy_finetuned", at)});
    }
  }
  if (j.contains("final_seeds") && j["final_seeds"].is_array()) {
    for (size_t i = 0; i < j["final_seeds"].size(); ++i) {
      s.final_seeds.push_back(Seed(j["final_seeds"][i], fmt::format("{}: final_seeds[{}]", where, i)));
    }
  }
  // Written by runs since --final-seeds; null when the run had no final fine-tune.
  if (j.contains("searched_minus_uniform") && !j["searched_minus_uniform"].is_null()) {
    const std::string at = where + ": searched_minus_uniform";
    const json& p = j["searched_minus_uniform"];
    PairedDifference d;
    d.per_seed = util::JsonNumbers(util::JsonMember(p, "per_seed", at), at + ": per_seed");
    if (d.per_seed.empty()) {
      throw util::InputError(at + ": per_seed: expected at least one value, got []");
    }
    d.mean = util::JsonFieldOr<double>(p, "mean", at, util::Mean(d.per_seed));
    d.std = util::JsonFieldOr<double>(p, "std", at, util::PopulationStd(d.per_seed));
    s.searched_minus_uniform = std::move(d);
  }
  return s;
}

std::vector<RestartRow> RestartBests(const std::vector<EpisodeRecord>& log,
                                     int64_t episodes_per_restart, uint64_t seed) {
  std::vector<RestartRow> rows;
  const auto n = static_cast<int64_t>(log.size());
  for (int64_t r = 0; r * episodes_per_restart < n; ++r) {
    int64_t best = r * episodes_per_restart;
    for (int64_t e = best + 1; e < std::min(n, (r + 1) * episodes_per_restart); ++e) {
      if (log[static_cast<size_t>(e)].reward > log[static_cast<size_t>(best)].reward) best = e;
    }
    const EpisodeRecord& b = log[static_cast<size_t>(best)];
    rows.push_back({r, seed + static_cast<uint64_t>(r), best, b.reward, b.accuracy});
  }
  return rows;
}

}  // namespace haq::search
