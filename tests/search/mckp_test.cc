// The exact solver of --agent ilp against brute force: random multiple-choice
// knapsacks small enough to enumerate (5 groups x 16 options, one or two budgets),
// whose optimum the solver must equal and whose budgets it must meet; the k best
// solutions against the sorted enumeration; and the planner over a real cost table
// (mobilenet_v2 on bismo-edge, 4 free layers) against every policy of the run's
// bit range. Bad problems get exact messages.
#include "search/mckp.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <random>

#include "hw/cost_model.h"
#include "hw/spec.h"
#include "hw/zoo.h"
#include "search/baselines.h"
#include "search/ilp.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::search {
namespace {

ChoiceProblem RandomProblem(uint64_t seed, int groups, int options, int budgets) {
  std::mt19937_64 rng(seed);
  ChoiceProblem p;
  std::vector<double> lo(budgets, 0.0), hi(budgets, 0.0);
  for (int g = 0; g < groups; ++g) {
    std::vector<ChoiceOption> group;
    std::vector<double> gmin(budgets, 1e9), gmax(budgets, 0.0);
    for (int o = 0; o < options; ++o) {
      ChoiceOption opt;
      opt.value = UniformUnit(rng);
      for (int b = 0; b < budgets; ++b) {
        opt.costs.push_back(UniformUnit(rng));
        gmin[b] = std::min(gmin[b], opt.costs[b]);
        gmax[b] = std::max(gmax[b], opt.costs[b]);
      }
      group.push_back(opt);
    }
    for (int b = 0; b < budgets; ++b) {
      lo[b] += gmin[b];
      hi[b] += gmax[b];
    }
    p.groups.push_back(group);
  }
  for (int b = 0; b < budgets; ++b) {
    // A limit between the cheapest and the dearest total: binding, and feasible alone.
    p.limits.push_back(lo[b] + (0.15 + 0.5 * UniformUnit(rng)) * (hi[b] - lo[b]));
    p.limit_names.push_back(fmt::format("b{}", b));
  }
  return p;
}

// Every feasible solution's value, by enumeration; `kept` restricts each group's
// options (empty: all).
std::vector<double> EnumerateFeasible(const ChoiceProblem& p,
                                      const std::vector<std::vector<int>>& kept = {}) {
  std::vector<double> values;
  const size_t groups = p.groups.size();
  std::vector<int> idx(groups, 0);
  std::function<void(size_t, double, std::vector<double>)> walk = [&](size_t g, double v,
                                                                       std::vector<double> c) {
    if (g == groups) {
      for (size_t b = 0; b < c.size(); ++b) {
        if (c[b] > p.limits[b]) return;
      }
      values.push_back(v);
      return;
    }
    for (size_t o = 0; o < p.groups[g].size(); ++o) {
      if (!kept.empty() && std::find(kept[g].begin(), kept[g].end(), static_cast<int>(o)) == kept[g].end()) {
        continue;
      }
      std::vector<double> c2 = c;
      for (size_t b = 0; b < c2.size(); ++b) c2[b] += p.groups[g][o].costs[b];
      walk(g + 1, v + p.groups[g][o].value, c2);
    }
  };
  walk(0, 0.0, std::vector<double>(p.limits.size(), 0.0));
  std::sort(values.begin(), values.end());
  return values;
}

void ExpectWithinBudgets(const ChoiceProblem& p, const ChoiceSolution& s) {
  std::vector<double> costs(p.limits.size(), 0.0);
  double value = 0.0;
  for (size_t g = 0; g < p.groups.size(); ++g) {
    const ChoiceOption& o = p.groups[g].at(static_cast<size_t>(s.choice[g]));
    value += o.value;
    for (size_t b = 0; b < costs.size(); ++b) costs[b] += o.costs[b];
  }
  EXPECT_DOUBLE_EQ(value, s.value);
  for (size_t b = 0; b < costs.size(); ++b) {
    EXPECT_LE(costs[b], p.limits[b]) << "budget " << b;
    EXPECT_EQ(costs[b], s.costs[b]);
  }
}

TEST(ChoiceSolverTest, EqualsTheExhaustiveOptimumAndMeetsEveryBudget) {
  for (uint64_t seed = 0; seed < 24; ++seed) {
    const int budgets = seed % 2 == 0 ? 1 : 2;
    const ChoiceProblem p = RandomProblem(seed, 5, 16, budgets);
    const std::vector<double> all = EnumerateFeasible(p);
    ASSERT_FALSE(all.empty()) << "seed " << seed;
    const ChoiceSolution s = SolveChoices(p);
    ExpectWithinBudgets(p, s);
    // The solver proves optimality to GLPK's relative tolerance; the enumeration
    // finds the same solution (the values of distinct solutions differ by far more).
    EXPECT_NEAR(s.value, all.front(), 1e-9 * std::max(1.0, all.front())) << "seed " << seed;
  }
}

TEST(ChoiceSolverTest, TheKBestAreTheBestSolutionsOverNonDominatedOptions) {
  for (uint64_t seed = 100; seed < 108; ++seed) {
    const ChoiceProblem p = RandomProblem(seed, 5, 16, 1 + static_cast<int>(seed % 2));
    // Non-dominated options per group, by brute force over pairs.
    std::vector<std::vector<int>> kept(p.groups.size());
    for (size_t g = 0; g < p.groups.size(); ++g) {
      const auto& opts = p.groups[g];
      for (size_t i = 0; i < opts.size(); ++i) {
        bool dominated = false;
        for (size_t j = 0; j < opts.size(); ++j) {
          bool le = j != i && opts[j].value <= opts[i].value;
          for (size_t b = 0; le && b < p.limits.size(); ++b) le = opts[j].costs[b] <= opts[i].costs[b];
          dominated = dominated || le;
        }
        if (!dominated) kept[g].push_back(static_cast<int>(i));
      }
    }
    const std::vector<double> best = EnumerateFeasible(p, kept);
    const std::vector<ChoiceSolution> found = SolveBestChoices(p, 6);
    ASSERT_EQ(found.size(), std::min<size_t>(6, best.size())) << "seed " << seed;
    for (size_t i = 0; i < found.size(); ++i) {
      ExpectWithinBudgets(p, found[i]);
      EXPECT_NEAR(found[i].value, best[i], 1e-9) << "seed " << seed << " rank " << i;
      for (size_t j = 0; j < i; ++j) EXPECT_NE(found[i].choice, found[j].choice);
    }
  }
}

TEST(ChoiceSolverTest, ReturnsEverySolutionWhenAskedForMore) {
  ChoiceProblem p;
  p.groups = {{{1.0, {1.0}}, {0.0, {2.0}}}, {{1.0, {1.0}}, {0.0, {2.0}}}};
  p.limits = {3.0};
  p.limit_names = {"size=3"};
  // (1,1) cost 2, (0,1)/(1,0) cost 3; (0,0) costs 4, over the limit.
  const auto found = SolveBestChoices(p, 10);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].value, 1.0);
  EXPECT_EQ(found[1].value, 1.0);
  EXPECT_EQ(found[2].value, 2.0);
}

