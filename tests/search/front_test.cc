// search/front.h: --budgets parsing, the uniform line a sweep's points are judged
// against (by hand), and front.json's round trip and errors.
#include "search/front.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace haq::search {
namespace {

using json = nlohmann::json;

TEST(SweepBudgetsTest, OneMetricAndItsAmountsMakeABudgetEach) {
  EXPECT_EQ(ParseSweepBudgets("latency=0.3,0.45,4bit"),
            (std::vector<std::string>{"latency=0.3", "latency=0.45", "latency=4bit"}));
  EXPECT_EQ(SweepRunName("latency=0.45"), "latency-0.45");
}

TEST(SweepBudgetsTest, MalformedListsAreNamedByFlagAndPosition) {
  auto error_of = [](const std::string& text) {
    return test::InputErrorOf([&] { ParseSweepBudgets(text); });
  };
  EXPECT_EQ(error_of("0.3,0.4"),
            "--budgets: expected METRIC=A1,A2,... (for instance latency=0.3,0.4,0.5), got '0.3,0.4'");
  EXPECT_EQ(error_of("latency=0.3,,0.5"),
            "--budgets (budget 2): expected an amount, got an empty entry in 'latency=0.3,,0.5'");
  EXPECT_EQ(error_of("latency=0.3,0.4,0.3"),
            "--budgets (budget 3): '0.3' is budget 1 already; expected each amount once");
  EXPECT_EQ(error_of("latency=0.3"),
            "--budgets: expected at least two amounts for a sweep (one budget is a search: haq "
            "search --budget), got 'latency=0.3'");
  EXPECT_EQ(error_of("latency=0.3,0.4@bitfusion"),
            "--budgets (budget 2): a sweep's budgets are on the run's hardware (--hw); expected no "
            "@bitfusion, got '0.4@bitfusion'");
  // A malformed amount gets --budget's own message, at its position.
  EXPECT_EQ(error_of("latency=0.3,x").rfind("--budgets (budget 2): ", 0), 0u) << error_of("latency=0.3,x");
}

std::vector<UniformPoint> Line() {
  // Out of order on purpose: the line is by cost.
  return {{4, 0.40, 90.0, {90.0}}, {2, 0.20, 70.0, {70.0}}, {3, 0.30, 86.0, {86.0}}};
}

TEST(UniformLineTest, InterpolatesBetweenTheWidthsAroundACost) {
  EXPECT_DOUBLE_EQ(*UniformLineAt(Line(), 0.25), 78.0);   // halfway 70..86
  EXPECT_DOUBLE_EQ(*UniformLineAt(Line(), 0.375), 89.0);  // three quarters 86..90
  EXPECT_EQ(*UniformLineAt(Line(), 0.30), 86.0);
  EXPECT_EQ(*UniformLineAt(Line(), 0.40), 90.0);
  EXPECT_FALSE(UniformLineAt(Line(), 0.19));
  EXPECT_FALSE(UniformLineAt(Line(), 0.41));
  EXPECT_FALSE(UniformLineAt({}, 0.3));
}

SweepFront Example() {
  SweepFront f;
  f.model = "mobilenet_v2_fmnist";
  f.hardware = "bismo-edge";
  f.metric = "latency";
  f.final_seeds = {0, 1};
  f.final_finetune_steps = 600;
  f.points = {{"latency=0.3", "latency-0.3", 0.29, 88.5, {88.0, 89.0}, 1.25, 0.75},
              {"latency=0.45", "latency-0.45", 0.44, 91.0, {91.0, 91.0}, std::nullopt, std::nullopt}};
  f.uniform = Line();
  return f;
}

TEST(SweepFrontTest, RoundTripsThroughItsJson) {
  const json j = Example().ToJson();
  EXPECT_EQ(SweepFront::FromJson(j, "front.json").ToJson(), j);
  EXPECT_TRUE(j["points"][1]["above_line"].is_null());
}

TEST(SweepFrontTest, CountsThePointsAboveTheLineOfThoseWithinItsSpan) {
  SweepFront f = Example();
  EXPECT_EQ(f.AboveLine().above, 1);
  EXPECT_EQ(f.AboveLine().spanned, 1);
  f.points[1].above_line = -0.25;
  EXPECT_EQ(f.AboveLine().above, 1);
  EXPECT_EQ(f.AboveLine().spanned, 2);
}

TEST(SweepFrontTest, AMalformedFileIsNamedByField) {
  json j = Example().ToJson();
  j["points"][1].erase("cost_ratio");
  EXPECT_EQ(test::InputErrorOf([&] { SweepFront::FromJson(j, "front.json"); }),
            "front.json: points[1]: missing field 'cost_ratio'");
  j = Example().ToJson();
  j["uniform"] = 3;
  EXPECT_EQ(test::InputErrorOf([&] { SweepFront::FromJson(j, "front.json"); }),
            "front.json: uniform: expected a list, got 3");
}

}  // namespace
}  // namespace haq::search
