#pragma once
/// Baseline strategies behind the same ask/tell interface as DDPG and the same
/// budget wall: uniform bits and random search; and the agent that plays a planned
/// list of policies (the ILP's candidates) through the same loop.
#include <functional>
#include <random>
#include <vector>

#include "search/agent.h"

namespace haq::search {

/// A uniform double in [0,1): the top 53 bits of one draw of `rng`, times 2^-53.
inline double UniformUnit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// Every step takes the same action (the centre of `bits`' interval); the search
/// gives it the largest uniform width that fits the budget. No state to learn.
class UniformAgent : public Agent {
 public:
  explicit UniformAgent(double action) : action_(action) {}
  std::string name() const override { return "uniform"; }
  void BeginEpisode(int64_t) override {}
  double Act(const std::vector<float>&) override { return action_; }
  void EndEpisode(const Episode&) override {}
  void Save(const std::string& path) const override;
  void Load(const std::string& path) override;

 private:
  double action_;
};

/// Independent uniform actions in [0, 1) from a seeded std::mt19937_64.
class RandomAgent : public Agent {
 public:
  explicit RandomAgent(uint64_t seed) : rng_(seed) {}
  std::string name() const override { return "random"; }
  void BeginEpisode(int64_t) override {}
  double Act(const std::vector<float>&) override;
  void EndEpisode(const Episode&) override {}
  /// The generator state, as text.
  void Save(const std::string& path) const override;
  void Load(const std::string& path) override;

 private:
  std::mt19937_64 rng_;
};

/// Plays planned policies: episode e takes the actions of plan[e mod N] (one action
/// per step, e.g. QuantEnv::BitsToAction of each step's bits), whatever the state.
/// The plan is made by `planner` in Prepare (given the run directory). Its save
/// records the plan so a resume with another plan is refused.
class PlannedAgent : public Agent {
 public:
  using Planner = std::function<std::vector<std::vector<double>>(const std::filesystem::path& dir)>;
  PlannedAgent(std::string name, Planner planner);
  /// An agent with its plan made already.
  PlannedAgent(std::string name, std::vector<std::vector<double>> plan);
  std::string name() const override { return name_; }
  void Prepare(const std::filesystem::path& dir) override;
  void BeginEpisode(int64_t episode) override;
  double Act(const std::vector<float>&) override;
  void EndEpisode(const Episode&) override {}
  void Save(const std::string& path) const override;
  void Load(const std::string& path) override;

 private:
  std::string Text() const;
  const std::vector<std::vector<double>>& Plan() const;
  std::string name_;
  Planner planner_;
  std::vector<std::vector<double>> plan_;
  size_t current_ = 0;
  size_t step_ = 0;
};

}  // namespace haq::search
