// The search loop on a synthetic environment whose accuracy oracle is a known
// function of the bits, so the optimum under the budget is found exactly by dynamic
// programming: over 8 seeds DDPG gets near it and ahead of random search; every
// episode ends within budget; a run interrupted and resumed at several points
// writes the same log and best policy as an uninterrupted one; the log records the
// machine, and a resume on another kernel path warns.
#include "search/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "search/baselines.h"
#include "search/ddpg.h"
#include "search/machine.h"
#include "search/restarts.h"
#include "search/synthetic_env.h"
#include "test_util.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::search {
namespace {

using namespace synthetic;  // NOLINT: the problem these tests search

SearchConfig Config(const std::filesystem::path& dir, int64_t episodes, int64_t parallel = 1) {
  SearchConfig c;
  c.episodes = episodes;
  c.parallel = parallel;
  c.fp_accuracy = 100.0;
  c.out_dir = dir;
  c.settings = {{"model", "synthetic"}, {"episodes", episodes}};
  c.machine = MachineInfo::Current;  // as haq search records it
  return c;
}

DdpgOptions AgentOptions(const QuantEnv& env, uint64_t seed) {
  DdpgOptions d;
  d.replay_capacity = 128 * env.num_steps();
  d.state_dim = static_cast<int>(env.state_dim());
  d.warmup_episodes = 20;
  d.seed = seed;
  return d;
}

// DDPG (paper networks and learning rates) against the exact optimum, at paper scale
// (600 episodes) with the two budget features (`--budget-state`) and exploration
// decaying at 0.995 per episode (`--sigma-decay`). Only 2 of the 655,971 policies
// within budget are within 1% of the optimum's reward, so 1% asks for the best or
// the second best. Which policy a seed ends on depends on the CPU's kernels (one
// rounding difference in an update sends the agent down another trajectory), so
// the test asserts properties over seeds 1-8, not one seed's policy.
// Measured gaps of DDPG's best to the optimum (seeds 1-8 unless said):
//   AMD EPYC (ATen AVX2, OpenBLAS Zen, oneDNN avx2): 7 within 1% (6 at the
//     optimum), the eighth 2.76%;
//   Intel Xeon (AVX2, SkylakeX, avx512_core_amx): 4 within 0.44%, 4 at 1.04-1.33%;
//   Intel Xeon family 6 model 207 (AVX2, Prescott, avx512_core_bf16), under
//   scripts/kernel_paths.sh: native seeds 1-7: 0, 1.33, 0, 0, 1.04, 1.04, 1.04%;
//   zen seeds 1-6: 0, 2.76, 0, 0.44, 0, 0% (the AMD machine's gaps exactly: the
//   zen path makes the AMD machine's kernel choices); avx512: 0, 0, 2.76, 0, 0, 1.33, 2.26,
//   0.44%; avx2 seeds 6-7: 0, 0%; with one thread, default: 0, 0, 0, 0, 0.44,
//   1.04, 1.04, 0%; avx2: 0, 2.76, 1.04, 0, 0, 1.04, 0.44, 0.44%.
// So 55 runs, none above 2.76%; the mean gap per machine or path 0.32-0.85%.
// Random search with the same episodes (exact arithmetic: the same on every path):
// 2.26-20.8% on seeds 1-8, mean 10.8%, behind DDPG on every seed of every machine
// and path. HAQ's own setting (10 features, decay 0.99) reached 1 of 5 seeds within
// 1%, the rest at 1.04-4.03%: its state does not show the budget, so the wall's
// cuts look random to its critic, and its exploration stops before the critic
// settles (docs/SEARCH.md).
// The test requires a mean gap over the 8 seeds of at most 2% (resampling the 39
// gaps measured first, a mean above 2% came up in 1 of 10,000 draws of 8), at
// least 7 of 8 seeds within 3%, and DDPG ahead of random search on at least 7 of 8
// seeds: a single unlucky seed on some CPU does not fail it, a search that stopped
// learning does (random search's mean is 10.8%).
TEST(SearchTest, DdpgGetsNearTheKnownOptimumAndBeatsRandomSearchOverSeeds) {
  const QuantEnv env = SizeEnv(/*budget_features=*/true);
  const double optimum = OptimalReward(env);
  const int64_t episodes = 600;
  constexpr int kSeeds = 8;
  std::vector<double> gaps;
  int within_three_percent = 0, ahead_of_random = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    test::TempDir dir;
    DdpgOptions d = AgentOptions(env, seed);
    d.sigma_decay = 0.995;
    Ddpg agent(d);
    const SearchResult r = RunSearch(env, agent, Oracle(), Config(dir / "run", episodes));
    const EpisodeRecord& best = r.log[static_cast<size_t>(r.best)];
    const double gap = (optimum - best.reward) / std::abs(optimum);
    EXPECT_GE(gap, -1e-12) << "seed " << seed << ": better than the optimum";
    gaps.push_back(gap);
    if (gap <= 0.03) ++within_three_percent;
    for (const auto& e : r.log) EXPECT_LE(e.cost, env.budget()) << "episode " << e.episode;
    test::TempDir dir2;
    RandomAgent random(seed);
    const SearchResult rr = RunSearch(env, random, Oracle(), Config(dir2 / "run", episodes));
    const double random_best = rr.log[static_cast<size_t>(rr.best)].reward;
    if (best.reward > random_best) ++ahead_of_random;
    std::cout << fmt::format("[ seed {} ] optimum {:.6f}, DDPG best {:.6f} ({:.2f}% off, "
                             "episode {}), random best {:.6f} ({:.2f}% off)\n",
                             seed, optimum, best.reward, 100 * gap, best.episode + 1, random_best,
                             100 * (optimum - random_best) / std::abs(optimum));
  }
  double mean_gap = 0.0;
  for (double g : gaps) mean_gap += g / kSeeds;
  EXPECT_LE(mean_gap, 0.02);
  EXPECT_GE(within_three_percent, kSeeds - 1);
  EXPECT_GE(ahead_of_random, kSeeds - 1);
}

