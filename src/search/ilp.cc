#include "search/ilp.h"

#include <fmt/format.h>

#include "search/mckp.h"
#include "util/error.h"

namespace haq::search {

std::vector<IlpPolicy> PlanIlp(const quant::SensitivityTable& table,
                               const std::vector<const QuantEnv*>& envs, int k,
                               double time_limit_seconds) {
  if (envs.empty()) throw util::InputError("ILP: expected at least one budget, got none");
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
  if (table.layers.size() != env.num_layers()) {
    throw util::InputError(fmt::format("ILP: the sensitivity table has {} layers, the model {}",
                                       table.layers.size(), env.num_layers()));
  }
  ChoiceProblem p;
  p.time_limit_seconds = time_limit_seconds;
  for (const QuantEnv* e : envs) {
    p.limits.push_back(e->budget());
    p.limit_names.push_back(e->budget_spec().text);
  }
  std::vector<std::vector<hw::LayerBits>> choices;
  for (size_t l = 0; l < env.num_layers(); ++l) {
    if (table.layers[l].name != env.layers()[l].name) {
      throw util::InputError(fmt::format("ILP: layer {}: the sensitivity table has '{}', the model '{}'",
                                         l, table.layers[l].name, env.layers()[l].name));
    }
    choices.push_back(env.LayerChoices(l));
    std::vector<ChoiceOption> group;
    for (const hw::LayerBits& b : choices.back()) {
      ChoiceOption o;
      o.value = table.layers[l].WeightPerturbation(b.w_bits) +
                table.layers[l].InputPerturbation(b.a_bits);
      for (const QuantEnv* e : envs) o.costs.push_back(e->LayerCost(l, b.w_bits, b.a_bits));
      group.push_back(std::move(o));
    }
    p.groups.push_back(std::move(group));
  }
  std::vector<IlpPolicy> out;
  for (const ChoiceSolution& s : SolveBestChoices(p, k)) {
    IlpPolicy ip;
    ip.policy.source = "ilp";
    for (size_t l = 0; l < choices.size(); ++l) ip.policy.layers.push_back(choices[l][s.choice[l]]);
    ip.sensitivity = s.value;
    ip.costs = s.costs;
    out.push_back(std::move(ip));
  }
  return out;
}

}  // namespace haq::search
