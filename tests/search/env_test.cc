// The search environment against independent truth: the action-to-bits map on
// every interval, normalised features, the budget wall against a direct
// re-implementation of the published procedure (re-summing the cost after every
// change) on random policies and budgets, the largest fitting uniform width by
// brute force, and budget parsing with exact messages.
#include "search/env.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "hw/cost_model.h"
#include "hw/spec.h"
#include "hw/zoo.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::search {
namespace {

struct Fixture {
  std::vector<hw::LayerShape> layers;
  hw::CostTable table;
};

const Fixture& MobileNetEdge() {
  static const Fixture f = [] {
    Fixture x;
    hw::ZooInput in;
    in.height = in.width = 96;
    x.layers = hw::ZooLayerShapes("mobilenet_v2", in);
    const auto spec = hw::LoadHardware("bismo-edge");
    x.table = hw::BuildCostTable(*hw::MakeCostModel(spec), x.layers, "mobilenet_v2", 2);
    return x;
  }();
  return f;
}

QuantEnv Env(Budget b, EnvOptions o = {}) {
  return QuantEnv(MobileNetEdge().layers, MobileNetEdge().table, b, o);
}

TEST(SearchEnvTest, ActionsMapToEqualIntervalsOfBits) {
  for (auto [lo, hi] : {std::pair{2, 8}, std::pair{1, 8}, std::pair{4, 4}}) {
    EnvOptions o;
    o.b_min = lo;
    o.b_max = hi;
    const QuantEnv env = Env(ParseBudget("latency=0.5"), o);
    const int n = hi - lo + 1;
    for (int k = 0; k <= 1000; ++k) {
      const double a = k / 1000.0;
      // Interval i = floor(a * n) (the top end belongs to the last one).
      const int expect = lo + std::min(static_cast<int>(a * n), n - 1);
      if (std::abs(a * n - std::round(a * n)) < 1e-9 && k != 0 && k != 1000) continue;  // edges
      EXPECT_EQ(env.ActionToBits(a), expect) << "a " << a << " bits " << lo << ".." << hi;
    }
    for (int b = lo; b <= hi; ++b) EXPECT_EQ(env.ActionToBits(env.BitsToAction(b)), b);
  }
}

TEST(SearchEnvTest, StatesHaveTenNormalisedFeatures) {
  const QuantEnv env = Env(ParseBudget("latency=0.5"));
  EXPECT_EQ(env.num_steps(), 2 * static_cast<int64_t>(env.num_layers()));
  std::vector<float> lo(10, 1.0f), hi(10, 0.0f);
  for (int64_t t = 0; t < env.num_steps(); ++t) {
    const auto s = env.State(t, 0.25);
    ASSERT_EQ(s.size(), 10u);
    EXPECT_EQ(s[8], t % 2 == 0 ? 1.0f : 0.0f) << "weight/activation flag";
    EXPECT_EQ(s[9], 0.25f);
    EXPECT_EQ(s[7], env.layers()[env.StepLayer(t)].kind == hw::LayerKind::kDepthwise ? 1.0f : 0.0f);
    for (size_t j = 0; j < 9; ++j) {
      lo[j] = std::min(lo[j], s[j]);
      hi[j] = std::max(hi[j], s[j]);
    }
  }
  for (size_t j = 0; j < 9; ++j) {
    EXPECT_EQ(lo[j], 0.0f) << j;
    EXPECT_EQ(hi[j], 1.0f) << j;
  }
}

// The published wall, written directly: re-sum the whole policy after every change.
hw::Policy ReferenceWall(const QuantEnv& env, hw::Policy p) {
  const size_t n = p.layers.size();
  const auto& o = env.options();
  auto pinned = [&](size_t l) { return (o.pin_first && l == 0) || (o.pin_last && l + 1 == n); };
  while (env.Cost(p) > env.budget()) {
    bool changed = false;
    for (size_t l = n; l-- > 0;) {
      if (pinned(l)) continue;
      if (!o.weights_only && p.layers[l].a_bits > o.b_min) {
        --p.layers[l].a_bits;
        changed = true;
        if (env.Cost(p) <= env.budget()) return p;
      }
      if (p.layers[l].w_bits > o.b_min) {
        --p.layers[l].w_bits;
        changed = true;
        if (env.Cost(p) <= env.budget()) return p;
      }
    }
    if (!changed) break;
  }
  return p;
}

TEST(SearchEnvTest, WallMatchesTheReferenceAndEndsWithinBudgetOrAtMinimum) {
  std::mt19937_64 rng(11);
  for (const char* metric : {"latency", "size"}) {
    for (bool weights_only : {false, true}) {
      for (int trial = 0; trial < 60; ++trial) {
        EnvOptions o;
        o.weights_only = weights_only;
        o.pin_first = trial % 3 != 0;
        o.pin_last = trial % 4 != 0;
        const double fraction = 0.05 + 0.9 * static_cast<double>(rng() % 1000) / 1000.0;
        const QuantEnv env = Env(ParseBudget(fmt::format("{}={}", metric, fraction)), o);
        std::vector<int> bits;
        for (int64_t t = 0; t < env.num_steps(); ++t) bits.push_back(2 + static_cast<int>(rng() % 7));
        const hw::Policy p = env.PolicyFromStepBits(bits);
        const hw::Policy walled = env.EnforceBudget(p);
        SCOPED_TRACE(fmt::format("{} {} trial {}", metric, weights_only, trial));
        EXPECT_EQ(env.StepBits(walled), env.StepBits(ReferenceWall(env, p)));
        bool at_minimum = true;
        for (size_t l = 0; l < walled.layers.size(); ++l) {
          const bool pinned = (o.pin_first && l == 0) || (o.pin_last && l + 1 == walled.layers.size());
          EXPECT_LE(walled.layers[l].w_bits, p.layers[l].w_bits);
          EXPECT_LE(walled.layers[l].a_bits, p.layers[l].a_bits);
          if (pinned) {
            EXPECT_EQ(walled.layers[l].w_bits, p.layers[l].w_bits);
            EXPECT_EQ(walled.layers[l].a_bits, p.layers[l].a_bits);
          } else if (walled.layers[l].w_bits > o.b_min ||
                     (!weights_only && walled.layers[l].a_bits > o.b_min)) {
            at_minimum = false;
          }
        }
        EXPECT_TRUE(env.Cost(walled) <= env.budget() || at_minimum);
      }
    }
  }
}

TEST(SearchEnvTest, PinsAndWeightsOnlyShapeThePolicy) {
  EnvOptions o;
  o.weights_only = true;
  const QuantEnv env = Env(ParseBudget("size=0.3"), o);
  EXPECT_EQ(env.num_steps(), static_cast<int64_t>(env.num_layers()));
  const hw::Policy p = env.PolicyFromStepBits(std::vector<int>(env.num_layers(), 3));
  EXPECT_EQ(p.layers.front().w_bits, 8);
  EXPECT_EQ(p.layers.front().a_bits, 0);
  EXPECT_EQ(p.layers.back().w_bits, 8);
  EXPECT_EQ(p.layers.back().a_bits, 0);
  EXPECT_EQ(p.layers[1].w_bits, 3);
  // Size cost is the sum of weights x bits, whatever the activation bits.
  double bits = 0;
  for (size_t l = 0; l < env.num_layers(); ++l) {
    bits += static_cast<double>(env.layers()[l].WeightCount() * p.layers[l].w_bits);
  }
  EXPECT_EQ(env.Cost(p), bits);
}

TEST(SearchEnvTest, LargestUniformWidthIsTheBruteForceOne) {
  for (double f : {0.1, 0.3, 0.45, 0.6, 0.75, 0.9, 1.0}) {
    const QuantEnv env = Env(ParseBudget(fmt::format("latency={}", f)));
    int expect = 2;
    for (int b = 2; b <= 8; ++b) {
      if (env.Cost(env.Uniform(b)) <= env.budget()) expect = b;
    }
    EXPECT_EQ(env.LargestUniformBitsWithinBudget(), expect) << f;
  }
}

TEST(SearchEnvTest, BudgetsInUnits) {
  const QuantEnv rel = Env(ParseBudget("latency=0.5"));
  EXPECT_DOUBLE_EQ(rel.budget(), 0.5 * rel.uniform8_cost());
  EXPECT_DOUBLE_EQ(Env(ParseBudget("latency=2.5ms")).budget(), 2.5e-3);
  EXPECT_DOUBLE_EQ(Env(ParseBudget("size=0.5MB")).budget(), 4e6);
  EXPECT_DOUBLE_EQ(ParseBudget("energy=3mJ").value, 3e9);
  EXPECT_DOUBLE_EQ(ParseBudget("size=12kB").value, 96e3);
  EXPECT_FALSE(ParseBudget("energy=3mJ").relative);
  EXPECT_TRUE(ParseBudget("energy=0.4").relative);
  const QuantEnv four = Env(ParseBudget("latency=4bit"));
  EXPECT_EQ(four.budget(), four.Cost(four.Uniform(4)));
  EXPECT_EQ(four.LargestUniformBitsWithinBudget(), 4);
}

TEST(SearchEnvTest, BadBudgetsAndSettingsHaveExactMessages) {
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const util::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { ParseBudget("latency"); }),
            "--budget: expected METRIC=AMOUNT, e.g. latency=0.6 (of uniform 8-bit), "
            "latency=2.5ms, energy=3mJ, size=0.1MB, latency=4bit, got 'latency'");
  EXPECT_EQ(message([] { ParseBudget("speed=0.5"); }),
            "--budget: expected the metric latency, energy or size before '=', got 'speed'");
  EXPECT_EQ(message([] { ParseBudget("latency=-1"); }),
            "--budget: expected a positive number after 'latency=', got '-1'");
  EXPECT_EQ(message([] { ParseBudget("latency=3mJ"); }),
            "--budget: expected no unit (a fraction of uniform 8-bit), Nbit, or one of s, ms, us "
            "for latency, got 'mJ'");
  EXPECT_EQ(message([] { ParseBudget("latency=9bit"); }),
            "--budget: expected no unit (a fraction of uniform 8-bit), Nbit, or one of s, ms, us "
            "for latency, got 'bit'");
  EXPECT_EQ(message([] { Env(ParseBudget("energy=0.5")); }),
            "--budget energy: hardware 'bismo-edge' has no energy model; use a latency or size "
            "budget");
  EnvOptions o;
  o.b_min = 6;
  o.b_max = 3;
  EXPECT_EQ(message([&] { Env(ParseBudget("latency=0.5"), o); }),
            "bits: expected 1 <= b_min <= b_max <= 8, got 6..3");
}

