#pragma once
/// DDPG agent of HAQ (Wang et al., CVPR 2019; Lillicrap et al., ICLR 2016) behind the
/// ask/tell Agent interface. Everything random (weight initialisation, warm-up
/// actions, exploration noise, minibatch sampling) comes from the agent's own
/// std::mt19937_64 seeded with DdpgOptions::seed, never from torch's global
/// generator, so the agent is deterministic given its seed whatever else the process
/// does with torch's RNG (for a fixed torch thread count; the agent never changes it).
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "search/baselines.h"  // UniformUnit

#include "search/agent.h"

namespace haq::search {

/// Hyper-parameters of Ddpg; the defaults are HAQ's released ones.
struct DdpgOptions {
  int state_dim = 10;
  int hidden = 300;                          ///< actor and critic: two hidden layers
  double lr_actor = 1e-4, lr_critic = 1e-3;  ///< Adam learning rates
  double tau = 0.01;                         ///< soft target update rate
  double discount = 1.0;  ///< as released: every step receives the episode's final reward
  int batch_size = 64;
  int64_t replay_capacity = 0;   ///< transitions; must be set by the caller (>= 1)
  int64_t warmup_episodes = 20;  ///< uniform random actions in these episodes, no learning
  double sigma_init = 0.5, sigma_decay = 0.99;  ///< truncated normal exploration noise
  double baseline_factor = 0.5;  ///< moving average of the minibatch mean reward
  uint64_t seed = 0;
};

/// One stored transition of the replay buffer (see Ddpg::ReplayAt).
struct Transition {
  std::vector<float> state;
  double action = 0.0;
  double reward = 0.0;
  std::vector<float> next_state;
  bool done = false;
};


/// A standard normal draw by the Box-Muller transform from two UniformUnit draws
/// u1, u2: sqrt(-2 ln(1 - u1)) * cos(2 pi u2) (the second value is discarded, so no
/// hidden state exists beside `rng`).
double StandardNormal(std::mt19937_64& rng);

/// A draw from N(mu, sigma^2) truncated to [0,1] (scipy's truncnorm as used by HAQ),
/// by rejection: draw mu + sigma * StandardNormal(rng) until it lies in [0,1].
/// sigma <= 0 returns mu clamped to [0,1]. After 10000 rejections (only possible
/// for a sigma far above 1 or a mu far outside [0,1]) it returns UniformUnit(rng),
/// the limit of the truncated normal for sigma -> infinity. Throws util::InputError
/// for a non-finite mu or sigma.
double SampleTruncatedNormal(double mu, double sigma, std::mt19937_64& rng);

/// The DDPG agent.
///
/// Networks (all layers torch::linear with float32 weights):
/// - actor mu(s): Linear(state_dim, hidden) - ReLU - Linear(hidden, hidden) - ReLU -
///   Linear(hidden, 1) - Sigmoid;
/// - critic Q(s, a): Linear(state_dim + 1, hidden) on concat(s, a) - ReLU -
///   Linear(hidden, hidden) - ReLU - Linear(hidden, 1). (HAQ's released critic feeds
///   s and a through two separate first layers and sums them; that is the same
///   function up to one redundant bias.)
/// - Initialisation (from the agent's RNG, in the order actor then critic, layer by
///   layer, weight then bias, row-major): the two hidden layers' weights and biases
///   are uniform in +-1/sqrt(fan_in), the output layer's in +-3e-3 (Lillicrap et al.;
///   HAQ's init_w). The target networks start as exact copies.
///
/// Acting: in episodes e < warmup_episodes the action is UniformUnit(rng); afterwards
/// it is SampleTruncatedNormal(mu(s), sigma(), rng) with
/// sigma = sigma_init * sigma_decay^(e - warmup_episodes).
///
/// Learning (EndEpisode): every step t of the episode is stored as (s_t, a_t, r,
/// s_{t+1}, done) in a ring buffer of replay_capacity transitions (the oldest is
/// overwritten when full), r the episode's reward, s_{t+1} = s_t and done = true for
/// the last step. Then, if the current episode is >= warmup_episodes and the buffer
/// holds at least batch_size transitions, T updates are made (T = the episode's
/// number of steps), each:
/// 1. batch_size slots drawn uniformly with replacement from the filled slots
///    (unbiased rejection on the RNG's 64-bit draws);
/// 2. baseline b: on the very first update b = mean(r_batch), afterwards
///    b = f * b + (1 - f) * mean(r_batch), f = baseline_factor (HAQ's moving average
///    with alpha 0.5); the mean is computed in double; r' = r - b;
/// 3. y = r' + discount * (1 - done) * Q'(s', mu'(s')) with the target networks
///    (no gradient); critic loss mean (Q(s, a) - y)^2, one Adam step;
/// 4. actor loss -mean Q(s, mu(s)), one Adam step on the actor only;
/// 5. soft update of both targets: theta' = (1 - tau) * theta' + tau * theta.
///
/// Save/Load write and read a torch archive holding everything: options, networks,
/// targets, both Adam states, replay buffer, RNG state, episode, baseline and counters.
class Ddpg : public Agent {
 public:
  /// Builds and initialises the agent. Throws util::InputError for state_dim < 1,
  /// hidden < 1, batch_size < 1, replay_capacity < 1, warmup_episodes < 0,
  /// non-positive or non-finite learning rates, tau outside [0,1], a negative or
  /// non-finite discount, sigma_init < 0, sigma_decay outside (0,1],
  /// baseline_factor outside [0,1].
  explicit Ddpg(DdpgOptions options);
  ~Ddpg() override;
  Ddpg(const Ddpg&) = delete;
  Ddpg& operator=(const Ddpg&) = delete;