TEST(ChoiceSolverTest, InfeasibleAndConflictingBudgetsAreNamed) {
  ChoiceProblem p;
  p.groups = {{{1.0, {2.0, 1.0}}, {0.0, {1.0, 2.0}}}};
  p.limits = {0.5, 2.0};
  p.limit_names = {"latency=0.2", "size=0.5"};
  EXPECT_EQ(test::InputErrorOf([&] { SolveChoices(p); }),
            "budget latency=0.2: infeasible: the cheapest choice in every layer costs 1, above "
            "the limit 0.5 (2.0000x of it); raise the budget or lower --b-min");
  p.limits = {1.5, 1.5};  // each alone: yes; together: no option is within both
  EXPECT_EQ(test::InputErrorOf([&] { SolveChoices(p); }),
            "budgets latency=0.2 and size=0.5: conflicting: each can be met alone, but no policy "
            "meets them together");
}

TEST(ChoiceSolverTest, MalformedProblemsAreNamed) {
  ChoiceProblem p;
  p.groups = {{{1.0, {1.0}}}, {}};
  p.limits = {1.0};
  p.limit_names = {"latency=0.5"};
  EXPECT_EQ(test::InputErrorOf([&] { SolveChoices(p); }),
            "choice problem: group 1: expected at least one option");
  p.groups = {{{1.0, {1.0, 2.0}}}};
  EXPECT_EQ(test::InputErrorOf([&] { SolveChoices(p); }),
            "choice problem: group 0 option 0: expected 1 costs (one per budget), got 2");
  p.groups = {{{1.0, {-1.0}}}};
  EXPECT_EQ(test::InputErrorOf([&] { SolveChoices(p); }),
            "choice problem: group 0 option 0: latency=0.5 cost: expected a finite value >= 0, "
            "got -1");
  p.groups = {{{1.0, {1.0}}}};
  p.limits = {0.0};
  EXPECT_EQ(test::InputErrorOf([&] { SolveChoices(p); }),
            "budget latency=0.5: expected a positive finite limit, got 0");
  p.limits = {1.0};
  p.time_limit_seconds = 0;
  EXPECT_EQ(test::InputErrorOf([&] { SolveChoices(p); }),
            "ILP time limit: expected 0 < seconds <= 86400, got 0");
}

