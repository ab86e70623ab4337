#pragma once
// Mean and spread of repeated measurements (e.g. one accuracy under several seeds).

#include <string>
#include <vector>

namespace haq::util {

/// Arithmetic mean; `values` must not be empty.
double Mean(const std::vector<double>& values);

/// Population standard deviation (divides by n, as Python's statistics.pstdev);
/// 0 for a single value. `values` must not be empty.
double PopulationStd(const std::vector<double>& values);

/// "mean ± std" with `decimals` decimals, or just the value when there is one.
std::string MeanSpread(const std::vector<double>& values, int decimals = 2);

/// a[i] - b[i] for each i; the two must have the same length.
std::vector<double> Differences(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace haq::util