// A log entry with the given bits (one weight width per layer) and reward.
EpisodeRecord Entry(int64_t episode, std::vector<int> bits, double reward) {
  EpisodeRecord e;
  e.episode = episode;
  for (int b : bits) e.policy.layers.push_back({"", b, 8});
  e.reward = reward;
  return e;
}

TEST(SearchTest, TopDistinctEpisodesRanksPoliciesOnceEach) {
  const std::vector<EpisodeRecord> log = {
      Entry(0, {4, 4}, -0.5), Entry(1, {3, 5}, -0.2), Entry(2, {4, 4}, -0.1),
      Entry(3, {5, 3}, -0.2), Entry(4, {3, 5}, -0.2), Entry(5, {2, 2}, -0.9)};
  // {4,4} at its better episode 2 (episode 0 repeats it); {3,5} and {5,3} tie at
  // -0.2, the earlier first; episode 4 repeats {3,5}.
  EXPECT_EQ(TopDistinctEpisodes(log, 1), (std::vector<int64_t>{2}));
  EXPECT_EQ(TopDistinctEpisodes(log, 3), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(TopDistinctEpisodes(log, 10), (std::vector<int64_t>{2, 1, 3, 5}));

  // Random logs against the definition: per distinct policy its best reward's first
  // episode, the k best of those by (reward descending, episode ascending).
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<EpisodeRecord> l;
    const int n = 1 + static_cast<int>(rng() % 30);
    for (int e = 0; e < n; ++e) {
      l.push_back(Entry(e, {2 + static_cast<int>(rng() % 3), 2 + static_cast<int>(rng() % 2)},
                        -static_cast<double>(rng() % 5)));
    }
    std::map<std::pair<int, int>, int64_t> first_best;  // policy -> episode
    for (const auto& e : l) {
      const std::pair<int, int> key{e.policy.layers[0].w_bits, e.policy.layers[1].w_bits};
      auto it = first_best.find(key);
      if (it == first_best.end() || e.reward > l[static_cast<size_t>(it->second)].reward) {
        first_best[key] = e.episode;
      }
    }
    std::vector<int64_t> expected;
    for (const auto& [key, e] : first_best) expected.push_back(e);
    std::sort(expected.begin(), expected.end(), [&](int64_t a, int64_t b) {
      const double ra = l[static_cast<size_t>(a)].reward, rb = l[static_cast<size_t>(b)].reward;
      return ra != rb ? ra > rb : a < b;
    });
    const int64_t k = 1 + static_cast<int64_t>(rng() % 8);
    if (static_cast<int64_t>(expected.size()) > k) expected.resize(static_cast<size_t>(k));
    EXPECT_EQ(TopDistinctEpisodes(l, k), expected) << "trial " << trial;
  }
}

