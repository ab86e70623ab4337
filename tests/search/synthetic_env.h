#pragma once
// The synthetic search problem with a known optimum, shared by the search tests
// (tests/search/search_test.cc) and the rounds benchmark (bench/parallel_rounds_run.cc):
// fully connected layers of seeded sizes and sensitivities under a size budget,
// whose accuracy oracle is a known function of the bits, so the best reward under
// the budget is found exactly by dynamic programming. No LibTorch.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "hw/layer_shape.h"
#include "search/env.h"
#include "search/search.h"

namespace haq::search {
namespace synthetic {

// Fully connected layers of different sizes and sensitivities (seeded).
inline constexpr int kLayers = 8;
inline const std::vector<int64_t> kWeights = [] {
  std::mt19937_64 rng(17);
  std::vector<int64_t> w;
  for (int i = 0; i < kLayers; ++i) w.push_back(50 + static_cast<int64_t>(rng() % 1200));
  return w;
}();
inline const std::vector<double> kSensitivity = [] {
  std::mt19937_64 rng(23);
  std::vector<double> s;
  for (int i = 0; i < kLayers; ++i) s.push_back(0.5 + static_cast<double>(rng() % 1000) / 1000.0 * 3.5);
  return s;
}();

inline std::vector<hw::LayerShape> Layers() {
  std::vector<hw::LayerShape> out;
  for (size_t i = 0; i < kWeights.size(); ++i) {
    hw::LayerShape s;
    s.name = fmt::format("fc{}", i);
    s.kind = hw::LayerKind::kFc;
    s.in_channels = kWeights[i];
    s.out_channels = 1;
    out.push_back(s);
  }
  return out;
}

// Accuracy loss of a layer at `bits`: halves with every extra bit.
inline double Loss(size_t layer, int bits) { return kSensitivity[layer] * std::ldexp(1.0, 2 - bits); }

inline double Accuracy(const hw::Policy& p) {
  double acc = 100.0;
  for (size_t l = 0; l < p.layers.size(); ++l) acc -= Loss(l, p.layers[l].w_bits);
  return acc;
}

// The best reward under a size budget, by dynamic programming over layers.
inline double OptimalReward(const QuantEnv& env) {
  const auto budget = static_cast<int64_t>(std::floor(env.budget()));
  std::vector<double> best(static_cast<size_t>(budget + 1), 0.0);  // min loss with cost <= c
  bool first = true;
  for (size_t l = 0; l < kWeights.size(); ++l) {
    std::vector<double> next(best.size(), std::numeric_limits<double>::infinity());
    for (int64_t c = 0; c <= budget; ++c) {
      for (int b = env.options().b_min; b <= env.options().b_max; ++b) {
        const int64_t used = kWeights[l] * b;
        if (used > c) continue;
        const double before = first ? 0.0 : best[static_cast<size_t>(c - used)];
        next[static_cast<size_t>(c)] = std::min(next[static_cast<size_t>(c)], before + Loss(l, b));
      }
    }
    best = next;
    first = false;
  }
  return 0.1 * -best.back();
}

inline QuantEnv SizeEnv(bool budget_features = false) {
  EnvOptions o;
  o.weights_only = true;
  o.pin_first = o.pin_last = false;
  o.budget_features = budget_features;
  return QuantEnv(Layers(), hw::CostTable{}, ParseBudget("size=0.5"), o);
}

inline PolicyEvaluator Oracle() {
  return [](const hw::Policy& p) {
    EvalOutcome o;
    o.accuracy = Accuracy(p);
    return o;
  };
}

}  // namespace synthetic
}  // namespace haq::search
