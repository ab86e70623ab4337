#include "search/env.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace haq::search {

std::string MetricName(Metric m) {
  switch (m) {
    case Metric::kLatency: return "latency";
    case Metric::kEnergy: return "energy";
    case Metric::kSize: return "size";
  }
  return "?";
}

std::string MetricUnit(Metric m) {
  switch (m) {
    case Metric::kLatency: return "ms";
    case Metric::kEnergy: return "mJ";
    case Metric::kSize: return "MB";
  }
  return "?";
}

Budget ParseBudget(const std::string& text, const std::string& flag) {
  const auto eq = text.find('=');
  const std::string expected =
      "METRIC=AMOUNT, e.g. latency=0.6 (of uniform 8-bit), latency=2.5ms, energy=3mJ, "
      "size=0.1MB, latency=4bit";
  if (eq == std::string::npos) {
    throw util::InputError(fmt::format("{}: expected {}, got '{}'", flag, expected, text));
  }
  Budget b;
  b.text = text;
  const std::string metric = text.substr(0, eq);
  std::string amount = text.substr(eq + 1);
  if (const auto at = amount.find('@'); at != std::string::npos) {
    b.hardware = amount.substr(at + 1);
    amount.resize(at);
    if (b.hardware.empty()) {
      throw util::InputError(fmt::format(
          "{}: expected a hardware name or spec file after '@', got nothing in '{}'", flag, text));
    }
  }
  if (metric == "latency") {
    b.metric = Metric::kLatency;
  } else if (metric == "energy") {
    b.metric = Metric::kEnergy;
  } else if (metric == "size") {
    b.metric = Metric::kSize;
  } else {
    throw util::InputError(fmt::format(
        "{}: expected the metric latency, energy or size before '=', got '{}'", flag, metric));
  }
  if (amount.size() == 4 && amount.ends_with("bit") && amount[0] >= '1' && amount[0] <= '8') {
    b.uniform_bits = amount[0] - '0';
    return b;
  }
  char* end = nullptr;
  const double v = std::strtod(amount.c_str(), &end);
  const std::string unit(end ? end : "");
  if (end == amount.c_str() || !std::isfinite(v) || v <= 0) {
    throw util::InputError(fmt::format("{}: expected a positive number after '{}=', got '{}'", flag,
                                       metric, amount));
  }
  struct Unit {
    const char* name;
    double scale;  // to base units
  };
  std::vector<Unit> units;
  switch (b.metric) {
    case Metric::kLatency: units = {{"s", 1.0}, {"ms", 1e-3}, {"us", 1e-6}}; break;
    case Metric::kEnergy: units = {{"J", 1e12}, {"mJ", 1e9}, {"uJ", 1e6}}; break;
    case Metric::kSize: units = {{"B", 8.0}, {"kB", 8e3}, {"KB", 8e3}, {"MB", 8e6}}; break;
  }
  if (unit.empty()) {
    b.relative = true;
    b.value = v;
    return b;
  }
  std::vector<std::string> names;
  for (const Unit& u : units) {
    names.push_back(u.name);
    if (unit == u.name) {
      b.relative = false;
      b.value = v * u.scale;
      return b;
    }
  }
  throw util::InputError(fmt::format(
      "{}: expected no unit (a fraction of uniform 8-bit), Nbit, or one of {} for {}, got '{}'",
      flag,
      fmt::join(names, ", "), metric, unit));
}