TEST(SearchEnvTest, SeveralBudgetsParseInOrderWithExactMessages) {
  const std::vector<Budget> b = ParseBudgets("latency=4bit,size=0.3,energy=2mJ@bitfusion");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].metric, Metric::kLatency);
  EXPECT_EQ(b[0].uniform_bits, 4);
  EXPECT_EQ(b[0].hardware, "");
  EXPECT_EQ(b[1].metric, Metric::kSize);
  EXPECT_DOUBLE_EQ(b[1].value, 0.3);
  EXPECT_EQ(b[2].metric, Metric::kEnergy);
  EXPECT_DOUBLE_EQ(b[2].value, 2e9);
  EXPECT_FALSE(b[2].relative);
  EXPECT_EQ(b[2].hardware, "bitfusion");
  EXPECT_EQ(b[2].text, "energy=2mJ@bitfusion");
  EXPECT_EQ(ParseBudgets("latency=0.5,energy=3bit@my spec.yaml").size(), 2u) << "later: any";
  // One budget reads as before, named by the flag alone.
  EXPECT_EQ(ParseBudgets("latency=0.5").front().text, "latency=0.5");
  EXPECT_EQ(test::InputErrorOf([] { ParseBudgets("latency"); }),
            "--budget: expected METRIC=AMOUNT, e.g. latency=0.6 (of uniform 8-bit), "
            "latency=2.5ms, energy=3mJ, size=0.1MB, latency=4bit, got 'latency'");
  EXPECT_EQ(test::InputErrorOf([] { ParseBudgets("latency=0.5,,size=0.3"); }),
            "--budget (budget 2): expected METRIC=AMOUNT, got an empty entry in "
            "'latency=0.5,,size=0.3'");
  EXPECT_EQ(test::InputErrorOf([] { ParseBudgets("latency=0.5,size=-2"); }),
            "--budget (budget 2): expected a positive number after 'size=', got '-2'");
  EXPECT_EQ(test::InputErrorOf([] { ParseBudgets("latency=0.5@bitfusion,size=0.3"); }),
            "--budget (budget 1): the first budget is on the run's hardware (--hw); expected no "
            "@bitfusion on it (name another accelerator on a later budget), got "
            "'latency=0.5@bitfusion'");
  EXPECT_EQ(test::InputErrorOf([] { ParseBudgets("latency=0.5,latency=2ms"); }),
            "--budget (budget 2): latency on the run's hardware is already budgeted by "
            "'latency=0.5'; expected each metric once per accelerator, got 'latency=2ms'");
  EXPECT_EQ(test::InputErrorOf([] { ParseBudgets("latency=0.5,energy=0.4@"); }),
            "--budget (budget 2): expected a hardware name or spec file after '@', got nothing in "
            "'energy=0.4@'");
}

}  // namespace
}  // namespace haq::search