// Log lines without the timing fields, which differ between runs.
std::vector<std::string> Results(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::ifstream in(dir / "log.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    j.erase("timing");
    out.push_back(j.dump());
  }
  return out;
}

struct Interrupt : std::runtime_error {
  Interrupt() : std::runtime_error("interrupted") {}
};

// Runs `episodes` in `dir`/whole uninterrupted and in `dir`/pieces interrupted after
// each episode of `stops`, every time with a fresh agent from `make` and a resume,
// as a new process would; the two must write the same log and best policy.
void ExpectPiecesEqualWhole(const QuantEnv& env, const std::function<std::unique_ptr<Agent>()>& make,
                            const std::filesystem::path& dir, int64_t episodes,
                            const std::vector<int64_t>& stops, int64_t parallel = 1) {
  RunSearch(env, *make(), Oracle(), Config(dir / "whole", episodes, parallel));
  for (size_t i = 0; i <= stops.size(); ++i) {
    const int64_t stop = i < stops.size() ? stops[i] : -1;
    SearchConfig c = Config(dir / "pieces", episodes, parallel);
    c.resume = i > 0;
    c.after_episode = [&](const EpisodeRecord& r) {
      if (r.episode + 1 == stop) throw Interrupt();
    };
    try {
      RunSearch(env, *make(), Oracle(), c);
      EXPECT_EQ(stop, -1);
    } catch (const Interrupt&) {
      EXPECT_NE(stop, -1);
    }
  }
  EXPECT_EQ(Results(dir / "whole"), Results(dir / "pieces"));
  EXPECT_EQ(Results(dir / "whole").size(), static_cast<size_t>(episodes));
  EXPECT_EQ(util::ReadFile(dir / "whole" / "best_policy.json"),
            util::ReadFile(dir / "pieces" / "best_policy.json"));
}

TEST(SearchTest, ResumedRunsEqualAnUninterruptedOne) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  // Interrupted after episodes 1, 20 (the first learning episode), 21 and 33.
  ExpectPiecesEqualWhole(
      env, [&] { return std::make_unique<Ddpg>(AgentOptions(env, 5)); }, dir.path(), 40,
      {1, 20, 21, 33});
  // Only the latest agent save is kept.
  EXPECT_EQ(test::ListDir(dir / "pieces"),
            "agent-000040.bin\nbest_policy.json\nlog.jsonl\nsettings.json\nstate.json\n");
}

// Each episode's log line names the machine and kernel paths it ran with; a resume
// whose machine takes another kernel path says that the continuation is not
// bit-identical, and one on the same path says nothing.
TEST(SearchTest, TheLogRecordsTheMachineAndAResumeOnAnotherKernelPathWarns) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  const auto run = [&](int64_t episodes, bool resume) {
    RandomAgent agent(3);
    SearchConfig c = Config(dir / "run", episodes);
    c.resume = resume;
    return RunSearch(env, agent, Oracle(), c);
  };
  EXPECT_TRUE(run(3, false).warnings.empty());
  const MachineInfo here = MachineInfo::Current();
  std::vector<std::string> lines;
  {
    std::ifstream in(dir / "run" / "log.jsonl");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 3u);
  MachineInfo other = here;
  other.cpu = "AMD EPYC 7B13";
  other.blas = here.blas == "Zen" ? "Haswell" : "Zen";
  std::string rewritten;
  for (const std::string& line : lines) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("machine"), here.ToJson());
    j["machine"] = other.ToJson();
    rewritten += j.dump() + "\n";
  }
  util::WriteFileAtomic(dir / "run" / "log.jsonl", rewritten);

  const SearchResult resumed = run(6, true);
  ASSERT_EQ(resumed.warnings.size(), 1u);
  EXPECT_EQ(resumed.warnings[0],
            fmt::format("warning: --resume: {}: episodes up to 3 ran on {}; this machine runs {}: "
                        "the continuation is valid but not bit-identical to an uninterrupted run "
                        "on either",
                        (dir / "run").string(), other.Describe(), here.Describe()));
  ASSERT_EQ(resumed.log.size(), 6u);
  EXPECT_EQ(*resumed.log[2].machine, other);
  EXPECT_EQ(*resumed.log[3].machine, here);
  // The last episode ran here: going on here is exact again.
  EXPECT_TRUE(run(8, true).warnings.empty());
}