std::vector<Budget> ParseBudgets(const std::string& text, const std::string& flag) {
  std::vector<Budget> out;
  size_t start = 0;
  for (int i = 1;; ++i) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    // One budget is named by the flag alone, one of several by its position too.
    const std::string where =
        i == 1 && comma == std::string::npos ? flag : fmt::format("{} (budget {})", flag, i);
    if (item.empty()) {
      throw util::InputError(fmt::format("{}: expected METRIC=AMOUNT, got an empty entry in '{}'",
                                         where, text));
    }
    Budget b = ParseBudget(item, where);
    if (i == 1 && !b.hardware.empty()) {
      throw util::InputError(fmt::format(
          "{}: the first budget is on the run's hardware (--hw); expected no @{} on it (name "
          "another accelerator on a later budget), got '{}'",
          where, b.hardware, item));
    }
    for (const Budget& o : out) {
      if (o.metric == b.metric && o.hardware == b.hardware) {
        throw util::InputError(fmt::format(
            "{}: {} on {} is already budgeted by '{}'; expected each metric once per "
            "accelerator, got '{}'",
            where, MetricName(b.metric), b.hardware.empty() ? "the run's hardware" : b.hardware,
            o.text, item));
      }
    }
    out.push_back(std::move(b));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void CheckBitRange(int b_min, int b_max, const std::string& where) {
  if (b_min < 1 || b_max > 8 || b_min > b_max) {
    throw util::InputError(
        fmt::format("{}: expected 1 <= b_min <= b_max <= 8, got {}..{}", where, b_min, b_max));
  }
}

QuantEnv::QuantEnv(std::vector<hw::LayerShape> layers, const hw::CostTable& table, Budget budget,
                   EnvOptions options)
    : layers_(std::move(layers)), budget_(std::move(budget)), options_(options) {
  CheckBitRange(options_.b_min, options_.b_max);
  if (layers_.empty()) throw util::InputError("model: expected at least one quantizable layer, got none");
  const size_t n = layers_.size();
  costs_.assign(n * 64, 0.0);
  if (budget_.metric != Metric::kSize) {
    if (table.layers.size() != n) {
      throw util::InputError(fmt::format(
          "--budget {}: needs the hardware's cost table for the model's {} layers",
          MetricName(budget_.metric), n));
    }
    if (budget_.metric == Metric::kEnergy && !table.At(0, 8, 8).has_energy) {
      throw util::InputError(fmt::format(
          "--budget energy: hardware '{}' has no energy model; use a latency or size budget",
          table.hardware));
    }
  }
  for (size_t l = 0; l < n; ++l) {
    for (int w = 1; w <= 8; ++w) {
      for (int a = 1; a <= 8; ++a) {
        double c = 0.0;
        switch (budget_.metric) {
          case Metric::kLatency: c = table.At(l, w, a).seconds; break;
          case Metric::kEnergy: c = table.At(l, w, a).EnergyPj(); break;
          case Metric::kSize: c = static_cast<double>(hw::WeightBits(layers_[l], w)); break;
        }
        costs_[l * 64 + static_cast<size_t>((w - 1) * 8 + (a - 1))] = c;
      }
    }
  }
  uniform8_cost_ = Cost(Uniform(8));
  budget_abs_ = budget_.uniform_bits > 0 ? Cost(Uniform(budget_.uniform_bits))
                : budget_.relative      ? budget_.value * uniform8_cost_
                                        : budget_.value;

  // Raw features per step, then min-max normalisation over the steps.
  std::vector<std::vector<double>> raw;
  for (int64_t t = 0; t < num_steps(); ++t) {
    const hw::LayerShape& s = layers_[StepLayer(t)];
    raw.push_back({static_cast<double>(StepLayer(t)), static_cast<double>(s.in_channels),
                   static_cast<double>(s.out_channels), static_cast<double>(s.kernel_h),
                   static_cast<double>(s.stride_h), static_cast<double>(s.in_h * s.in_w),
                   static_cast<double>(s.WeightCount()),
                   s.kind == hw::LayerKind::kDepthwise ? 1.0 : 0.0, IsWeightStep(t) ? 1.0 : 0.0});
  }
  const size_t f = raw[0].size();
  features_.assign(raw.size(), std::vector<float>(f));
  for (size_t j = 0; j < f; ++j) {
    double lo = raw[0][j], hi = raw[0][j];
    for (const auto& r : raw) {
      lo = std::min(lo, r[j]);
      hi = std::max(hi, r[j]);
    }
    for (size_t t = 0; t < raw.size(); ++t) {
      features_[t][j] = hi > lo ? static_cast<float>((raw[t][j] - lo) / (hi - lo)) : 0.0f;
    }
  }
}

int64_t QuantEnv::num_steps() const {
  return static_cast<int64_t>(layers_.size()) * (options_.weights_only ? 1 : 2);
}

size_t QuantEnv::StepLayer(int64_t step) const {
  return static_cast<size_t>(options_.weights_only ? step : step / 2);
}

bool QuantEnv::IsWeightStep(int64_t step) const { return options_.weights_only || step % 2 == 0; }

std::vector<float> QuantEnv::State(int64_t step, double prev_action,
                                   const std::vector<int>& decided) const {
  std::vector<float> s = features_.at(static_cast<size_t>(step));
  s.push_back(static_cast<float>(prev_action));
  if (options_.budget_features) {
    std::vector<int> bits(decided.begin(), decided.begin() + std::min<int64_t>(step, static_cast<int64_t>(decided.size())));
    bits.resize(static_cast<size_t>(num_steps()), options_.b_min);
    s.push_back(static_cast<float>(Cost(PolicyFromStepBits(bits)) / budget_abs_));
    std::fill(bits.begin() + std::min<int64_t>(step, static_cast<int64_t>(decided.size())), bits.end(), options_.b_max);
    s.push_back(static_cast<float>(Cost(PolicyFromStepBits(bits)) / budget_abs_));
  }
  return s;
}

int QuantEnv::ActionToBits(double action) const {
  const double span = options_.b_max - options_.b_min + 1;
  const int b = static_cast<int>(std::lround(action * span + options_.b_min - 0.5));
  return std::clamp(b, options_.b_min, options_.b_max);
}

double QuantEnv::BitsToAction(int bits) const {
  const double span = options_.b_max - options_.b_min + 1;
  return std::clamp((bits - options_.b_min + 0.5) / span, 0.0, 1.0);
}

hw::Policy QuantEnv::PolicyFromStepBits(const std::vector<int>& step_bits) const {
  if (static_cast<int64_t>(step_bits.size()) != num_steps()) {
    throw util::InputError(fmt::format("expected {} step bit widths, got {}", num_steps(),
                                       step_bits.size()));
  }
  hw::Policy p;
  p.source = "search";
  for (size_t l = 0; l < layers_.size(); ++l) {
    hw::LayerBits b;
    b.name = layers_[l].name;
    if (options_.weights_only) {
      b.w_bits = step_bits[l];
      b.a_bits = 0;
    } else {
      b.w_bits = step_bits[2 * l];
      b.a_bits = step_bits[2 * l + 1];
    }
    if (options_.pin_first && l == 0) {
      b.w_bits = 8;
      b.a_bits = 0;
    }
    if (options_.pin_last && l + 1 == layers_.size() && !(options_.pin_first && l == 0)) {
      b.w_bits = 8;
      if (!options_.weights_only) b.a_bits = 8;
    }
    p.layers.push_back(b);
  }
  return p;
}

std::vector<int> QuantEnv::StepBits(const hw::Policy& policy) const {
  std::vector<int> out;
  for (const auto& b : policy.layers) {
    out.push_back(b.w_bits);
    // An unquantized input reports the widest step (what the cost model charges).
    if (!options_.weights_only) out.push_back(b.a_bits == 0 ? 8 : b.a_bits);
  }
  return out;
}

double QuantEnv::LayerCost(size_t layer, int w_bits, int a_bits) const {
  const int a = a_bits == 0 ? 8 : a_bits;
  return costs_[layer * 64 + static_cast<size_t>((w_bits - 1) * 8 + (a - 1))];
}

std::vector<hw::LayerBits> QuantEnv::LayerChoices(size_t layer) const {
  if (layer >= layers_.size()) {
    throw util::InputError(fmt::format("layer {}: expected 0..{}", layer, layers_.size() - 1));
  }
  // The pins are PolicyFromStepBits's: one step vector per choice, pins applied.
  std::vector<hw::LayerBits> out;
  const int64_t steps = options_.weights_only ? 1 : 2;
  for (int w = options_.b_min; w <= options_.b_max; ++w) {
    for (int a = options_.b_min; a <= (steps == 1 ? options_.b_min : options_.b_max); ++a) {
      std::vector<int> bits(static_cast<size_t>(num_steps()), options_.b_min);
      bits[layer * steps] = w;
      if (steps == 2) bits[layer * 2 + 1] = a;
      const hw::LayerBits b = PolicyFromStepBits(bits).layers[layer];
      const bool seen = std::any_of(out.begin(), out.end(), [&](const hw::LayerBits& o) {
        return o.w_bits == b.w_bits && o.a_bits == b.a_bits;
      });
      if (!seen) out.push_back(b);
    }
  }
  return out;
}

double QuantEnv::Cost(const hw::Policy& policy) const {
  double total = 0.0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    total += LayerCost(l, policy.layers[l].w_bits, policy.layers[l].a_bits);
  }
  return total;
}

