#include "util/stats.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace haq::util {

namespace {
void CheckNotEmpty(const std::vector<double>& values, const char* what) {
  if (values.empty()) throw std::invalid_argument(fmt::format("{} of no values", what));
}
}  // namespace

double Mean(const std::vector<double>& values) {
  CheckNotEmpty(values, "mean");
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double PopulationStd(const std::vector<double>& values) {
  CheckNotEmpty(values, "standard deviation");
  const double mean = Mean(values);
  double sum = 0.0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(values.size()));
}

std::string MeanSpread(const std::vector<double>& values, int decimals) {
  if (values.size() == 1) return fmt::format("{:.{}f}", values[0], decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", Mean(values), decimals, PopulationStd(values), decimals);
}

std::vector<double> Differences(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) {
    throw std::invalid_argument(
        fmt::format("differences of {} and {} values: expected equal lengths", a.size(), b.size()));
  }
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

}  // namespace haq::util