// The log line of each episode without what depends on its place in the run
// (episode number, best so far) or on timing: the policy, its cost, accuracy, reward.
std::vector<std::string> Outcomes(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (std::string line : Results(dir)) {
    auto j = nlohmann::json::parse(line);
    j.erase("episode");
    j.erase("best_episode");
    out.push_back(j.dump());
  }
  return out;
}

// Restart r of a search with restarts: a DDPG agent with seed 5 + r and a short
// warm-up, so each 24-episode restart also learns.
RestartingAgent::Factory Restarts(const QuantEnv& env) {
  return [&env](int64_t r) {
    DdpgOptions d = AgentOptions(env, 5 + static_cast<uint64_t>(r));
    d.warmup_episodes = 8;
    return std::make_unique<Ddpg>(d);
  };
}

// Truth: the same searches run one by one as separate runs.
TEST(SearchTest, RestartsAreTheSeparateSearchesAndKeepTheBestByReward) {
  const QuantEnv env = SizeEnv();
  constexpr int64_t kPer = 24;
  constexpr int64_t kRestarts = 3;
  test::TempDir dir;
  RestartingAgent agent(Restarts(env), kPer);
  const SearchResult whole = RunSearch(env, agent, Oracle(), Config(dir / "whole", kPer * kRestarts));
  const std::vector<std::string> outcomes = Outcomes(dir / "whole");
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(kPer * kRestarts));
  int64_t best = -1;
  double best_reward = -1e300;
  for (int64_t r = 0; r < kRestarts; ++r) {
    const auto alone = Restarts(env)(r);
    const SearchResult one = RunSearch(env, *alone, Oracle(), Config(dir / fmt::format("alone{}", r), kPer));
    EXPECT_EQ(std::vector<std::string>(outcomes.begin() + r * kPer, outcomes.begin() + (r + 1) * kPer),
              Outcomes(dir / fmt::format("alone{}", r)))
        << "restart " << r;
    const double reward = one.log[static_cast<size_t>(one.best)].reward;
    if (reward > best_reward) {  // the first of equals, as the search keeps it
      best_reward = reward;
      best = r * kPer + one.best;
    }
  }
  EXPECT_EQ(whole.best, best);
  // The three searches differ (else this would not test the seeds).
  EXPECT_NE(outcomes[kPer + 10], outcomes[10]);
  EXPECT_NE(outcomes[2 * kPer + 10], outcomes[kPer + 10]);
}

TEST(SearchTest, RunsWithRestartsResumeExactlyAcrossRestarts) {
  const QuantEnv env = SizeEnv();
  constexpr int64_t kPer = 24;
  test::TempDir dir;
  // Interrupted in restart 1, at the end of restarts 1 and 2, and after the first
  // episode of restart 2.
  ExpectPiecesEqualWhole(
      env, [&] { return std::make_unique<RestartingAgent>(Restarts(env), kPer); }, dir.path(),
      3 * kPer, {5, 24, 25, 48});
  // One agent save, no staged inner save left behind.
  EXPECT_EQ(test::ListDir(dir / "pieces"),
            "agent-000072.bin\nbest_policy.json\nlog.jsonl\nsettings.json\nstate.json\n");
}