  /// "ddpg".
  std::string name() const override;
  /// Sets the current episode (throws util::InputError when negative). Before the
  /// first call the current episode is 0.
  void BeginEpisode(int64_t episode) override;
  /// The action for `state` (see the class comment). Throws util::InputError when
  /// state.size() != state_dim or a feature is not finite.
  double Act(const std::vector<float>& state) override;
  /// Stores the episode and learns (see the class comment). Throws util::InputError,
  /// storing nothing, when states and actions differ in length, a state has the
  /// wrong size or a non-finite feature, an action lies outside [0,1] or the reward
  /// is not finite. An empty episode does nothing.
  void EndEpisode(const Episode& episode) override;
  /// Writes everything to `path` (torch archive). Throws util::IoError when the file
  /// cannot be written.
  void Save(const std::string& path) const override;
  /// Replaces this agent's whole state by the save at `path`. Throws
  /// util::InputError naming `path` when the file is missing or not a DDPG save,
  /// or any option of the save differs from this agent's (the message names the
  /// option, e.g. state_dim); the agent is unchanged then.
  void Load(const std::string& path) override;

  const DdpgOptions& options() const;
  /// The current episode (the last BeginEpisode argument).
  int64_t episode() const;
  /// The exploration sigma of the current episode:
  /// sigma_init * sigma_decay^max(0, episode - warmup_episodes).
  double sigma() const;
  /// Number of transitions in the replay buffer (at most replay_capacity).
  int64_t replay_size() const;
  /// Transition i of the replay buffer, 0 = oldest, replay_size() - 1 = newest.
  /// Throws util::InputError when i is outside that range.
  Transition ReplayAt(int64_t i) const;
  /// The deterministic actor output mu(state) in (0,1) (no noise, no RNG use).
  /// Throws util::InputError like Act.
  double ActorOutput(const std::vector<float>& state) const;
  /// The critic's Q(state, action). Throws util::InputError like Act.
  double CriticOutput(const std::vector<float>& state, double action) const;
  /// The reward baseline (0 before the first update).
  double baseline() const;
  /// Number of updates made so far.
  int64_t update_count() const;
  /// Wall-clock seconds spent in updates so far (steady clock; not deterministic,
  /// saved and restored like the other counters).
  double update_seconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace haq::search