// A sensitivity table for `layers` with seeded traces; errors fall about 4x per bit,
// with noise.
quant::SensitivityTable RandomTable(const std::vector<hw::LayerShape>& layers, uint64_t seed) {
  quant::SensitivityTable t;
  std::mt19937_64 rng(seed);
  for (const hw::LayerShape& l : layers) {
    quant::LayerSensitivity s;
    s.name = l.name;
    s.weights = 1000;
    s.inputs = 5000;
    s.weight_trace = 1.0 + 9.0 * UniformUnit(rng);
    s.input_trace = 1.0 + 9.0 * UniformUnit(rng);
    for (int b = 1; b <= 8; ++b) {
      s.weight_error[b - 1] = std::pow(0.25, b) * (0.5 + UniformUnit(rng));
      s.input_error[b - 1] = std::pow(0.25, b) * (0.5 + UniformUnit(rng));
    }
    t.layers.push_back(s);
  }
  return t;
}

// The least summed perturbation over every policy of 4 free layers at bits 3..6 (16
// (w, a) pairs each, 65,536 policies) that `allowed` accepts.
double EnumeratedBest(const quant::SensitivityTable& t, const QuantEnv& env,
                      const std::function<bool(const hw::Policy&)>& allowed) {
  double best = std::numeric_limits<double>::infinity();
  for (int code = 0; code < 65536; ++code) {
    hw::Policy p = env.Uniform(3);
    double value = 0.0;
    for (size_t l = 0; l < 4; ++l) {
      const int pair = (code >> (4 * l)) & 15;
      p.layers[l].w_bits = 3 + pair / 4;
      p.layers[l].a_bits = 3 + pair % 4;
      value += t.layers[l].WeightPerturbation(p.layers[l].w_bits) +
               t.layers[l].InputPerturbation(p.layers[l].a_bits);
    }
    if (allowed(p)) best = std::min(best, value);
  }
  return best;
}

