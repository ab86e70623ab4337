// DDPG agent: warm-up actions (uniform, seeded), truncated normal exploration noise
// against the analytic truncated normal moments, sigma decay, learning a synthetic
// problem with a known optimum (a property over seeds), bit-exact save/load
// continuation, load errors, the replay ring buffer against a plain reference, and
// input errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "search/ddpg.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::search {
namespace {

void ExpectInputErrorContaining(const std::function<void()>& fn,
                                const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected util::InputError";
  } catch (const util::InputError& e) {
    const std::string what = e.what();
    for (const auto& part : parts) {
      EXPECT_NE(what.find(part), std::string::npos) << "'" << part << "' not in: " << what;
    }
  }
}

// Moments of N(mu, sigma^2) truncated to [0, 1], from the textbook formulas.
struct Moments {
  double mean, sd;
};
Moments TruncatedNormalMoments(double mu, double sigma) {
  auto pdf = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); };
  auto cdf = [](double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); };
  const double a = (0.0 - mu) / sigma;
  const double b = (1.0 - mu) / sigma;
  const double z = cdf(b) - cdf(a);
  const double m = (pdf(a) - pdf(b)) / z;
  const double var = sigma * sigma * (1.0 + (a * pdf(a) - b * pdf(b)) / z - m * m);
  return {mu + sigma * m, std::sqrt(var)};
}

// Checks that `xs` lie in [0,1] and have the mean and standard deviation of the
// truncated normal, within 5 standard errors (the standard error of the sample
// standard deviation taken as sd / sqrt(2n), exact for a normal and conservative for
// these lighter-tailed distributions, doubled for safety).
void ExpectTruncatedNormal(const std::vector<double>& xs, double mu, double sigma) {
  const Moments truth = TruncatedNormalMoments(mu, sigma);
  double sum = 0.0;
  for (double x : xs) {
    ASSERT_GE(x, 0.0);
    ASSERT_LE(x, 1.0);
    sum += x;
  }
  const double n = static_cast<double>(xs.size());
  const double mean = sum / n;
  double ss = 0.0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / (n - 1.0));
  EXPECT_NEAR(mean, truth.mean, 5.0 * truth.sd / std::sqrt(n)) << "mu " << mu << " sigma " << sigma;
  EXPECT_NEAR(sd, truth.sd, 10.0 * truth.sd / std::sqrt(2.0 * n))
      << "mu " << mu << " sigma " << sigma;
}

DdpgOptions SmallOptions(uint64_t seed) {
  DdpgOptions o;
  o.state_dim = 10;
  o.replay_capacity = 1000;
  o.seed = seed;
  return o;
}

std::vector<float> FixedState(float v) {
  std::vector<float> s(10);
  for (size_t i = 0; i < s.size(); ++i) s[i] = v * static_cast<float>(i + 1) / 10.0f;
  return s;
}

TEST(DdpgWarmup, UniformAndDeterministicPerSeed) {
  const int n = 20000;
  auto draw = [&](uint64_t seed) {
    DdpgOptions o = SmallOptions(seed);
    o.warmup_episodes = 5;
    Ddpg agent(o);
    agent.BeginEpisode(4);  // still warm-up
    std::vector<double> xs;
    for (int i = 0; i < n; ++i) xs.push_back(agent.Act(FixedState(0.3f)));
    return xs;
  };
  const std::vector<double> a = draw(7);
  EXPECT_EQ(a, draw(7));
  EXPECT_NE(a, draw(8));
  // Uniform: range, mean 1/2 and variance 1/12, and 10 equal bins each holding n/10
  // within 5 binomial standard deviations.
  std::vector<int> bins(10, 0);
  double sum = 0.0, sum_sq = 0.0;
  for (double x : a) {
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    ++bins[static_cast<size_t>(x * 10.0)];
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / n;
  const double var = sum_sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 5.0 * std::sqrt(1.0 / 12.0 / n));
  // The sample variance has variance (mu4 - sigma^4) / n = (1/80 - 1/144) / n.
  EXPECT_NEAR(var, 1.0 / 12.0, 5.0 * std::sqrt(1.0 / 180.0 / n));
  const double bin_sd = std::sqrt(n * 0.1 * 0.9);
  for (int count : bins) EXPECT_NEAR(count, n * 0.1, 5.0 * bin_sd);
}

