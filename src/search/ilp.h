#pragma once
/// The planned strategies (docs/SEARCH.md): per layer choose the (w_bits, a_bits)
/// minimising a summed per-layer value subject to every budget, each costed from the
/// same environment and cost table the other strategies use, with their pins and bit
/// range. `--agent ilp` minimises the Hessian-trace sensitivity (quant/sensitivity.h)
/// exactly (search/mckp.h); `--agent greedy` walks the measured accuracy drops
/// (search/greedy.h) as AIMET does. No LibTorch.
#include <functional>
#include <string>
#include <vector>

#include "hw/policy.h"
#include "quant/sensitivity.h"
#include "search/env.h"
#include "search/mckp.h"

namespace haq::search {

struct PlannedPolicy {
  hw::Policy policy;
  double value = 0.0;         ///< the objective: summed per-layer values
  std::vector<double> costs;  ///< per budget, base units
};

/// The choice problem of `envs`' budgets (all over the same layers and options; the
/// first is the run's): one group per layer of its LayerChoices, each option valued
/// by `value(layer, bits)` and costed in every budget. Throws util::InputError for
/// environments that differ.
struct BudgetProblem {
  ChoiceProblem problem;
  std::vector<std::vector<hw::LayerBits>> choices;  ///< per layer, the options' bits

  BudgetProblem(const std::vector<const QuantEnv*>& envs,
                const std::function<double(size_t layer, const hw::LayerBits&)>& value,
                double time_limit_seconds);
  /// The policy a solution chooses; `source` names the strategy.
  PlannedPolicy Policy(const ChoiceSolution& s, const std::string& source) const;
};

/// The `k` best distinct policies (best first; fewer if fewer exist) for the budgets
/// of `envs`, valued by the table's expected loss increase. Throws util::InputError
/// for a table of other layers, environments that differ, an infeasible or
/// conflicting budget, or a solver failure or time limit.
std::vector<PlannedPolicy> PlanIlp(const quant::SensitivityTable& table,
                                   const std::vector<const QuantEnv*>& envs, int k,
                                   double time_limit_seconds);

}  // namespace haq::search