// The planner over a real cost table: every policy of 4 free layers at bits 3..6
// (16 (w, a) pairs each, 65,536 policies) enumerated against PlanIlp.
TEST(IlpPlannerTest, EqualsTheBestPolicyByEnumerationOnARealCostTable) {
  hw::ZooInput in;
  in.height = in.width = 64;
  std::vector<hw::LayerShape> layers = hw::ZooLayerShapes("mobilenet_v2", in);
  layers.resize(4);
  const auto spec = hw::LoadHardware("bismo-edge");
  const hw::CostTable table = hw::BuildCostTable(*hw::MakeCostModel(spec), layers, "mnv2", 1);
  EnvOptions o;
  o.b_min = 3;
  o.b_max = 6;
  o.pin_first = o.pin_last = false;
  const QuantEnv env(layers, table, ParseBudget("latency=0.45"), o);
  const quant::SensitivityTable t = RandomTable(layers, 7);
  const std::vector<PlannedPolicy> plan = PlanIlp(t, {&env}, 3, 60.0);
  ASSERT_EQ(plan.size(), 3u);
  const double best = EnumeratedBest(t, env, [&](const hw::Policy& p) { return env.Cost(p) <= env.budget(); });
  EXPECT_NEAR(plan[0].value, best, 1e-12 * best);
  for (size_t i = 0; i < plan.size(); ++i) {
    EXPECT_LE(env.Cost(plan[i].policy), env.budget());
    EXPECT_EQ(env.StepBits(env.EnforceBudget(plan[i].policy)), env.StepBits(plan[i].policy));
    if (i > 0) {
      EXPECT_GE(plan[i].value, plan[i - 1].value);
    }
  }
}

TEST(IlpPlannerTest, HonoursPinsAndTheBitRange) {
  hw::ZooInput in;
  in.height = in.width = 64;
  std::vector<hw::LayerShape> layers = hw::ZooLayerShapes("mobilenet_v2", in);
  const auto spec = hw::LoadHardware("bismo-edge");
  const hw::CostTable table = hw::BuildCostTable(*hw::MakeCostModel(spec), layers, "mnv2", 2);
  EnvOptions o;
  o.b_min = 3;
  o.b_max = 7;
  const QuantEnv env(layers, table, ParseBudget("latency=5bit"), o);
  quant::SensitivityTable t;
  for (const hw::LayerShape& l : layers) {
    quant::LayerSensitivity s;
    s.name = l.name;
    s.weights = s.inputs = 100;
    s.weight_trace = s.input_trace = 1.0;
    for (int b = 1; b <= 8; ++b) s.weight_error[b - 1] = s.input_error[b - 1] = std::pow(0.25, b);
    t.layers.push_back(s);
  }
  const PlannedPolicy p = PlanIlp(t, {&env}, 1, 60.0).front();
  EXPECT_LE(env.Cost(p.policy), env.budget());
  EXPECT_EQ(p.policy.layers.front().w_bits, 8);
  EXPECT_EQ(p.policy.layers.front().a_bits, 0);
  EXPECT_EQ(p.policy.layers.back().w_bits, 8);
  EXPECT_EQ(p.policy.layers.back().a_bits, 8);
  for (size_t l = 1; l + 1 < layers.size(); ++l) {
    EXPECT_GE(p.policy.layers[l].w_bits, 3);
    EXPECT_LE(p.policy.layers[l].w_bits, 7);
    EXPECT_GE(p.policy.layers[l].a_bits, 3);
    EXPECT_LE(p.policy.layers[l].a_bits, 7);
  }
  // The all-minimum policy's cost as the budget is feasible; below it, refused.
  // The message shows the costs in the metric's unit (ms), the budget as given.
  const double cheapest = env.Cost(env.Uniform(3));
  const std::string text = fmt::format("latency={}s", cheapest * 0.99);
  const QuantEnv tight(layers, table, ParseBudget(text), o);
  EXPECT_EQ(test::InputErrorOf([&] { PlanIlp(t, {&tight}, 1, 60.0); }),
            fmt::format("budget {}: infeasible: the cheapest choice in every layer costs {:.6g} "
                        "ms, above the limit {:.6g} ms ({:.4f}x of it); raise the budget or lower "
                        "--b-min",
                        text, cheapest * 1e3, tight.budget() * 1e3, cheapest / tight.budget()));
  quant::SensitivityTable other = t;
  other.layers[2].name = "features.99";
  EXPECT_EQ(test::InputErrorOf([&] { PlanIlp(other, {&env}, 1, 60.0); }),
            fmt::format("ILP: layer 2: the sensitivity table has 'features.99', the model '{}'",
                        layers[2].name));
}