TEST(DdpgInit, DependsOnlyOnTheSeed) {
  const std::vector<float> state = FixedState(0.6f);
  Ddpg a(SmallOptions(21));
  // Heavy use of torch's global generator in between must not matter.
  torch::manual_seed(999);
  (void)torch::rand({1000});
  Ddpg b(SmallOptions(21));
  Ddpg c(SmallOptions(22));
  EXPECT_EQ(a.ActorOutput(state), b.ActorOutput(state));
  EXPECT_EQ(a.CriticOutput(state, 0.25), b.CriticOutput(state, 0.25));
  EXPECT_NE(a.ActorOutput(state), c.ActorOutput(state));
  // The output layer starts within +-3e-3, so the actor starts near sigmoid(0).
  EXPECT_NEAR(a.ActorOutput(state), 0.5, 0.01);
}

TEST(DdpgNoise, ActionsAreTruncatedNormalAroundActorOutput) {
  DdpgOptions o = SmallOptions(3);
  o.warmup_episodes = 10;
  Ddpg agent(o);
  const std::vector<float> state = FixedState(0.7f);
  const double mu = agent.ActorOutput(state);
  for (int64_t episode : {10, 110}) {  // sigma 0.5 and 0.5 * 0.99^100
    agent.BeginEpisode(episode);
    const double sigma = 0.5 * std::pow(0.99, static_cast<double>(episode - 10));
    EXPECT_NEAR(agent.sigma(), sigma, 1e-12);
    std::vector<double> xs;
    for (int i = 0; i < 20000; ++i) xs.push_back(agent.Act(state));
    EXPECT_EQ(agent.ActorOutput(state), mu);  // acting does not learn
    ExpectTruncatedNormal(xs, mu, sigma);
  }
}

TEST(DdpgNoise, SamplerMatchesTruncatedNormalNearTheBounds) {
  std::mt19937_64 rng(11);
  for (auto [mu, sigma] : std::vector<std::pair<double, double>>{
           {0.02, 0.5}, {0.95, 0.1}, {0.5, 0.05}, {0.0, 0.3}, {1.0, 1.0}}) {
    std::vector<double> xs;
    for (int i = 0; i < 20000; ++i) xs.push_back(SampleTruncatedNormal(mu, sigma, rng));
    ExpectTruncatedNormal(xs, mu, sigma);
  }
  EXPECT_EQ(SampleTruncatedNormal(0.3, 0.0, rng), 0.3);
  EXPECT_EQ(SampleTruncatedNormal(1.7, 0.0, rng), 1.0);
  EXPECT_THROW(SampleTruncatedNormal(NAN, 0.1, rng), util::InputError);
}

TEST(DdpgNoise, SigmaDecaysGeometricallyAfterWarmup) {
  DdpgOptions o = SmallOptions(0);
  o.warmup_episodes = 20;
  Ddpg agent(o);
  agent.BeginEpisode(3);
  EXPECT_EQ(agent.sigma(), 0.5);
  double expected = 0.5;  // by repeated multiplication, not pow
  for (int k = 0; k <= 300; ++k) {
    agent.BeginEpisode(20 + k);
    EXPECT_NEAR(agent.sigma(), expected, 1e-12 * expected) << k;
    expected *= 0.99;
  }
}

// The synthetic problem: T = 8 steps with fixed distinct states (one-hot step index,
// the step as a fraction, a constant), reward 1 - mean_t (a_t - target_t)^2, optimum
// 1 at a_t = target_t.
constexpr int kSteps = 8;
const std::vector<double> kTargets = {0.2, 0.8, 0.35, 0.65, 0.1, 0.9, 0.5, 0.75};

