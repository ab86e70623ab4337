// The greedy strategy's probes and walk on a real cost table (mobilenet_v2 layers on
// bismo-edge) with a stand-in evaluator whose accuracy drops are known exactly: the
// probes measured are those drops, the policy meets the budget and keeps the pins,
// a layer far more sensitive than the rest is lowered last, and an interrupted probe
// pass resumes without redoing a probe. A damaged or foreign cache is refused naming
// its line.
#include "search/greedy.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "hw/cost_model.h"
#include "hw/spec.h"
#include "hw/zoo.h"
#include "test_util.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::search {
namespace {

namespace fs = std::filesystem;

std::vector<hw::LayerShape> Layers(size_t n) {
  hw::ZooInput in;
  in.height = in.width = 64;
  std::vector<hw::LayerShape> layers = hw::ZooLayerShapes("mobilenet_v2", in);
  layers.resize(n);
  return layers;
}

const hw::CostTable& Table() {
  static const hw::CostTable table = hw::BuildCostTable(
      *hw::MakeCostModel(hw::LoadHardware("bismo-edge")), Layers(8), "mnv2", 1);
  return table;
}

QuantEnv Env(const std::string& budget, int b_min, int b_max) {
  EnvOptions o;
  o.b_min = b_min;
  o.b_max = b_max;
  return QuantEnv(Layers(8), Table(), ParseBudget(budget), o);
}

// Accuracy 90 minus, per layer, weight(l) x (8 - w)^2 + input(l) x (8 - a)^2: additive,
// so each probe's drop is its own term.
struct Additive {
  std::vector<double> weight, input;
  int calls = 0;
  int fail_at = 0;  ///< > 0: this call throws (an interruption)
  double Drop(size_t l, int w, int a) const {
    return weight[l] * (8 - w) * (8 - w) + (a > 0 ? input[l] * (8 - a) * (8 - a) : 0.0);
  }
  PolicyEvaluator Evaluator() {
    return [this](const hw::Policy& p) {
      if (++calls == fail_at) throw std::runtime_error("interrupted");
      double acc = 90.0;
      for (size_t l = 0; l < p.layers.size(); ++l) acc -= Drop(l, p.layers[l].w_bits, p.layers[l].a_bits);
      return EvalOutcome{acc, 0.0, 0.0, {}};
    };
  }
};

Additive Sensitivities() {
  Additive a;
  for (size_t l = 0; l < 8; ++l) {
    a.weight.push_back(0.01 * static_cast<double>(1 + l % 3));
    a.input.push_back(0.02 * static_cast<double>(1 + (l + 1) % 2));
  }
  return a;
}

TEST(GreedyProbesTest, AreTheReferenceThenEachLowerableTensorAtEachWidth) {
  const QuantEnv env = Env("latency=0.5", 5, 8);
  const std::vector<Probe> probes = GreedyProbes(env);
  // Layers 0 and 7 are pinned: 6 layers x (weight, input) x widths 7, 6, 5.
  ASSERT_EQ(probes.size(), 1u + 6 * 2 * 3);
  EXPECT_EQ(probes[0].layer, -1);
  EXPECT_EQ(probes[0].bits, 8);
  EXPECT_TRUE(probes[1].SameProbe({1, true, 7}));
  EXPECT_TRUE(probes[3].SameProbe({1, true, 5}));
  EXPECT_TRUE(probes[4].SameProbe({1, false, 7}));
  EXPECT_TRUE(probes.back().SameProbe({6, false, 5}));
  const hw::Policy reference = ProbePolicy(env, probes[0]);
  EXPECT_EQ(hw::PolicyToJson(reference, "", ""), hw::PolicyToJson(env.Uniform(8), "", ""));
  for (const Probe& p : probes) {
    const hw::Policy q = ProbePolicy(env, p);
    int changed = 0;
    for (size_t l = 0; l < q.layers.size(); ++l) {
      changed += (q.layers[l].w_bits != reference.layers[l].w_bits) +
                 (q.layers[l].a_bits != reference.layers[l].a_bits);
    }
    EXPECT_EQ(changed, p.layer < 0 ? 0 : 1);
  }
}

TEST(GreedyTest, MeasuresTheKnownDropsAndLowersTheLeastSensitiveLayersFirst) {
  test::TempDir dir;
  const QuantEnv env = Env("latency=6bit", 4, 8);
  Additive truth = Sensitivities();
  truth.weight[3] = truth.input[3] = 100.0;  // far more sensitive than the rest
  const std::vector<Probe> probes = MeasureProbes(env, truth.Evaluator(), dir / "p.jsonl", nullptr);
  ASSERT_EQ(probes.size(), GreedyProbes(env).size());
  for (const Probe& p : probes) {
    if (p.layer < 0) continue;
    const double drop = p.weight ? truth.Drop(p.layer, p.bits, 8) : truth.Drop(p.layer, 8, p.bits);
    EXPECT_NEAR(probes[0].accuracy - p.accuracy, drop, 1e-9);
  }
  const PlannedPolicy plan = PlanGreedy(probes, {&env});
  EXPECT_LE(env.Cost(plan.policy), env.budget());
  EXPECT_EQ(plan.policy.layers[3].w_bits, 8);
  EXPECT_EQ(plan.policy.layers[3].a_bits, 8);
  EXPECT_EQ(plan.policy.layers.front().w_bits, 8);
  EXPECT_EQ(plan.policy.layers.front().a_bits, 0);
  EXPECT_EQ(plan.policy.layers.back().w_bits, 8);
  EXPECT_EQ(plan.policy.layers.back().a_bits, 8);
  double drop = 0.0;
  for (size_t l = 0; l < 8; ++l) drop += truth.Drop(l, plan.policy.layers[l].w_bits, plan.policy.layers[l].a_bits);
  EXPECT_NEAR(plan.value, drop, 1e-9);
  // The uniform 6-bit policy meets the same budget and loses more.
  const hw::Policy uniform = env.Uniform(6);
  double uniform_drop = 0.0;
  for (size_t l = 0; l < 8; ++l) uniform_drop += truth.Drop(l, uniform.layers[l].w_bits, uniform.layers[l].a_bits);
  EXPECT_LT(plan.value, uniform_drop);
}

// Probes measured in batches (a round of --parallel K on the run's workers) are the
// probes one at a time; a batch interrupted midway keeps the batches before it.
TEST(GreedyTest, ProbesInBatchesAreTheProbesOneAtATime) {
  test::TempDir dir;
  const QuantEnv env = Env("latency=0.5", 5, 8);
  const size_t total = GreedyProbes(env).size();
  Additive one = Sensitivities();
  const std::vector<Probe> single = MeasureProbes(env, one.Evaluator(), dir / "one.jsonl", nullptr);
  Additive batched = Sensitivities();
  std::vector<size_t> sizes;
  const BatchEvaluator in_fours = [&](const std::vector<EvalTask>& tasks) {
    sizes.push_back(tasks.size());
    for (size_t i = 0; i < tasks.size(); ++i) EXPECT_EQ(tasks[i].episode, tasks[0].episode + static_cast<int64_t>(i));
    return OneByOne(batched.Evaluator())(tasks);
  };
  const std::vector<Probe> four = MeasureProbes(env, in_fours, 4, dir / "four.jsonl", nullptr);
  ASSERT_EQ(four.size(), total);
  for (size_t i = 0; i < total; ++i) {
    EXPECT_TRUE(four[i].SameProbe(single[i]));
    EXPECT_EQ(four[i].accuracy, single[i].accuracy) << i;
  }
  EXPECT_EQ(sizes.size(), (total + 3) / 4);
  EXPECT_EQ(sizes.back(), total % 4 == 0 ? 4 : total % 4);
  // Interrupted in the third batch: the first two (8 probes) are kept.
  Additive cut = Sensitivities();
  cut.fail_at = 10;
  EXPECT_THROW(MeasureProbes(env, OneByOne(cut.Evaluator()), 4, dir / "cut.jsonl", nullptr), std::runtime_error);
  const std::string kept = util::ReadFile(dir / "cut.jsonl");
  EXPECT_EQ(std::count(kept.begin(), kept.end(), '\n'), 8);
}

TEST(GreedyTest, AnInterruptedProbePassResumesWithoutRedoingAProbe) {
  test::TempDir dir;
  const QuantEnv env = Env("latency=0.5", 5, 8);
  const size_t total = GreedyProbes(env).size();
  Additive whole = Sensitivities();
  const std::vector<Probe> uninterrupted = MeasureProbes(env, whole.Evaluator(), dir / "whole.jsonl", nullptr);
  EXPECT_EQ(whole.calls, static_cast<int>(total));

  Additive first = Sensitivities();
  first.fail_at = 10;
  EXPECT_THROW(MeasureProbes(env, first.Evaluator(), dir / "cut.jsonl", nullptr), std::runtime_error);
  // The 9 probes done were kept, one line each.
  const std::string cut = util::ReadFile(dir / "cut.jsonl");
  EXPECT_EQ(std::count(cut.begin(), cut.end(), '\n'), 9);
  Additive second = Sensitivities();
  const std::vector<Probe> resumed = MeasureProbes(env, second.Evaluator(), dir / "cut.jsonl", nullptr);
  EXPECT_EQ(second.calls, static_cast<int>(total - 9));
  ASSERT_EQ(resumed.size(), uninterrupted.size());
  for (size_t i = 0; i < total; ++i) {
    EXPECT_TRUE(resumed[i].SameProbe(uninterrupted[i]));
    EXPECT_EQ(resumed[i].accuracy, uninterrupted[i].accuracy) << "probe " << i + 1;
  }
}

TEST(GreedyTest, ACacheFromAnotherBitRangeOrDamagedIsRefusedNamingTheLine) {
  test::TempDir dir;
  const QuantEnv wide = Env("latency=0.5", 5, 8);
  const QuantEnv narrow = Env("latency=0.5", 6, 8);
  Additive a = Sensitivities();
  const fs::path path = dir / "p.jsonl";
  MeasureProbes(wide, a.Evaluator(), path, nullptr);
  // Line 4 is layer 1's weight at 5 bits in the wide range, its input at 7 in the narrow.
  const std::string name = wide.layers()[1].name;
  EXPECT_EQ(test::InputErrorOf([&] { MeasureProbes(narrow, a.Evaluator(), path, nullptr); }),
            fmt::format("{}:4: tensor: expected \"input\" (the probe {} input at 7 bits), got "
                        "\"weight\"; the file is from another model or bit range",
                        path.string(), name));
  const std::string text = util::ReadFile(path);
  const size_t second = text.find('\n') + 1;
  util::WriteFileAtomic(path, text.substr(0, second) + "{\"layer\": \n");
  EXPECT_NE(test::InputErrorOf([&] { MeasureProbes(wide, a.Evaluator(), path, nullptr); })
                .find(path.string() + ":2: malformed JSON"),
            std::string::npos);
  util::WriteFileAtomic(path, text.substr(0, second) +
                                  fmt::format("{{\"layer\": \"{}\", \"tensor\": \"weight\", \"bits\": "
                                              "7, \"accuracy\": 140, \"seconds\": 0}}\n",
                                              name));
  EXPECT_EQ(test::InputErrorOf([&] { MeasureProbes(wide, a.Evaluator(), path, nullptr); }),
            path.string() + ":2: accuracy: expected a percentage 0..100, got 140");
}

}  // namespace
}  // namespace haq::search