// A hand-worked walk. Start at the lowest values: a0 + b0 costs 20 > 15. Per cost
// saved a0->a1 adds 1/4, a0->a2 5/8, b0->b1 3/5: take a1 (16, still over); then
// b0->b1 (3/5) before a1->a2 (4/4): 11. Slack 4: a1->a0 (gain 1 for cost 4) fits,
// b1->b0 (cost 5) does not: a0 + b1, value 3 at cost 15, which is also the optimum.
TEST(GreedyChoicesTest, LowersByValuePerCostSavedThenSpendsTheSlack) {
  ChoiceProblem p;
  p.groups = {{{0.0, {10.0}}, {1.0, {6.0}}, {5.0, {2.0}}}, {{0.0, {10.0}}, {3.0, {5.0}}}};
  p.limits = {15.0};
  p.limit_names = {"latency=15"};
  const ChoiceSolution s = GreedyChoices(p);
  EXPECT_EQ(s.choice, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.value, 3.0);
  EXPECT_EQ(s.costs, (std::vector<double>{15.0}));
  EXPECT_EQ(s.value, SolveChoices(p).value);
}

// On random instances: with one budget the walk always ends within it (every group
// can reach its cheapest option without raising a cost); with two it ends within
// both or says it is stuck. Never better than the optimum, and after the slack is
// spent no single option change lowers the value within the budgets.
TEST(GreedyChoicesTest, MeetsTheBudgetsNeverBeatsTheOptimumAndLeavesNoRaiseThatFits) {
  int stuck = 0;
  double gap = 0.0;
  int solved = 0;
  for (uint64_t seed = 200; seed < 240; ++seed) {
    const int budgets = seed % 2 == 0 ? 1 : 2;
    const ChoiceProblem p = RandomProblem(seed, 5, 16, budgets);
    ChoiceSolution s;
    try {
      s = GreedyChoices(p);
    } catch (const util::InputError& e) {
      ASSERT_EQ(budgets, 2) << "seed " << seed << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("the greedy walk found no lowering"), std::string::npos);
      ++stuck;
      continue;
    }
    ExpectWithinBudgets(p, s);
    const double optimum = EnumerateFeasible(p).front();
    EXPECT_GE(s.value, optimum - 1e-12) << "seed " << seed;
    gap += s.value - optimum;
    ++solved;
    for (size_t g = 0; g < p.groups.size(); ++g) {
      for (size_t o = 0; o < p.groups[g].size(); ++o) {
        const ChoiceOption& from = p.groups[g][static_cast<size_t>(s.choice[g])];
        const ChoiceOption& to = p.groups[g][o];
        if (!(to.value < from.value)) continue;
        bool fits = true;
        for (size_t b = 0; b < p.limits.size(); ++b) {
          fits = fits && s.costs[b] - from.costs[b] + to.costs[b] <= p.limits[b] * (1 - 1e-12);
        }
        EXPECT_FALSE(fits) << "seed " << seed << ": group " << g << " option " << o << " fits";
      }
    }
  }
  std::printf("greedy: %d of 40 solved (%d stuck on two budgets), mean gap to the optimum %.4f\n",
              solved, stuck, gap / solved);
  EXPECT_GE(solved, 20);  // all 20 single-budget instances
}