std::vector<float> StepState(int t) {
  std::vector<float> s(10, 0.0f);
  s[static_cast<size_t>(t)] = 1.0f;
  s[8] = static_cast<float>(t) / (kSteps - 1);
  s[9] = 1.0f;
  return s;
}

double Reward(const std::vector<double>& actions) {
  double err = 0.0;
  for (int t = 0; t < kSteps; ++t) {
    err += (actions[static_cast<size_t>(t)] - kTargets[static_cast<size_t>(t)]) *
           (actions[static_cast<size_t>(t)] - kTargets[static_cast<size_t>(t)]);
  }
  return 1.0 - err / kSteps;
}

Episode RunEpisode(Ddpg& agent, int64_t e) {
  agent.BeginEpisode(e);
  Episode ep;
  for (int t = 0; t < kSteps; ++t) {
    ep.states.push_back(StepState(t));
    ep.actions.push_back(agent.Act(ep.states.back()));
  }
  ep.reward = Reward(ep.actions);
  agent.EndEpisode(ep);
  return ep;
}

std::vector<double> GreedyActions(const Ddpg& agent) {
  std::vector<double> out;
  for (int t = 0; t < kSteps; ++t) out.push_back(agent.ActorOutput(StepState(t)));
  return out;
}

// Learning, as a property over seeds rather than one trajectory: kernels that round
// differently (another CPU, ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE) make each seed's
// trajectory a different one. HAQ's defaults except: hidden 64 instead of 300 (a
// 300-wide update costs ~10x more and this budget has 6 x 3840 updates) and actor
// learning rate 3e-4 instead of 1e-4 (with 1e-4 500 episodes are not enough). The
// replay buffer holds 128 episodes' worth of steps.
// Measured with seeds 1-16 under each kernel path of scripts/kernel_paths.sh (native
// on an Intel Xeon, family 6 model 207: ATen AVX2, OpenBLAS Prescott, oneDNN
// avx512_core_bf16; default; avx2; zen; avx512), 80 runs: the greedy policy's
// reward after 500 episodes was 0.9784-0.9988 (median per path 0.9942-0.9967;
// 6 of 80 below 0.99), against 0.924 for the untrained actor (all actions near 0.5).
// The median over seeds 1-6 was 0.9964-0.9970 on every path. The old per-step
// assertion (every action within 0.15 of its target on seeds 1 and 2) held on one
// machine only: the worst step of a run was 0.06-0.35 away.
// The test asks, on each of 6 seeds, for at most half the untrained actor's error
// (measured at most 0.28 of it), and a median reward of at least 0.99 (a median
// below needs 3 of 6 seeds below 0.99; measured 6 of 80 runs were).
TEST(DdpgLearning, ApproachesTheKnownOptimumOnEverySeed) {
  constexpr int kSeeds = 6;
  const int episodes = 500;
  std::vector<double> rewards;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    DdpgOptions o;
    o.state_dim = 10;
    o.hidden = 64;
    o.lr_actor = 3e-4;
    o.replay_capacity = 128 * kSteps;
    o.warmup_episodes = 20;
    o.seed = seed;
    Ddpg agent(o);
    const double untrained = Reward(GreedyActions(agent));
    for (int e = 0; e < episodes; ++e) RunEpisode(agent, e);
    const double reward = Reward(GreedyActions(agent));
    EXPECT_LE(1.0 - reward, 0.5 * (1.0 - untrained))
        << "seed " << seed << ": greedy reward " << reward << ", untrained " << untrained;
    EXPECT_EQ(agent.update_count(), (episodes - 20) * kSteps);
    rewards.push_back(reward);
    std::cout << "[ seed " << seed << " ] greedy reward " << reward << " (untrained " << untrained
              << "), " << agent.update_seconds() / static_cast<double>(agent.update_count())
              << " s per update (hidden " << o.hidden << ", batch " << o.batch_size << ")\n";
  }
  std::sort(rewards.begin(), rewards.end());
  EXPECT_GE(0.5 * (rewards[kSeeds / 2 - 1] + rewards[kSeeds / 2]), 0.99)
      << "median greedy reward over " << kSeeds << " seeds";
}

