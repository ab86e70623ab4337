#pragma once
/// The greedy strategy (`haq search --agent greedy`, docs/SEARCH.md), after AIMET's
/// automatic mixed precision: measure each layer's sensitivity by evaluation, then
/// lower layers cumulatively, least accuracy lost per cost saved first, until every
/// budget holds (search/mckp.h GreedyChoices).
///
/// The probes: the reference policy (every step at b_max, pins applied), and for
/// every layer the wall may lower, that policy with only the layer's weight, or only
/// its input, at each width b_min..b_max-1: each evaluated as an episode is (the
/// run's evaluator: --finetune-steps, then top-1 on the reward images). A layer's
/// (w, a) is valued as the summed drops of its weight at w and its input at a from
/// the reference's accuracy. The probes are kept in the run directory as they
/// finish (greedy_probes.jsonl), so an interrupted run resumes without redoing them.
/// No LibTorch.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "search/env.h"
#include "search/ilp.h"
#include "search/search.h"

namespace haq::search {

/// One probe: layer `layer`'s weight (`weight`) or input at `bits`, every other step
/// at b_max; layer -1 is the reference.
struct Probe {
  int64_t layer = -1;
  bool weight = true;
  int bits = 0;
  double accuracy = 0.0;  ///< top-1 on the reward set, percent (once measured)
  double seconds = 0.0;   ///< its evaluation's wall time (its share of its batch's)

  bool SameProbe(const Probe& o) const {
    return layer == o.layer && weight == o.weight && bits == o.bits;
  }
};

/// The probes of `env`, reference first, then layer by layer: its weight, then its
/// input (not for weights-only searches), each from b_max-1 down to b_min.
std::vector<Probe> GreedyProbes(const QuantEnv& env);
/// The policy `probe` evaluates.
hw::Policy ProbePolicy(const QuantEnv& env, const Probe& probe);

/// The file in a run directory holding the finished probes.
inline constexpr const char* kProbesFile = "greedy_probes.jsonl";

/// The probes `path` holds (none if it does not exist), each checked against the
/// probe GreedyProbes(env) expects at its position: util::InputError naming the file
/// and line otherwise.
std::vector<Probe> ReadProbes(const QuantEnv& env, const std::filesystem::path& path);

/// Every probe of `env` measured: those `cache` holds (each line must be the probe
/// expected at its position, else util::InputError naming the file and line) and the
/// rest evaluated `batch` at a time with `evaluate` (a round of `--parallel K` on the
/// run's workers; a task's episode is the probe's index), `cache` rewritten
/// atomically after each batch; `progress` gets a line per probe with an ETA.
std::vector<Probe> MeasureProbes(const QuantEnv& env, const BatchEvaluator& evaluate, int64_t batch,
                                 const std::filesystem::path& cache, std::FILE* progress);
/// The probes evaluated one at a time.
inline std::vector<Probe> MeasureProbes(const QuantEnv& env, const PolicyEvaluator& evaluate,
                                        const std::filesystem::path& cache, std::FILE* progress) {
  return MeasureProbes(env, OneByOne(evaluate), 1, cache, progress);
}

/// The greedy policy for `envs`' budgets (the first the run's) from `probes`
/// (GreedyProbes(*envs.front()) measured). Its value: the summed accuracy drops.
PlannedPolicy PlanGreedy(const std::vector<Probe>& probes, const std::vector<const QuantEnv*>& envs);

}  // namespace haq::search
