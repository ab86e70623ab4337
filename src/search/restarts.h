#pragma once
/// Independent restarts of a search strategy within one run (`haq search
/// --restarts K`): episodes [r*E, (r+1)*E) belong to restart r, a fresh agent that
/// numbers its episodes from 0, so each restart is a whole search of E episodes of
/// its own (warm-up included) with its own seed. The run's best policy is the best
/// by reward over all restarts. This is the remedy for a search that settles on a
/// poor policy: at tight budgets, which of several searches ends best is seen in
/// the reward (docs/SEARCH.md), and K searches in one run share one calibration,
/// one reward set and one final stage.
#include <cstdio>
#include <functional>
#include <memory>

#include "search/agent.h"

namespace haq::search {

class RestartingAgent : public Agent {
 public:
  /// Makes restart r's agent (e.g. seeded with seed + r).
  using Factory = std::function<std::unique_ptr<Agent>(int64_t restart)>;

  /// `episodes_per_restart` >= 1. A line per new restart goes to `progress` if set.
  RestartingAgent(Factory make, int64_t episodes_per_restart, std::FILE* progress = nullptr);

  /// The strategy's own name ("ddpg"): the restarts do not change what it is.
  std::string name() const override;
  void BeginEpisode(int64_t episode) override;
  double Act(const std::vector<float>& state) override;
  /// Hands the episode to the current restart's agent, numbered within the restart.
  void EndEpisode(const Episode& episode) override;
  int64_t BlockLength() const override { return episodes_per_restart_; }
  /// One file: a header naming the restart, then the current restart's agent save.
  /// Load also takes a save of the strategy itself, as restart 0 (a run started
  /// without restarts and resumed with some).
  void Save(const std::string& path) const override;
  void Load(const std::string& path) override;

  /// The restart episode `episode` belongs to.
  int64_t RestartOf(int64_t episode) const { return episode / episodes_per_restart_; }
  int64_t restart() const { return restart_; }
  const Agent& current() const { return *agent_; }

 private:
  Factory make_;
  int64_t episodes_per_restart_;
  std::FILE* progress_;
  int64_t restart_ = 0;
  std::unique_ptr<Agent> agent_;
};

}  // namespace haq::search
