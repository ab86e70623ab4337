#pragma once
/// The ILP strategy (`haq search --agent ilp`, docs/SEARCH.md): per layer choose the
/// (w_bits, a_bits) minimising the summed sensitivity (quant/sensitivity.h: the
/// weight's and the input's expected loss increase) subject to every budget, each
/// costed from the same environment and cost table the other strategies use, with
/// their pins and bit range. Solved exactly (search/mckp.h). No LibTorch.
#include <vector>

#include "hw/policy.h"
#include "quant/sensitivity.h"
#include "search/env.h"

namespace haq::search {

struct IlpPolicy {
  hw::Policy policy;
  double sensitivity = 0.0;   ///< the objective: summed perturbations
  std::vector<double> costs;  ///< per budget, base units
};

/// The `k` best distinct policies (best first; fewer if fewer exist) for the budgets
/// of `envs` (all over the same layers and options; the first is the run's). Throws
/// util::InputError for a table of other layers, environments that differ, an
/// infeasible or conflicting budget, or a solver failure or time limit.
std::vector<IlpPolicy> PlanIlp(const quant::SensitivityTable& table,
                               const std::vector<const QuantEnv*>& envs, int k,
                               double time_limit_seconds);

}  // namespace haq::search
