#pragma once
/// The interface of a step-wise search strategy (DDPG in ddpg.h, the baselines in
/// baselines.h). RunSearch (search.h) owns the episode loop: it starts an episode,
/// asks the agent to Act once per step on the environment's state, applies the
/// budget wall, has the policy evaluated and hands the agent the whole episode. An
/// agent only proposes actions and learns from whole episodes. No LibTorch.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace haq::search {

/// One episode's transitions as the environment saw them: states[t] is the
/// (normalised) observation at step t, actions[t] the action in [0,1] actually taken
/// (after the environment may have changed it, e.g. the budget wall lowering bits,
/// the environment reports the action corresponding to the bits used), and the
/// episode's final reward applies to every step.
struct Episode {
  std::vector<std::vector<float>> states;
  std::vector<double> actions;
  double reward = 0.0;
  /// The episode's number as BeginEpisode got it (-1: the latest BeginEpisode's). With
  /// `--parallel K` RunSearch rolls out a round of K episodes before ending any of
  /// them, so EndEpisode must not assume it ends the latest one begun.
  int64_t index = -1;
};

/// A search strategy. RunSearch calls BeginEpisode(e), then Act(state) once per
/// step (state = the environment's features of this step, already normalised; the
/// previous action is one of the features, the loop fills it), then EndEpisode with
/// the whole episode. With `--parallel K` it does so for a round of K episodes:
/// BeginEpisode and the Acts of each in turn, then (once all K are evaluated)
/// EndEpisode of each in episode order; K = 1 is the sequence above. Agents must be deterministic given their seed, and
/// Save/Load must capture everything (networks, optimizers, replay buffer, RNG and
/// noise state, counters) so that an agent loaded from a save continues exactly as
/// the saved one would have, bit for bit.
class Agent {
 public:
  virtual ~Agent() = default;
  /// Called once by RunSearch when the run directory `dir` is open (settings.json
  /// written or a resume accepted) and before any Load or episode: work the agent
  /// needs before its first action, which may keep files in `dir` so that an
  /// interrupted preparation resumes (the planned strategies' sensitivity passes).
  virtual void Prepare(const std::filesystem::path& /*dir*/) {}
  /// Episodes come in blocks of this many that must not share a round of
  /// `--parallel K` (a restart's episodes: the next block starts a fresh agent);
  /// 0: one block, the whole run.
  virtual int64_t BlockLength() const { return 0; }
  /// A short lower-case name of the strategy ("ddpg").
  virtual std::string name() const = 0;
  /// Starts episode `episode` (0-based; RunSearch counts).
  virtual void BeginEpisode(int64_t episode) = 0;
  /// The action in [0,1] for the current step of the current episode.
  virtual double Act(const std::vector<float>& state) = 0;
  /// Ends the current episode; the agent stores and learns from its transitions.
  virtual void EndEpisode(const Episode& episode) = 0;
  /// Writes the agent's whole state to `path` (the caller handles atomic renames);
  /// Load restores it, throwing util::InputError naming `path` if it is not a save
  /// of this kind of agent or has different dimensions.
  virtual void Save(const std::string& path) const = 0;
  virtual void Load(const std::string& path) = 0;
};

}  // namespace haq::search