hw::Policy QuantEnv::EnforceBudget(hw::Policy p) const {
  const size_t n = layers_.size();
  auto pinned = [&](size_t l) {
    return (options_.pin_first && l == 0) || (options_.pin_last && l + 1 == n);
  };
  // Running total, updated per change: the walk is O(layers x bits), not O(layers^2).
  bool lowered = true;
  while (Cost(p) > budget_abs_ && lowered) {
    double cost = Cost(p);  // exact at the start of every walk
    lowered = false;
    for (size_t l = n; l-- > 0 && cost > budget_abs_;) {
      if (pinned(l)) continue;
      hw::LayerBits& b = p.layers[l];
      if (!options_.weights_only && b.a_bits > options_.b_min) {
        cost -= LayerCost(l, b.w_bits, b.a_bits);
        --b.a_bits;
        cost += LayerCost(l, b.w_bits, b.a_bits);
        lowered = true;
        if (cost <= budget_abs_) break;
      }
      if (b.w_bits > options_.b_min) {
        cost -= LayerCost(l, b.w_bits, b.a_bits);
        --b.w_bits;
        cost += LayerCost(l, b.w_bits, b.a_bits);
        lowered = true;
      }
    }
  }
  return p;
}

hw::Policy QuantEnv::Uniform(int bits) const {
  return PolicyFromStepBits(std::vector<int>(static_cast<size_t>(num_steps()), bits));
}

int QuantEnv::LargestUniformBitsWithinBudget() const {
  for (int b = options_.b_max; b > options_.b_min; --b) {
    if (Cost(Uniform(b)) <= budget_abs_) return b;
  }
  return options_.b_min;
}

double QuantEnv::InUnit(double cost) const {
  switch (budget_.metric) {
    case Metric::kLatency: return cost * 1e3;
    case Metric::kEnergy: return cost * 1e-9;
    case Metric::kSize: return cost / 8e6;
  }
  return cost;
}

}  // namespace haq::search
