// search::RunSummary (summary.json) and RestartBests.
#include "search/summary.h"

#include <gtest/gtest.h>

#include <random>

#include "test_util.h"
#include "util/error.h"

namespace haq::search {
namespace {

using json = nlohmann::json;

hw::Policy TwoLayers(int w0, int a0, int w1, int a1) {
  hw::Policy p;
  p.layers = {{"conv1", w0, a0}, {"fc", w1, a1}};
  return p;
}

RunSummary Example() {
  RunSummary s;
  s.metric = "latency";
  s.unit = "ms";
  s.budget = 0.004;
  s.budget_in_unit = 4.0;
  s.uniform8_cost = 0.01;
  s.full_precision_reward_accuracy = 91.25;
  s.episodes = 12;
  s.best_episode = 7;
  s.best_reward = -0.5;
  s.best_reward_accuracy = 86.25;
  s.restarts = {{0, 5, 3, -0.75, 83.75}, {1, 6, 7, -0.5, 86.25}};
  s.final_episode = 3;
  s.final_candidates = {{7, 86.25, 88.5}, {3, 85.75, 89.0}};
  s.final_seeds = {5, 6};
  s.test_images = 1000;
  s.searched_minus_uniform = PairedDifference{{0.5, 1.5}, 1.0, 0.5};
  s.search_seconds = 12.5;
  s.rows = {{"uniform 8-bit", TwoLayers(8, 8, 8, 8), 0.01, 10.0, 1.0, 91.0, 91.0, {}, {}},
            {"uniform 4-bit (largest within budget)", TwoLayers(8, 4, 4, 4), 0.004, 4.0, 0.4,
             80.5, 88.0, {87.5, 88.5}, {}},
            {"searched (episode 4, 2 of 2)", TwoLayers(8, 3, 5, 6), 0.0039, 3.9, 0.39, 79.0,
             89.0, {88.0, 90.0}, {}}};
  // A second budget, on another accelerator.
  const double energy[] = {1.5, 0.6, 0.55};
  for (size_t i = 0; i < 3; ++i) {
    s.rows[i].other_budgets = {{"energy=3bit@bitfusion", "mJ", 0.58, energy[i], energy[i] / 1.5}};
  }
  return s;
}

TEST(RunSummaryTest, RoundTripsThroughSummaryJson) {
  const RunSummary s = Example();
  const json j = s.ToJson("m", "bismo-edge");
  const RunSummary r = RunSummary::FromJson(j, "summary.json");
  EXPECT_EQ(r.ToJson("m", "bismo-edge"), j);
  EXPECT_EQ(r.final_episode, 3);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[2].policy.layers[0].a_bits, 3);
  EXPECT_EQ(r.rows[1].test_top1_finetuned_seeds, (std::vector<double>{87.5, 88.5}));
  EXPECT_DOUBLE_EQ(j["rows"][1]["test_top1_finetuned_std"].get<double>(), 0.5);
  EXPECT_EQ(r.searched_minus_uniform->per_seed, (std::vector<double>{0.5, 1.5}));
  ASSERT_EQ(r.rows[2].other_budgets.size(), 1u);
  EXPECT_EQ(r.rows[2].other_budgets[0].budget, "energy=3bit@bitfusion");
  EXPECT_EQ(r.rows[2].other_budgets[0].cost_in_unit, 0.55);
  // One budget: no other_budgets in the file.
  RunSummary one = Example();
  for (FinalRow& f : one.rows) f.other_budgets.clear();
  EXPECT_FALSE(one.ToJson("m", "bismo-edge")["rows"][0].contains("other_budgets"));
}

// A summary from before --final-candidates and --final-seeds: rows only.
TEST(RunSummaryTest, OldSummariesReadWithoutTheLaterFields) {
  json j = Example().ToJson("m", "bismo-edge");
  for (const char* key : {"final_episode", "final_candidates", "final_seeds", "restarts",
                          "searched_minus_uniform", "test_images"}) {
    j.erase(key);
  }
  for (json& row : j["rows"]) row.erase("policy");
  const RunSummary r = RunSummary::FromJson(j, "summary.json");
  EXPECT_FALSE(r.final_episode.has_value());
  EXPECT_FALSE(r.searched_minus_uniform.has_value());
  EXPECT_TRUE(r.final_candidates.empty());
  EXPECT_EQ(r.rows[1].label, "uniform 4-bit (largest within budget)");
  j.erase("rows");
  EXPECT_EQ(test::InputErrorOf([&] { RunSummary::FromJson(j, "run/summary.json"); }),
            "run/summary.json: rows: expected an array");
}

// Truth: each restart's episodes scanned for the highest reward (first of equals).
TEST(RunSummaryTest, RestartBestsAreEachRestartsBestByReward) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> reward(-20, 0);  // ties are likely
  for (int64_t per : {1, 3, 5}) {
    std::vector<EpisodeRecord> log(13);
    for (size_t e = 0; e < log.size(); ++e) {
      log[e].episode = static_cast<int64_t>(e);
      log[e].reward = reward(rng) / 10.0;
      log[e].accuracy = 50.0 + static_cast<double>(e);
    }
    const std::vector<RestartRow> rows = RestartBests(log, per, 40);
    ASSERT_EQ(static_cast<int64_t>(rows.size()), (13 + per - 1) / per);
    for (const RestartRow& r : rows) {
      int64_t best = -1;
      for (int64_t e = r.restart * per; e < std::min<int64_t>(13, (r.restart + 1) * per); ++e) {
        if (best < 0 || log[static_cast<size_t>(e)].reward > log[static_cast<size_t>(best)].reward) {
          best = e;
        }
      }
      EXPECT_EQ(r.best_episode, best) << per << " " << r.restart;
      EXPECT_EQ(r.seed, 40u + static_cast<uint64_t>(r.restart));
      EXPECT_EQ(r.best_reward, log[static_cast<size_t>(best)].reward);
      EXPECT_EQ(r.best_reward_accuracy, log[static_cast<size_t>(best)].accuracy);
    }
  }
}

}  // namespace
}  // namespace haq::search