// --parallel K. Truth for K = 1: the loop written out directly (begin, act on the
// environment's state, wall, evaluate, end; one episode after another), as RunSearch
// ran before rounds existed.
std::vector<std::pair<std::vector<int>, double>> SequentialLoop(const QuantEnv& env, Agent& agent,
                                                                int64_t episodes) {
  std::vector<std::pair<std::vector<int>, double>> out;
  for (int64_t e = 0; e < episodes; ++e) {
    Episode ep;
    std::vector<int> bits;
    double prev = 0.0;
    agent.BeginEpisode(e);
    for (int64_t t = 0; t < env.num_steps(); ++t) {
      ep.states.push_back(env.State(t, prev, bits));
      prev = agent.Act(ep.states.back());
      bits.push_back(env.ActionToBits(prev));
    }
    const hw::Policy policy = env.EnforceBudget(env.PolicyFromStepBits(bits));
    for (int b : env.StepBits(policy)) ep.actions.push_back(env.BitsToAction(b));
    ep.reward = 0.1 * (Accuracy(policy) - 100.0);
    agent.EndEpisode(ep);
    out.emplace_back(env.StepBits(policy), ep.reward);
  }
  return out;
}

TEST(SearchTest, ParallelOneIsTheSequentialLoop) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  Ddpg reference(AgentOptions(env, 7));
  const auto expected = SequentialLoop(env, reference, 40);  // 20 of them learning
  Ddpg agent(AgentOptions(env, 7));
  const SearchResult r = RunSearch(env, agent, Oracle(), Config(dir / "run", 40, 1));
  ASSERT_EQ(r.log.size(), expected.size());
  for (size_t e = 0; e < expected.size(); ++e) {
    EXPECT_EQ(env.StepBits(r.log[e].policy), expected[e].first) << "episode " << e;
    EXPECT_EQ(r.log[e].reward, expected[e].second) << "episode " << e;
  }
}

// Random search draws its actions in the same order whatever the round size, so its
// log is the same with any K: only when each policy is proposed and learned from
// changes, never the policy.
TEST(SearchTest, RandomSearchWritesTheSameLogInRoundsOfAnySize) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  for (int64_t k : {1, 3, 4, 30}) {
    RandomAgent agent(11);
    RunSearch(env, agent, Oracle(), Config(dir / fmt::format("k{}", k), 25, k));
  }
  for (const char* k : {"k3", "k4", "k30"}) {
    EXPECT_EQ(Results(dir / "k1"), Results(dir / k)) << k;
    EXPECT_EQ(util::ReadFile(dir / "k1" / "best_policy.json"), util::ReadFile(dir / k / "best_policy.json"));
  }
  EXPECT_EQ(Results(dir / "k1").size(), 25u);
}

// DDPG in rounds of 4: each round's policies come from the same actor (so the log
// differs from K = 1 once learning starts), every episode's transitions are learned
// from, and a run interrupted at any episode resumes to the uninterrupted run's log:
// a round is committed whole, so an interruption inside one repeats none of it.
TEST(SearchTest, DdpgInRoundsResumesExactlyAndLearnsFromEveryEpisode) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  ExpectPiecesEqualWhole(
      env, [&] { return std::make_unique<Ddpg>(AgentOptions(env, 5)); }, dir.path(), 42,
      {1, 20, 23, 34}, /*parallel=*/4);
  EXPECT_EQ(test::ListDir(dir / "pieces"),
            "agent-000042.bin\nbest_policy.json\nlog.jsonl\nsettings.json\nstate.json\n");
  // The same warm-up (random actions: the first 20 episodes equal K = 1's), then
  // another trajectory, with as many transitions stored and updates made as one
  // episode at a time: one update per step of every learning episode.
  Ddpg one(AgentOptions(env, 5));
  RunSearch(env, one, Oracle(), Config(dir / "k1", 42, 1));
  Ddpg four(AgentOptions(env, 5));
  RunSearch(env, four, Oracle(), Config(dir / "k4", 42, 4));
  const auto k1 = Results(dir / "k1");
  const auto k4 = Results(dir / "k4");
  EXPECT_EQ(k4, Results(dir / "whole"));
  EXPECT_EQ(std::vector<std::string>(k1.begin(), k1.begin() + 20),
            std::vector<std::string>(k4.begin(), k4.begin() + 20));
  EXPECT_NE(std::vector<std::string>(k1.begin() + 20, k1.end()),
            std::vector<std::string>(k4.begin() + 20, k4.end()));
  EXPECT_EQ(four.replay_size(), 42 * env.num_steps());
  EXPECT_EQ(four.update_count(), (42 - 20) * env.num_steps());
  EXPECT_EQ(one.update_count(), four.update_count());
}

