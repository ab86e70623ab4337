// Mean and spread against values worked out by hand (and Python's statistics module:
// mean([90.5, 91.0, 91.75]) = 91.08333..., pstdev(...) = 0.51370...).
#include "util/stats.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace haq::util {
namespace {

TEST(StatsTest, MeanAndPopulationStd) {
  EXPECT_DOUBLE_EQ(Mean({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}), 5.0);
  // The textbook example: population standard deviation exactly 2.
  EXPECT_DOUBLE_EQ(PopulationStd({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}), 2.0);
  EXPECT_NEAR(Mean({90.5, 91.0, 91.75}), 91.083333333333333, 1e-12);
  EXPECT_NEAR(PopulationStd({90.5, 91.0, 91.75}), 0.51370116691408, 1e-12);
  EXPECT_EQ(PopulationStd({3.25}), 0.0);
}

TEST(StatsTest, MeanSpreadText) {
  EXPECT_EQ(MeanSpread({90.5, 91.0, 91.75}), "91.08 ± 0.51");
  EXPECT_EQ(MeanSpread({-0.125}, 3), "-0.125");
  EXPECT_EQ(MeanSpread({1.0, 3.0}, 1), "2.0 ± 1.0");
}

TEST(StatsTest, DifferencesPairUp) {
  EXPECT_EQ(Differences({91.0, 90.5}, {90.0, 91.0}), (std::vector<double>{1.0, -0.5}));
  EXPECT_THROW(Differences({1.0}, {1.0, 2.0}), std::invalid_argument);
}

TEST(StatsTest, NoValuesIsAProgrammingError) {
  EXPECT_THROW(Mean({}), std::invalid_argument);
  EXPECT_THROW(PopulationStd({}), std::invalid_argument);
  EXPECT_THROW(MeanSpread({}), std::invalid_argument);
}

}  // namespace
}  // namespace haq::util