// An environment-like episode whose states carry the previous action, so the
// agent's actions feed back into its inputs.
Episode RunFeedbackEpisode(Ddpg& agent, int64_t e, int steps) {
  agent.BeginEpisode(e);
  Episode ep;
  double prev = 0.0;
  for (int t = 0; t < steps; ++t) {
    std::vector<float> s(10, 0.0f);
    s[0] = static_cast<float>(t) / static_cast<float>(steps);
    s[1] = static_cast<float>(prev);
    s[2] = static_cast<float>(e % 3);
    ep.states.push_back(s);
    prev = agent.Act(s);
    ep.actions.push_back(prev);
  }
  ep.reward = 1.0 - std::fabs(ep.actions[0] - 0.3);
  agent.EndEpisode(ep);
  return ep;
}

// The agent the save/load tests save: 8 episodes, learning after 3, a replay buffer
// that wraps.
DdpgOptions SaveLoadOptions() {
  DdpgOptions o = SmallOptions(5);
  o.warmup_episodes = 3;
  o.batch_size = 16;
  o.replay_capacity = 40;  // wraps during the run
  return o;
}
void RunAndSave(Ddpg& agent, const std::string& path) {
  for (int e = 0; e < 8; ++e) RunFeedbackEpisode(agent, e, 5);
  agent.Save(path);
}

TEST(DdpgSaveLoad, LoadedAgentContinuesBitForBit) {
  test::TempDir dir;
  const std::string path = (dir / "agent.pt").string();
  const DdpgOptions o = SaveLoadOptions();
  Ddpg a(o);
  RunAndSave(a, path);
  std::vector<Episode> a_eps;
  for (int e = 8; e < 14; ++e) a_eps.push_back(RunFeedbackEpisode(a, e, 5));

  Ddpg b(o);
  b.Load(path);
  EXPECT_EQ(b.episode(), 7);
  for (int e = 8; e < 14; ++e) {
    const Episode ep = RunFeedbackEpisode(b, e, 5);
    EXPECT_EQ(ep.actions, a_eps[static_cast<size_t>(e - 8)].actions) << "episode " << e;
  }
  EXPECT_EQ(a.update_count(), b.update_count());
  EXPECT_EQ(a.baseline(), b.baseline());
  EXPECT_EQ(a.replay_size(), b.replay_size());
  for (float v : {0.0f, 0.3f, 0.9f}) {
    EXPECT_EQ(a.ActorOutput(FixedState(v)), b.ActorOutput(FixedState(v)));
    EXPECT_EQ(a.CriticOutput(FixedState(v), 0.4), b.CriticOutput(FixedState(v), 0.4));
  }
  // The random streams are in the same place too.
  EXPECT_EQ(a.Act(FixedState(0.5f)), b.Act(FixedState(0.5f)));

  // Wrong dimensions, a different option, garbage and a missing file: InputError
  // naming the path, and the agent is left as it was.
  DdpgOptions other = o;
  other.state_dim = 12;
  Ddpg c(other);
  ExpectInputErrorContaining([&] { c.Load(path); }, {path, "state_dim"});
  other = o;
  other.hidden = 100;
  Ddpg c2(other);
  ExpectInputErrorContaining([&] { c2.Load(path); }, {path, "hidden"});
  const std::string garbage = dir.Write("garbage.pt", "this is not a torch archive\n").string();
  const double before = b.ActorOutput(FixedState(0.3f));
  ExpectInputErrorContaining([&] { b.Load(garbage); }, {garbage});
  const std::string missing = (dir / "missing.pt").string();
  ExpectInputErrorContaining([&] { b.Load(missing); }, {missing});
  // A file far larger than any save of these options is refused before reading (a
  // sparse 64 GiB file: nothing is allocated or read).
  const std::filesystem::path huge = dir / "huge.pt";
  dir.Write("huge.pt", "");
  std::filesystem::resize_file(huge, std::uintmax_t{64} << 30);
  ExpectInputErrorContaining([&] { b.Load(huge.string()); },
                             {huge.string(), "file is 68719476736 bytes, more than the limit"});
  EXPECT_EQ(b.ActorOutput(FixedState(0.3f)), before);
}