// Rounds never span two restarts: with restarts of 10 episodes and K = 4 the rounds
// are [0,4) [4,8) [8,10) [10,14) ..., so each restart is the search it would be alone
// with K = 4.
TEST(SearchTest, RoundsStopAtEachRestart) {
  const QuantEnv env = SizeEnv();
  constexpr int64_t kPer = 10;
  test::TempDir dir;
  RestartingAgent agent(Restarts(env), kPer);
  RunSearch(env, agent, Oracle(), Config(dir / "whole", 3 * kPer, 4));
  const std::vector<std::string> outcomes = Outcomes(dir / "whole");
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(3 * kPer));
  for (int64_t r = 0; r < 3; ++r) {
    const auto alone = Restarts(env)(r);
    RunSearch(env, *alone, Oracle(), Config(dir / fmt::format("alone{}", r), kPer, 4));
    EXPECT_EQ(std::vector<std::string>(outcomes.begin() + r * kPer, outcomes.begin() + (r + 1) * kPer),
              Outcomes(dir / fmt::format("alone{}", r)))
        << "restart " << r;
  }
}

// A run started as one search and resumed with restarts: its agent save is the
// strategy's own, and the episodes after it are a fresh search with the next seed.
TEST(SearchTest, ARunWithoutRestartsResumesWithRestarts) {
  const QuantEnv env = SizeEnv();
  constexpr int64_t kPer = 24;
  test::TempDir dir;
  {
    const auto first = Restarts(env)(0);
    RunSearch(env, *first, Oracle(), Config(dir / "run", kPer));
  }
  RestartingAgent agent(Restarts(env), kPer);
  SearchConfig c = Config(dir / "run", 2 * kPer);
  c.resume = true;
  const SearchResult r = RunSearch(env, agent, Oracle(), c);
  EXPECT_EQ(r.resumed_from, kPer);
  const auto second = Restarts(env)(1);
  RunSearch(env, *second, Oracle(), Config(dir / "second", kPer));
  const std::vector<std::string> outcomes = Outcomes(dir / "run");
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(2 * kPer));
  EXPECT_EQ(std::vector<std::string>(outcomes.begin() + kPer, outcomes.end()), Outcomes(dir / "second"));
}