// Two budgets the walk cannot meet together although a policy exists: lowering
// group 0 or 1 to its second option saves budget b0 only by raising b1.
TEST(GreedyChoicesTest, SaysWhenItsWalkIsStuckWhereTheIntegerProgramIsNot) {
  ChoiceProblem p;
  p.groups = {{{0.0, {2.0, 0.0}}, {1.0, {0.0, 2.0}}}, {{0.0, {2.0, 0.0}}, {1.0, {0.0, 2.0}}}};
  p.limits = {2.0, 2.0};
  p.limit_names = {"latency=2", "energy=2"};
  EXPECT_EQ(test::InputErrorOf([&] { GreedyChoices(p); }),
            "budget latency=2: the greedy walk found no lowering that meets it without raising "
            "another budget's cost; the integer program (--agent ilp) solves such budgets exactly");
  EXPECT_EQ(SolveChoices(p).value, 1.0);
}

// Two accelerators at once: a latency budget on bismo-edge and an energy budget on
// bitfusion (its own cost table, at its own batch), against every policy of 4 free
// layers at bits 3..6. BitFusion's energy for these layers falls little with bits
// (all at 3 bits: 0.907x of 8-bit), so its budget is 0.92x, where it binds.
TEST(IlpPlannerTest, MeetsBudgetsOnTwoAcceleratorsAsEnumerationDoes) {
  hw::ZooInput in;
  in.height = in.width = 64;
  std::vector<hw::LayerShape> layers = hw::ZooLayerShapes("mobilenet_v2", in);
  layers.resize(4);
  const auto edge = hw::LoadHardware("bismo-edge");
  const auto fusion = hw::LoadHardware("bitfusion");
  const hw::CostTable edge_table = hw::BuildCostTable(*hw::MakeCostModel(edge), layers, "mnv2", 1);
  const hw::CostTable fusion_table = hw::BuildCostTable(*hw::MakeCostModel(fusion), layers, "mnv2", 1);
  EnvOptions o;
  o.b_min = 3;
  o.b_max = 6;
  o.pin_first = o.pin_last = false;
  const QuantEnv latency(layers, edge_table, ParseBudget("latency=0.5"), o);
  const QuantEnv energy(layers, fusion_table, ParseBudget("energy=0.92@bitfusion"), o);
  const quant::SensitivityTable t = RandomTable(layers, 11);
  auto within = [](const QuantEnv& e, const hw::Policy& p) { return e.Cost(p) <= e.budget(); };
  const double best_latency_only =
      EnumeratedBest(t, latency, [&](const hw::Policy& p) { return within(latency, p); });
  const double best = EnumeratedBest(
      t, latency, [&](const hw::Policy& p) { return within(latency, p) && within(energy, p); });
  ASSERT_GT(best, best_latency_only) << "the energy budget should bind";
  const PlannedPolicy plan = PlanIlp(t, {&latency, &energy}, 1, 60.0).front();
  EXPECT_NEAR(plan.value, best, 1e-12 * best);
  EXPECT_LE(latency.Cost(plan.policy), latency.budget());
  EXPECT_LE(energy.Cost(plan.policy), energy.budget());
  ASSERT_EQ(plan.costs.size(), 2u);
  EXPECT_DOUBLE_EQ(plan.costs[0], latency.Cost(plan.policy));
  EXPECT_DOUBLE_EQ(plan.costs[1], energy.Cost(plan.policy));
}


// A program far too large to prove optimal within a millisecond (300 layers x 64
// choices, two budgets) stops with the time-limit message.
TEST(ChoiceSolverTest, ASolvePastItsTimeLimitIsAnErrorNamingTheFlag) {
  ChoiceProblem p = RandomProblem(5, 300, 64, 2);
  p.time_limit_seconds = 0.001;
  const std::string err = test::InputErrorOf([&] { SolveChoices(p); });
  EXPECT_EQ(err.rfind("ILP: no proven optimum within the time limit of 0.001 s (--ilp-time-limit); ", 0), 0u)
      << err;
}

}  // namespace
}  // namespace haq::search