// A copy of a torch archive with one entry replaced, written key by key through the
// public archive API (no knowledge of the agent's format beyond the key edited).
// `edit` gets the dotted key and the entry; it may replace it.
using ArchiveEdit = std::function<void(const std::string& key, c10::IValue& value)>;
void CopyArchive(torch::serialize::InputArchive& in, torch::serialize::OutputArchive& out,
                 const ArchiveEdit& edit, const std::string& prefix) {
  for (const std::string& key : in.keys()) {
    if (key == "training") continue;  // every archive's own flag, not an entry
    const std::string dotted = prefix + key;
    torch::serialize::InputArchive sub;
    if (in.try_read(key, sub)) {
      torch::serialize::OutputArchive sub_out;
      CopyArchive(sub, sub_out, edit, dotted + ".");
      out.write(key, sub_out);
      continue;
    }
    torch::Tensor t;
    for (bool buffer : {false, true}) {
      if (in.try_read(key, t, buffer)) {
        c10::IValue v(t);
        edit(dotted, v);
        out.write(key, v.toTensor(), buffer);
        break;
      }
    }
    if (t.defined()) continue;
    c10::IValue v;
    in.read(key, v);
    edit(dotted, v);
    out.write(key, v);
  }
}
std::string RewriteArchive(const test::TempDir& dir, const std::string& from,
                           const std::string& name, const ArchiveEdit& edit) {
  torch::serialize::InputArchive in;
  in.load_from(from);
  torch::serialize::OutputArchive out;
  CopyArchive(in, out, edit, "");
  const std::string path = (dir / name).string();
  out.save_to(path);
  return path;
}

// Saves whose options match but whose contents do not (written by something other
// than Ddpg::Save): the exact message, and the agent unchanged.
TEST(DdpgSaveLoad, CraftedSavesWithWrongContentsAreRefused) {
  test::TempDir dir;
  const std::string path = (dir / "agent.pt").string();
  const DdpgOptions o = SaveLoadOptions();
  Ddpg a(o);
  RunAndSave(a, path);

  // The copier itself is faithful: an unedited copy loads and acts the same.
  const std::string same = RewriteArchive(dir, path, "same.pt", [](const std::string&, c10::IValue&) {});
  Ddpg b(o);
  b.Load(same);
  EXPECT_EQ(b.ActorOutput(FixedState(0.3f)), a.ActorOutput(FixedState(0.3f)));
  EXPECT_EQ(b.Act(FixedState(0.5f)), a.Act(FixedState(0.5f)));

  const double before = b.ActorOutput(FixedState(0.7f));
  auto refused = [&](const std::string& name, const std::string& target,
                     const std::function<c10::IValue(const c10::IValue&)>& replace,
                     const std::string& message) {
    bool found = false;
    const std::string crafted =
        RewriteArchive(dir, path, name, [&](const std::string& key, c10::IValue& v) {
          if (found || key.rfind(target, 0) != 0) return;  // the first key starting so
          v = replace(v);
          found = true;
        });
    ASSERT_TRUE(found) << target;
    try {
      b.Load(crafted);
      ADD_FAILURE() << name << ": expected util::InputError";
    } catch (const util::InputError& e) {
      EXPECT_EQ(std::string(e.what()), crafted + ": " + message) << name;
    }
    EXPECT_EQ(b.ActorOutput(FixedState(0.7f)), before) << name;
  };
  auto tensor = [](torch::Tensor t) { return [t](const c10::IValue&) { return c10::IValue(t); }; };
  refused("states-short.pt", "replay.states", tensor(torch::zeros({39, 10})),
          "'replay.states' has the wrong type or shape");
  refused("actions-float.pt", "replay.actions", tensor(torch::zeros({40}, torch::kFloat)),
          "'replay.actions' has the wrong type or shape");
  refused("dones-2d.pt", "replay.dones", tensor(torch::zeros({40, 1}, torch::kUInt8)),
          "'replay.dones' has the wrong type or shape");
  refused("size-over.pt", "replay.size", [](const c10::IValue&) { return c10::IValue(int64_t{41}); },
          "inconsistent replay buffer counters");
  refused("slot-off.pt", "replay.next_slot",
          [](const c10::IValue&) { return c10::IValue(int64_t{-1}); },
          "inconsistent replay buffer counters");
  refused("actor-weight.pt", "actor.", tensor(torch::zeros({3, 3})),
          "'actor' has parameters of the wrong shape");
  refused("critic-target-weight.pt", "critic_target.", tensor(torch::zeros({7})),
          "'critic_target' has parameters of the wrong shape");
  refused("rng.pt", "rng", [](const c10::IValue&) { return c10::IValue(std::string("12 x")); },
          "bad RNG state");
}

