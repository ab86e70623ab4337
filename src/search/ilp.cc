#include "search/ilp.h"

#include <fmt/format.h>

#include "util/error.h"

namespace haq::search {

BudgetProblem::BudgetProblem(const std::vector<const QuantEnv*>& envs,
                             const std::function<double(size_t, const hw::LayerBits&)>& value,
                             double time_limit_seconds) {
  if (envs.empty()) throw util::InputError("planner: expected at least one budget, got none");
  const QuantEnv& env = *envs.front();
  for (const QuantEnv* e : envs) {
    const EnvOptions& a = e->options();
    const EnvOptions& b = env.options();
    if (e->num_layers() != env.num_layers() || a.b_min != b.b_min || a.b_max != b.b_max ||
        a.pin_first != b.pin_first || a.pin_last != b.pin_last || a.weights_only != b.weights_only) {
      throw util::InputError(fmt::format(
          "budget {}: its search has other layers, bits or pins than budget {}'s",
          e->budget_spec().text, env.budget_spec().text));
    }
  }
  problem.time_limit_seconds = time_limit_seconds;
  for (const QuantEnv* e : envs) {
    problem.limits.push_back(e->budget());
    problem.limit_names.push_back(e->budget_spec().text);
  }
  problem.show_cost = [envs](size_t b, double cost) {
    return fmt::format("{:.6g} {}", envs[b]->InUnit(cost), MetricUnit(envs[b]->budget_spec().metric));
  };
  for (size_t l = 0; l < env.num_layers(); ++l) {
    choices.push_back(env.LayerChoices(l));
    std::vector<ChoiceOption> group;
    for (const hw::LayerBits& bits : choices.back()) {
      ChoiceOption o;
      o.value = value(l, bits);
      for (const QuantEnv* e : envs) o.costs.push_back(e->LayerCost(l, bits.w_bits, bits.a_bits));
      group.push_back(std::move(o));
    }
    problem.groups.push_back(std::move(group));
  }
}

PlannedPolicy BudgetProblem::Policy(const ChoiceSolution& s, const std::string& source) const {
  PlannedPolicy out;
  out.policy.source = source;
  for (size_t l = 0; l < choices.size(); ++l) out.policy.layers.push_back(choices[l][s.choice[l]]);
  out.value = s.value;
  out.costs = s.costs;
  return out;
}

std::vector<PlannedPolicy> PlanIlp(const quant::SensitivityTable& table,
                                   const std::vector<const QuantEnv*>& envs, int k,
                                   double time_limit_seconds) {
  if (!envs.empty() && table.layers.size() != envs.front()->num_layers()) {
    throw util::InputError(fmt::format("ILP: the sensitivity table has {} layers, the model {}",
                                       table.layers.size(), envs.front()->num_layers()));
  }
  for (size_t l = 0; !envs.empty() && l < table.layers.size(); ++l) {
    if (table.layers[l].name != envs.front()->layers()[l].name) {
      throw util::InputError(fmt::format("ILP: layer {}: the sensitivity table has '{}', the model '{}'",
                                         l, table.layers[l].name, envs.front()->layers()[l].name));
    }
  }
  const BudgetProblem bp(
      envs,
      [&table](size_t l, const hw::LayerBits& b) {
        return table.layers[l].WeightPerturbation(b.w_bits) +
               table.layers[l].InputPerturbation(b.a_bits);
      },
      time_limit_seconds);
  std::vector<PlannedPolicy> out;
  for (const ChoiceSolution& s : SolveBestChoices(bp.problem, k)) out.push_back(bp.Policy(s, "ilp"));
  return out;
}

}  // namespace haq::search