TEST(SearchTest, RestartSavesFromAnotherPointOfTheRunAreRefused) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  const std::string path = (dir / "agent-000030.bin").string();
  {
    RestartingAgent agent(Restarts(env), 24);
    for (int64_t e : {0, 24, 29}) agent.BeginEpisode(e);  // into restart 2
    agent.Save(path);
  }
  // The save says restart 2; in a run of 100-episode restarts episode 31 is in restart 1.
  RestartingAgent other(Restarts(env), 100);
  other.Load(path);
  EXPECT_EQ(other.restart(), 1);
  try {
    other.BeginEpisode(30);
    ADD_FAILURE() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_STREQ(e.what(), "a search with restarts of 100 episodes: episode 31 belongs to restart 1, "
                           "but the agent is in restart 2");
  }
  const std::string text = util::ReadFile(path);
  for (const auto& [bad, message] : std::vector<std::pair<std::string, std::string>>{
           {"haq-restarting-agent-1\n-1\n", ": line 2: expected the restart, a number >= 0, got '-1'"},
           {"haq-restarting-agent-1\n1x\n", ": line 2: expected the restart, a number >= 0, got '1x'"},
           {"haq-restarting-agent-1\n", ": line 2: expected the restart, a number >= 0, got the end "
                                         "of the file"}}) {
    dir.Write("bad.bin", bad);
    try {
      other.Load((dir / "bad.bin").string());
      ADD_FAILURE() << bad << ": no error";
    } catch (const util::InputError& e) {
      EXPECT_EQ(std::string(e.what()), (dir / "bad.bin").string() + message);
    }
  }
  // A damaged inner save is named as the file the user has, with the restart.
  dir.Write("cut.bin", text.substr(0, text.size() / 2));
  try {
    other.Load((dir / "cut.bin").string());
    ADD_FAILURE() << "no error";
  } catch (const util::InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find((dir / "cut.bin").string() + ": "), 0u) << what;
    EXPECT_EQ(what.find(".inner"), std::string::npos) << what;
    EXPECT_TRUE(what.ends_with(" (restart 2's agent)")) << what;
  }
  EXPECT_EQ(other.restart(), 1);  // unchanged by the failed loads
  EXPECT_FALSE(std::filesystem::exists(dir / "cut.bin.inner"));
}

TEST(SearchTest, ALogLongerThanTheCommitIsCutBack) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  RandomAgent agent(3);
  RunSearch(env, agent, Oracle(), Config(dir / "run", 5));
  // A kill between writing the log and state.json leaves one extra line.
  nlohmann::json state = nlohmann::json::parse(util::ReadFile(dir / "run" / "state.json"));
  state["episodes_done"] = 4;
  util::WriteFileAtomic(dir / "run" / "state.json", state.dump());
  const SearchResult r = ReadRun(dir / "run");
  EXPECT_EQ(r.log.size(), 4u);
}