TEST(DdpgReplay, RingBufferWrapsAtCapacity) {
  DdpgOptions o = SmallOptions(0);
  o.replay_capacity = 20;
  o.warmup_episodes = 100;  // no learning
  Ddpg agent(o);
  std::deque<Transition> reference;
  for (int e = 0; e < 5; ++e) {
    agent.BeginEpisode(e);
    Episode ep;
    for (int t = 0; t < 8; ++t) {
      std::vector<float> s(10, 0.0f);
      s[0] = static_cast<float>(e * 100 + t);
      ep.states.push_back(s);
      ep.actions.push_back((e * 8 + t) / 100.0);
    }
    ep.reward = e + 0.5;
    agent.EndEpisode(ep);
    for (int t = 0; t < 8; ++t) {
      const bool last = t == 7;
      reference.push_back({ep.states[static_cast<size_t>(t)], ep.actions[static_cast<size_t>(t)],
                           ep.reward, ep.states[static_cast<size_t>(last ? t : t + 1)], last});
      if (reference.size() > 20) reference.pop_front();
    }
    ASSERT_EQ(agent.replay_size(), static_cast<int64_t>(reference.size())) << "episode " << e;
    for (size_t i = 0; i < reference.size(); ++i) {
      const Transition got = agent.ReplayAt(static_cast<int64_t>(i));
      EXPECT_EQ(got.state, reference[i].state) << e << " " << i;
      EXPECT_EQ(got.action, reference[i].action) << e << " " << i;
      EXPECT_EQ(got.reward, reference[i].reward) << e << " " << i;
      EXPECT_EQ(got.next_state, reference[i].next_state) << e << " " << i;
      EXPECT_EQ(got.done, reference[i].done) << e << " " << i;
    }
  }
  // After 40 transitions the oldest kept is episode 2, step 4.
  EXPECT_EQ(agent.ReplayAt(0).state[0], 204.0f);
  EXPECT_THROW(agent.ReplayAt(20), util::InputError);
  EXPECT_EQ(agent.update_count(), 0);
}

TEST(DdpgInput, BadOptionsAndInputsThrow) {
  DdpgOptions o = SmallOptions(0);
  o.replay_capacity = 0;
  ExpectInputErrorContaining([&] { Ddpg a(o); }, {"replay_capacity"});
  o = SmallOptions(0);
  o.tau = 1.5;
  ExpectInputErrorContaining([&] { Ddpg a(o); }, {"tau"});
  Ddpg agent(SmallOptions(0));
  EXPECT_EQ(agent.name(), "ddpg");
  ExpectInputErrorContaining([&] { agent.Act(std::vector<float>(9, 0.0f)); }, {"9", "10"});
  Episode ep;
  ep.states = {FixedState(0.1f), FixedState(0.2f)};
  ep.actions = {0.5};
  ExpectInputErrorContaining([&] { agent.EndEpisode(ep); }, {"2 states", "1 actions"});
  ep.actions = {0.5, 1.5};
  ExpectInputErrorContaining([&] { agent.EndEpisode(ep); }, {"action 1"});
  EXPECT_EQ(agent.replay_size(), 0);
  ExpectInputErrorContaining([&] { agent.BeginEpisode(-1); }, {"-1"});
}

}  // namespace
}  // namespace haq::search
