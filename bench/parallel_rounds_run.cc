// The effect of --parallel K on DDPG's sample efficiency, on the synthetic problem
// with a known optimum (tests/search/synthetic_env.h: the search tests' problem, at
// paper scale: 600 episodes, the two budget features, exploration decaying at 0.995).
// For each K and seed it runs the search in rounds of K and prints the best reward's
// gap to the optimum after 150, 300 and 600 episodes, and the mean per K.
//
//   build/bench/parallel_rounds_run [SEEDS=8] [K,K,...=1,4,8,16]
#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "search/ddpg.h"
#include "search/synthetic_env.h"

using namespace haq::search;

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 8;
  std::vector<int64_t> ks = {1, 4, 8, 16};
  if (argc > 2) {
    ks.clear();
    for (const char* p = argv[2]; *p;) {
      ks.push_back(std::strtoll(p, const_cast<char**>(&p), 10));
      if (*p == ',') ++p;
    }
  }
  const QuantEnv env = synthetic::SizeEnv(/*budget_features=*/true);
  const double optimum = synthetic::OptimalReward(env);
  const std::vector<int64_t> marks = {150, 300, 600};
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("haq-rounds-{}", ::getpid());
  fmt::print("| K | seed | gap after 150 | after 300 | after 600 episodes |\n|---|---|---|---|---|\n");
  std::map<int64_t, std::vector<double>> mean;  // per K, per mark
  for (int64_t k : ks) {
    mean[k].assign(marks.size(), 0.0);
    for (int seed = 1; seed <= seeds; ++seed) {
      DdpgOptions d;
      d.replay_capacity = 128 * env.num_steps();
      d.state_dim = static_cast<int>(env.state_dim());
      d.warmup_episodes = 20;
      d.sigma_decay = 0.995;
      d.seed = static_cast<uint64_t>(seed);
      Ddpg agent(d);
      SearchConfig c;
      c.episodes = marks.back();
      c.parallel = k;
      c.fp_accuracy = 100.0;
      c.out_dir = dir / fmt::format("k{}-s{}", k, seed);
      const SearchResult r = RunSearch(env, agent, synthetic::Oracle(), c);
      std::vector<double> gaps;
      for (size_t m = 0; m < marks.size(); ++m) {
        double best = -1e300;
        for (int64_t e = 0; e < marks[m]; ++e) best = std::max(best, r.log[static_cast<size_t>(e)].reward);
        gaps.push_back(100.0 * (optimum - best) / std::abs(optimum));
        mean[k][m] += gaps.back() / seeds;
      }
      fmt::print("| {} | {} | {:.2f}% | {:.2f}% | {:.2f}% |\n", k, seed, gaps[0], gaps[1], gaps[2]);
      std::fflush(stdout);
    }
  }
  fmt::print("\n| K | mean gap after 150 | after 300 | after 600 episodes |\n|---|---|---|---|\n");
  for (int64_t k : ks) {
    fmt::print("| {} | {:.2f}% | {:.2f}% | {:.2f}% |\n", k, mean[k][0], mean[k][1], mean[k][2]);
  }
  std::filesystem::remove_all(dir);
}