TEST(SearchTest, RunDirectoriesAreCheckedBeforeWork) {
  const QuantEnv env = SizeEnv();
  test::TempDir dir;
  auto message = [&](SearchConfig c) {
    RandomAgent agent(0);
    try {
      RunSearch(env, agent, Oracle(), c);
    } catch (const util::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(Config(dir / "a", 2)), "no error");
  const std::string a = (dir / "a").string();
  EXPECT_EQ(message(Config(dir / "a", 2)),
            fmt::format("--out: {} is not empty (it holds a search run); choose a new directory, "
                        "or continue that run with --resume",
                        a));
  SearchConfig other = Config(dir / "a", 4);
  other.resume = true;
  other.settings["model"] = "another";
  EXPECT_EQ(message(other),
            fmt::format("--resume: {}/settings.json: 'model' was \"synthetic\" when the run "
                        "started, this command asks for \"another\"; resume with the same settings "
                        "or start a new run",
                        a));
  SearchConfig nothing = Config(dir / "b", 2);
  nothing.resume = true;
  EXPECT_EQ(message(nothing), fmt::format("--resume: {}: not a search run directory (no "
                                          "settings.json)",
                                          (dir / "b").string()));
  // Extending a finished run with more episodes is a resume.
  SearchConfig more = Config(dir / "a", 3);
  more.resume = true;
  EXPECT_EQ(message(more), "no error");
  EXPECT_EQ(ReadRun(dir / "a").log.size(), 3u);
}

// A damaged run directory is refused on --resume with a message naming the file,
// and the run's files are left exactly as they were.
TEST(SearchTest, DamagedRunDirectoriesAreRefusedOnResume) {
  namespace fs = std::filesystem;
  const QuantEnv env = SizeEnv();
  struct Damage {
    const char* name;
    std::function<void(const fs::path&)> apply;
    std::string message;  // "RUN" stands for the run directory
  };
  auto rewrite = [](const char* file, std::string text) {
    return [=](const fs::path& run) { util::WriteFileAtomic(run / file, text); };
  };
  auto edit_state = [](std::function<void(nlohmann::json&)> edit) {
    return [=](const fs::path& run) {
      auto j = nlohmann::json::parse(util::ReadFile(run / "state.json"));
      edit(j);
      util::WriteFileAtomic(run / "state.json", j.dump());
    };
  };
  auto contents = [](const fs::path& run) {  // file name -> bytes
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(run)) {
      files[e.path().filename().string()] = util::ReadFile(e.path());
    }
    return files;
  };
  const std::vector<Damage> damages = {
      {"state.json malformed", rewrite("state.json", "{\"format\": "),
       "RUN/state.json: malformed JSON: *"},
      {"state.json format", edit_state([](auto& j) { j["format"] = "haq-search-state-0"; }),
       "RUN/state.json: format: expected 'haq-search-state-1', got 'haq-search-state-0'"},
      {"state.json without agent_file", edit_state([](auto& j) { j.erase("agent_file"); }),
       "RUN/state.json: missing field 'agent_file'"},
      {"state.json episodes_done a string", edit_state([](auto& j) { j["episodes_done"] = "2"; }),
       "RUN/state.json: episodes_done: expected an integer, got \"2\""},
      {"log shorter than state.json",
       [](const fs::path& run) {
         const std::string log = util::ReadFile(run / "log.jsonl");
         util::WriteFileAtomic(run / "log.jsonl", log.substr(0, log.find('\n') + 1));
       },
       "RUN/log.jsonl: expected 2 episodes (state.json), found 1; the run directory is damaged"},
      {"logged policy invalid",
       [](const fs::path& run) {
         std::string log = util::ReadFile(run / "log.jsonl");
         const size_t second = log.find('\n') + 1;
         const size_t at = log.find("\"policy\":[[", second) + 11;
         log.replace(at, 1, "9");
         util::WriteFileAtomic(run / "log.jsonl", log);
       },
       "RUN/log.jsonl:2: policy: [0][0] (w_bits): expected an integer in 1..8, got 9"},
      {"agent file with a wrong header", rewrite("agent-000002.bin", "haq-uniform-agent-1\n0.5\n"),
       "RUN/agent-000002.bin: expected a saved agent starting with 'haq-random-agent-1', got "
       "something else"},
      {"agent file with a malformed state", rewrite("agent-000002.bin", "haq-random-agent-1\nx\n"),
       "RUN/agent-000002.bin: expected a random generator state, got malformed text"},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    test::TempDir dir;
    const fs::path run = dir / "run";
    {
      RandomAgent agent(0);
      RunSearch(env, agent, Oracle(), Config(run, 2));
    }
    d.apply(run);
    const std::map<std::string, std::string> before = contents(run);
    SearchConfig resume = Config(run, 3);
    resume.resume = true;
    RandomAgent agent(0);
    const std::string error =
        test::InputErrorOf([&] { RunSearch(env, agent, Oracle(), resume); });
    std::string expected = d.message;
    expected.replace(expected.find("RUN"), 3, run.string());
    if (expected.ends_with("*")) {
      expected.pop_back();
      EXPECT_TRUE(error.starts_with(expected)) << error;
    } else {
      EXPECT_EQ(error, expected);
    }
    EXPECT_TRUE(contents(run) == before) << "the run directory changed";
  }
}

}  // namespace
TEST(SearchTest, UniformAgentSavesRoundTripAndRefuseActionsOutsideTheUnitInterval) {
  test::TempDir dir;
  UniformAgent a(0.3125);
  const std::string path = (dir / "agent-000001.bin").string();
  a.Save(path);
  UniformAgent b(0.9);
  b.Load(path);
  EXPECT_EQ(b.Act({}), 0.3125);
  for (const char* bad : {"nan", "-0.5", "1.5", "inf", "x"}) {
    dir.Write("bad.bin", std::string("haq-uniform-agent-1\n") + bad + "\n");
    try {
      b.Load((dir / "bad.bin").string());
      ADD_FAILURE() << bad << ": no error";
    } catch (const util::InputError& e) {
      EXPECT_EQ(std::string(e.what()), (dir / "bad.bin").string() +
                                           ": expected an action in [0, 1], got '" + bad + "'");
    }
    EXPECT_EQ(b.Act({}), 0.3125) << bad;  // unchanged
  }
}

}  // namespace haq::search
