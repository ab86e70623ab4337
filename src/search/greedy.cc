#include "search/greedy.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <sstream>

#include "util/error.h"
#include "util/file.h"
#include "util/json.h"
#include "util/progress.h"

namespace haq::search {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Whether the wall may lower layer `l` (its choices are more than the pinned pair).
bool Lowerable(const QuantEnv& env, size_t l) { return env.LayerChoices(l).size() > 1; }

json ProbeToJson(const QuantEnv& env, const Probe& p) {
  return {{"layer", p.layer < 0 ? std::string("(reference)") : env.layers()[p.layer].name},
          {"tensor", p.layer < 0 ? "all" : p.weight ? "weight" : "input"},
          {"bits", p.bits},
          {"accuracy", p.accuracy},
          {"seconds", p.seconds}};
}

std::string Describe(const QuantEnv& env, const Probe& p) {
  if (p.layer < 0) return fmt::format("reference (every step at {} bits)", p.bits);
  return fmt::format("{} {} at {} bits", env.layers()[p.layer].name, p.weight ? "weight" : "input",
                     p.bits);
}

std::vector<Probe> ReadChecked(const QuantEnv& env, const fs::path& path,
                               const std::vector<Probe>& expected) {
  std::vector<Probe> done;
  if (!fs::exists(path)) return done;
  std::istringstream in(util::ReadFile(path));
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    const std::string where = fmt::format("{}:{}", path.string(), n);
    if (n > expected.size()) {
      throw util::InputError(fmt::format("{}: expected {} probes, found more", where, expected.size()));
    }
    const json j = util::ParseJson(line, where);
    Probe p = expected[n - 1];
    const json want = ProbeToJson(env, p);
    for (const char* key : {"layer", "tensor", "bits"}) {
      if (util::JsonMember(j, key, where) != want[key]) {
        throw util::InputError(fmt::format(
            "{}: {}: expected {} (the probe {}), got {}; the file is from another model or "
            "bit range",
            where, key, want[key].dump(), Describe(env, p), j[key].dump()));
      }
    }
    p.accuracy = util::JsonField<double>(j, "accuracy", where);
    p.seconds = util::JsonField<double>(j, "seconds", where);
    if (!(p.accuracy >= 0 && p.accuracy <= 100)) {
      throw util::InputError(fmt::format("{}: accuracy: expected a percentage 0..100, got {}", where,
                                         p.accuracy));
    }
    done.push_back(p);
  }
  return done;
}

}  // namespace

std::vector<Probe> ReadProbes(const QuantEnv& env, const fs::path& path) {
  return ReadChecked(env, path, GreedyProbes(env));
}

std::vector<Probe> GreedyProbes(const QuantEnv& env) {
  const EnvOptions& o = env.options();
  std::vector<Probe> out = {Probe{-1, true, o.b_max}};
  for (size_t l = 0; l < env.num_layers(); ++l) {
    if (!Lowerable(env, l)) continue;
    for (const bool weight : {true, false}) {
      if (!weight && o.weights_only) continue;
      for (int b = o.b_max - 1; b >= o.b_min; --b) out.push_back({static_cast<int64_t>(l), weight, b});
    }
  }
  return out;
}

hw::Policy ProbePolicy(const QuantEnv& env, const Probe& probe) {
  hw::Policy p = env.Uniform(env.options().b_max);
  p.source = "greedy probe";
  if (probe.layer < 0) return p;
  hw::LayerBits& l = p.layers.at(static_cast<size_t>(probe.layer));
  (probe.weight ? l.w_bits : l.a_bits) = probe.bits;
  return p;
}

std::vector<Probe> MeasureProbes(const QuantEnv& env, const BatchEvaluator& evaluate, int64_t batch,
                                 const fs::path& cache, std::FILE* progress) {
  const std::vector<Probe> expected = GreedyProbes(env);
  std::vector<Probe> done = ReadChecked(env, cache, expected);
  const size_t first = done.size();
  if (first > 0 && first < expected.size() && progress) {
    fmt::print(progress, "greedy: {} of {} probes read from {}\n", first, expected.size(),
               cache.string());
  }
  const auto start = std::chrono::steady_clock::now();
  const size_t step = static_cast<size_t>(std::max<int64_t>(1, batch));
  for (size_t i = first; i < expected.size(); i += step) {
    const size_t end = std::min(expected.size(), i + step);
    std::vector<EvalTask> tasks;
    for (size_t j = i; j < end; ++j) tasks.push_back({static_cast<int64_t>(j), ProbePolicy(env, expected[j])});
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<EvalOutcome> outcomes = evaluate(tasks);
    const double seconds = util::SecondsSince(t0) / static_cast<double>(end - i);
    for (size_t j = i; j < end; ++j) {
      Probe p = expected[j];
      p.accuracy = outcomes.at(j - i).accuracy;
      p.seconds = seconds;
      done.push_back(p);
    }
    util::WriteFileAtomic(cache, [&](std::ostream& out) {
      for (const Probe& d : done) out << ProbeToJson(env, d).dump() << '\n';
    });
    if (!progress) continue;
    const double per = util::SecondsSince(start) / static_cast<double>(end - first);
    for (size_t j = i; j < end; ++j) {
      const Probe& p = done[j];
      fmt::print(progress, "probe {}/{}  {}  acc {:.2f}%{}  {:.1f}s  ETA {}\n", j + 1,
                 expected.size(), Describe(env, p), p.accuracy,
                 j == 0 ? std::string() : fmt::format(" ({:+.2f})", p.accuracy - done.front().accuracy),
                 p.seconds, util::FormatDuration(per * static_cast<double>(expected.size() - j - 1)));
    }
    std::fflush(progress);
  }
  return done;
}

PlannedPolicy PlanGreedy(const std::vector<Probe>& probes, const std::vector<const QuantEnv*>& envs) {
  if (envs.empty()) throw util::InputError("greedy: expected at least one budget, got none");
  const QuantEnv& env = *envs.front();
  const std::vector<Probe> expected = GreedyProbes(env);
  if (probes.size() != expected.size()) {
    throw util::InputError(fmt::format("greedy: expected {} measured probes, got {}",
                                       expected.size(), probes.size()));
  }
  // drop[layer][tensor][bits-1]: reference accuracy minus the probe's; 0 at b_max.
  std::vector<std::array<std::array<double, 8>, 2>> drop(env.num_layers());
  for (size_t i = 0; i < probes.size(); ++i) {
    if (!probes[i].SameProbe(expected[i])) {
      throw util::InputError(fmt::format("greedy: probe {}: expected {}, got {}", i + 1,
                                         Describe(env, expected[i]), Describe(env, probes[i])));
    }
    const Probe& p = probes[i];
    if (p.layer >= 0) {
      drop[p.layer][p.weight ? 0 : 1][p.bits - 1] = probes.front().accuracy - p.accuracy;
    }
  }
  const BudgetProblem bp(
      envs,
      [&](size_t l, const hw::LayerBits& b) {
        if (!Lowerable(env, l)) return 0.0;
        return drop[l][0][b.w_bits - 1] + (b.a_bits > 0 ? drop[l][1][b.a_bits - 1] : 0.0);
      },
      60.0);
  return bp.Policy(GreedyChoices(bp.problem), "greedy");
}

}  // namespace haq::search
