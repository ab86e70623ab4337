#include "search/ddpg.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numbers>
#include <sstream>
#include <utility>

#include "util/error.h"
#include "util/file.h"
#include "util/progress.h"

namespace haq::search {

double StandardNormal(std::mt19937_64& rng) {
  const double u1 = UniformUnit(rng);
  const double u2 = UniformUnit(rng);
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double SampleTruncatedNormal(double mu, double sigma, std::mt19937_64& rng) {
  if (!std::isfinite(mu) || !std::isfinite(sigma)) {
    throw util::InputError(
        fmt::format("SampleTruncatedNormal: expected finite mu and sigma, got {} and {}", mu,
                    sigma));
  }
  if (sigma <= 0.0) return std::clamp(mu, 0.0, 1.0);
  for (int i = 0; i < 10000; ++i) {
    const double x = mu + sigma * StandardNormal(rng);
    if (x >= 0.0 && x <= 1.0) return x;
  }
  return UniformUnit(rng);
}

namespace {

constexpr const char* kKind = "haq.search.ddpg";
constexpr int64_t kFormatVersion = 1;

/// Uniform integer in [0, n), n >= 1, without modulo bias.
int64_t UniformIndex(std::mt19937_64& rng, int64_t n) {
  const uint64_t un = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % un + 1) % un;  // largest multiple - 1
  for (;;) {
    const uint64_t r = rng();
    if (r <= limit) return static_cast<int64_t>(r % un);
  }
}

/// A float tensor of `shape` with values uniform in [-bound, bound] drawn from rng
/// in row-major order.
torch::Tensor UniformTensor(std::vector<int64_t> shape, double bound, std::mt19937_64& rng) {
  torch::Tensor t = torch::empty(shape, torch::kFloat);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    p[i] = static_cast<float>((2.0 * UniformUnit(rng) - 1.0) * bound);
  }
  return t;
}

/// Three-layer perceptron: in -> hidden -> ReLU -> hidden -> ReLU -> 1 (-> sigmoid).
class Mlp : public torch::nn::Module {
 public:
  /// rng == nullptr: zero weights (target networks, overwritten by a copy).
  Mlp(int in, int hidden, bool sigmoid_out, std::mt19937_64* rng) : sigmoid_out_(sigmoid_out) {
    auto make = [&](std::vector<int64_t> shape, double bound) {
      return rng ? UniformTensor(std::move(shape), bound, *rng) : torch::zeros(shape);
    };
    const double b1 = 1.0 / std::sqrt(static_cast<double>(in));
    const double b2 = 1.0 / std::sqrt(static_cast<double>(hidden));
    const double b3 = 3e-3;
    w1_ = register_parameter("w1", make({hidden, in}, b1));
    b1_ = register_parameter("b1", make({hidden}, b1));
    w2_ = register_parameter("w2", make({hidden, hidden}, b2));
    b2_ = register_parameter("b2", make({hidden}, b2));
    w3_ = register_parameter("w3", make({1, hidden}, b3));
    b3_ = register_parameter("b3", make({1}, b3));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = torch::relu(torch::linear(x, w1_, b1_));
    h = torch::relu(torch::linear(h, w2_, b2_));
    h = torch::linear(h, w3_, b3_);
    return sigmoid_out_ ? torch::sigmoid(h) : h;
  }

 private:
  bool sigmoid_out_;
  torch::Tensor w1_, b1_, w2_, b2_, w3_, b3_;
};

void CopyParameters(const Mlp& from, Mlp& to) {
  torch::NoGradGuard no_grad;
  auto src = from.parameters();
  auto dst = to.parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
}

void SoftUpdate(const Mlp& from, Mlp& to, double tau) {
  torch::NoGradGuard no_grad;
  auto src = from.parameters();
  auto dst = to.parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].mul_(1.0 - tau).add_(src[i], tau);
}

void CheckState(const std::vector<float>& state, int dim, const char* where) {
  if (static_cast<int64_t>(state.size()) != dim) {
    throw util::InputError(
        fmt::format("{}: state has {} features, expected state_dim = {}", where, state.size(),
                    dim));
  }
  for (size_t i = 0; i < state.size(); ++i) {
    if (!std::isfinite(state[i])) {
      throw util::InputError(
          fmt::format("{}: state feature {} is not finite ({})", where, i, state[i]));
    }
  }
}

void ValidateOptions(const DdpgOptions& o) {
  auto bad = [](const char* name, const std::string& expected, const std::string& got) {
    throw util::InputError(
        fmt::format("DdpgOptions.{}: expected {}, got {}", name, expected, got));
  };
  if (o.state_dim < 1) bad("state_dim", ">= 1", std::to_string(o.state_dim));
  if (o.hidden < 1) bad("hidden", ">= 1", std::to_string(o.hidden));
  if (o.batch_size < 1) bad("batch_size", ">= 1", std::to_string(o.batch_size));
  if (o.replay_capacity < 1) {
    bad("replay_capacity", ">= 1", std::to_string(o.replay_capacity));
  }
  if (o.warmup_episodes < 0) bad("warmup_episodes", ">= 0", std::to_string(o.warmup_episodes));
  if (!(std::isfinite(o.lr_actor) && o.lr_actor > 0)) {
    bad("lr_actor", "a finite value > 0", fmt::format("{}", o.lr_actor));
  }
  if (!(std::isfinite(o.lr_critic) && o.lr_critic > 0)) {
    bad("lr_critic", "a finite value > 0", fmt::format("{}", o.lr_critic));
  }
  if (!(o.tau >= 0 && o.tau <= 1)) bad("tau", "a value in [0, 1]", fmt::format("{}", o.tau));
  if (!(std::isfinite(o.discount) && o.discount >= 0)) {
    bad("discount", "a finite value >= 0", fmt::format("{}", o.discount));
  }
  if (!(std::isfinite(o.sigma_init) && o.sigma_init >= 0)) {
    bad("sigma_init", "a finite value >= 0", fmt::format("{}", o.sigma_init));
  }
  if (!(o.sigma_decay > 0 && o.sigma_decay <= 1)) {
    bad("sigma_decay", "a value in (0, 1]", fmt::format("{}", o.sigma_decay));
  }
  if (!(o.baseline_factor >= 0 && o.baseline_factor <= 1)) {
    bad("baseline_factor", "a value in [0, 1]", fmt::format("{}", o.baseline_factor));
  }
}

torch::Tensor StateTensor(const std::vector<float>& state) {
  return torch::from_blob(const_cast<float*>(state.data()),
                          {1, static_cast<int64_t>(state.size())}, torch::kFloat)
      .clone();
}

}  // namespace

struct Ddpg::Impl {
  explicit Impl(const DdpgOptions& o)
      : opt(o),
        rng(o.seed),
        actor(std::make_shared<Mlp>(o.state_dim, o.hidden, true, &rng)),
        critic(std::make_shared<Mlp>(o.state_dim + 1, o.hidden, false, &rng)),
        actor_target(std::make_shared<Mlp>(o.state_dim, o.hidden, true, nullptr)),
        critic_target(std::make_shared<Mlp>(o.state_dim + 1, o.hidden, false, nullptr)),
        actor_opt(std::make_unique<torch::optim::Adam>(
            actor->parameters(), torch::optim::AdamOptions(o.lr_actor))),
        critic_opt(std::make_unique<torch::optim::Adam>(
            critic->parameters(), torch::optim::AdamOptions(o.lr_critic))),
        states(static_cast<size_t>(o.replay_capacity * o.state_dim)),
        next_states(states.size()),
        actions(static_cast<size_t>(o.replay_capacity)),
        rewards(actions.size()),
        dones(actions.size()) {
    CopyParameters(*actor, *actor_target);
    CopyParameters(*critic, *critic_target);
  }

  void Store(const std::vector<float>& s, double a, double r, const std::vector<float>& s2,
             bool done) {
    const size_t d = static_cast<size_t>(opt.state_dim);
    const size_t slot = static_cast<size_t>(next_slot);
    std::copy(s.begin(), s.end(), states.begin() + static_cast<std::ptrdiff_t>(slot * d));
    std::copy(s2.begin(), s2.end(), next_states.begin() + static_cast<std::ptrdiff_t>(slot * d));
    actions[slot] = a;
    rewards[slot] = r;
    dones[slot] = done ? 1 : 0;
    next_slot = (next_slot + 1) % opt.replay_capacity;
    size = std::min(size + 1, opt.replay_capacity);
  }

  void Update() {
    const auto start = std::chrono::steady_clock::now();
    const int64_t b = opt.batch_size;
    const int64_t d = opt.state_dim;
    torch::Tensor s = torch::empty({b, d}, torch::kFloat);
    torch::Tensor s2 = torch::empty({b, d}, torch::kFloat);
    torch::Tensor a = torch::empty({b, 1}, torch::kFloat);
    torch::Tensor r = torch::empty({b, 1}, torch::kFloat);
    torch::Tensor not_done = torch::empty({b, 1}, torch::kFloat);
    std::vector<int64_t> slots(static_cast<size_t>(b));
    double reward_sum = 0.0;
    for (auto& slot : slots) {
      slot = UniformIndex(rng, size);
      reward_sum += rewards[static_cast<size_t>(slot)];
    }
    const double mean_reward = reward_sum / static_cast<double>(b);
    if (!baseline_initialized) {
      baseline = mean_reward;
      baseline_initialized = true;
    } else {
      baseline = opt.baseline_factor * baseline + (1.0 - opt.baseline_factor) * mean_reward;
    }
    float* ps = s.data_ptr<float>();
    float* ps2 = s2.data_ptr<float>();
    float* pa = a.data_ptr<float>();
    float* pr = r.data_ptr<float>();
    float* pnd = not_done.data_ptr<float>();
    for (int64_t i = 0; i < b; ++i) {
      const size_t slot = static_cast<size_t>(slots[static_cast<size_t>(i)]);
      std::copy_n(states.begin() + static_cast<std::ptrdiff_t>(slot * d), d, ps + i * d);
      std::copy_n(next_states.begin() + static_cast<std::ptrdiff_t>(slot * d), d, ps2 + i * d);
      pa[i] = static_cast<float>(actions[slot]);
      pr[i] = static_cast<float>(rewards[slot] - baseline);
      pnd[i] = dones[slot] ? 0.0f : 1.0f;
    }

    torch::Tensor target;
    {
      torch::NoGradGuard no_grad;
      torch::Tensor next_q =
          critic_target->forward(torch::cat({s2, actor_target->forward(s2)}, 1));
      target = r + opt.discount * not_done * next_q;
    }
    torch::Tensor q = critic->forward(torch::cat({s, a}, 1));
    torch::Tensor critic_loss = torch::mse_loss(q, target);
    critic_opt->zero_grad();
    critic_loss.backward();
    critic_opt->step();

    // The actor step needs no gradients of the critic's parameters.
    for (auto& p : critic->parameters()) p.set_requires_grad(false);
    torch::Tensor actor_loss = -critic->forward(torch::cat({s, actor->forward(s)}, 1)).mean();
    actor_opt->zero_grad();
    actor_loss.backward();
    actor_opt->step();
    for (auto& p : critic->parameters()) p.set_requires_grad(true);

    SoftUpdate(*actor, *actor_target, opt.tau);
    SoftUpdate(*critic, *critic_target, opt.tau);
    ++updates;
    update_seconds +=
        util::SecondsSince(start);
  }

  /// Slot of the i-th oldest transition.
  int64_t Slot(int64_t i) const {
    const int64_t oldest = size < opt.replay_capacity ? 0 : next_slot;
    return (oldest + i) % opt.replay_capacity;
  }

  DdpgOptions opt;
  std::mt19937_64 rng;
  std::shared_ptr<Mlp> actor, critic, actor_target, critic_target;
  std::unique_ptr<torch::optim::Adam> actor_opt, critic_opt;
  // Replay ring buffer: slot k holds states[k*d .. k*d+d-1] etc.
  std::vector<float> states, next_states;
  std::vector<double> actions, rewards;
  std::vector<uint8_t> dones;
  int64_t next_slot = 0;
  int64_t size = 0;
  int64_t episode = 0;
  double baseline = 0.0;
  bool baseline_initialized = false;
  int64_t updates = 0;
  double update_seconds = 0.0;
};

Ddpg::Ddpg(DdpgOptions options) {
  ValidateOptions(options);
  impl_ = std::make_unique<Impl>(options);
}

Ddpg::~Ddpg() = default;

std::string Ddpg::name() const { return "ddpg"; }

void Ddpg::BeginEpisode(int64_t episode) {
  if (episode < 0) {
    throw util::InputError(fmt::format("Ddpg::BeginEpisode: expected episode >= 0, got {}",
                                       episode));
  }
  impl_->episode = episode;
}

double Ddpg::Act(const std::vector<float>& state) {
  CheckState(state, impl_->opt.state_dim, "Ddpg::Act");
  if (impl_->episode < impl_->opt.warmup_episodes) return UniformUnit(impl_->rng);
  return SampleTruncatedNormal(ActorOutput(state), sigma(), impl_->rng);
}

void Ddpg::EndEpisode(const Episode& ep) {
  Impl& m = *impl_;
  if (ep.states.size() != ep.actions.size()) {
    throw util::InputError(fmt::format("Ddpg::EndEpisode: {} states but {} actions",
                                       ep.states.size(), ep.actions.size()));
  }
  if (!std::isfinite(ep.reward)) {
    throw util::InputError(
        fmt::format("Ddpg::EndEpisode: reward is not finite ({})", ep.reward));
  }
  for (size_t t = 0; t < ep.states.size(); ++t) {
    CheckState(ep.states[t], m.opt.state_dim, "Ddpg::EndEpisode");
    if (!(ep.actions[t] >= 0.0 && ep.actions[t] <= 1.0)) {
      throw util::InputError(fmt::format(
          "Ddpg::EndEpisode: action {} is {}, expected a value in [0, 1]", t, ep.actions[t]));
    }
  }
  const size_t steps = ep.states.size();
  for (size_t t = 0; t < steps; ++t) {
    const bool last = t + 1 == steps;
    m.Store(ep.states[t], ep.actions[t], ep.reward, last ? ep.states[t] : ep.states[t + 1],
            last);
  }
  // Warm-up is judged by the episode ended, which with --parallel K may precede the
  // latest one begun.
  const int64_t episode = ep.index >= 0 ? ep.index : m.episode;
  if (episode < m.opt.warmup_episodes || m.size < m.opt.batch_size) return;
  for (size_t t = 0; t < steps; ++t) m.Update();
}

namespace {

void WriteOptions(torch::serialize::OutputArchive& ar, const DdpgOptions& o) {
  ar.write("opt.state_dim", c10::IValue(static_cast<int64_t>(o.state_dim)));
  ar.write("opt.hidden", c10::IValue(static_cast<int64_t>(o.hidden)));
  ar.write("opt.lr_actor", c10::IValue(o.lr_actor));
  ar.write("opt.lr_critic", c10::IValue(o.lr_critic));
  ar.write("opt.tau", c10::IValue(o.tau));
  ar.write("opt.discount", c10::IValue(o.discount));
  ar.write("opt.batch_size", c10::IValue(static_cast<int64_t>(o.batch_size)));
  ar.write("opt.replay_capacity", c10::IValue(o.replay_capacity));
  ar.write("opt.warmup_episodes", c10::IValue(o.warmup_episodes));
  ar.write("opt.sigma_init", c10::IValue(o.sigma_init));
  ar.write("opt.sigma_decay", c10::IValue(o.sigma_decay));
  ar.write("opt.baseline_factor", c10::IValue(o.baseline_factor));
  ar.write("opt.seed", c10::IValue(static_cast<int64_t>(o.seed)));
}

c10::IValue ReadValue(torch::serialize::InputArchive& ar, const std::string& key,
                      const std::string& path) {
  c10::IValue v;
  if (!ar.try_read(key, v)) {
    throw util::InputError(fmt::format("{}: not a DDPG agent save (no '{}')", path, key));
  }
  return v;
}

int64_t ReadInt(torch::serialize::InputArchive& ar, const std::string& key,
                const std::string& path) {
  c10::IValue v = ReadValue(ar, key, path);
  if (!v.isInt()) {
    throw util::InputError(fmt::format("{}: '{}' is not an integer", path, key));
  }
  return v.toInt();
}

double ReadDouble(torch::serialize::InputArchive& ar, const std::string& key,
                  const std::string& path) {
  c10::IValue v = ReadValue(ar, key, path);
  if (!v.isDouble()) {
    throw util::InputError(fmt::format("{}: '{}' is not a number", path, key));
  }
  return v.toDouble();
}

std::string ReadString(torch::serialize::InputArchive& ar, const std::string& key,
                       const std::string& path) {
  c10::IValue v = ReadValue(ar, key, path);
  if (!v.isString()) {
    throw util::InputError(fmt::format("{}: '{}' is not a string", path, key));
  }
  return v.toStringRef();
}

void CheckOptions(torch::serialize::InputArchive& ar, const DdpgOptions& o,
                  const std::string& path) {
  auto check_int = [&](const char* name, int64_t mine) {
    const int64_t saved = ReadInt(ar, fmt::format("opt.{}", name), path);
    if (saved != mine) {
      throw util::InputError(
          fmt::format("{}: saved agent has {} = {}, this agent has {}", path, name, saved, mine));
    }
  };
  auto check_double = [&](const char* name, double mine) {
    const double saved = ReadDouble(ar, fmt::format("opt.{}", name), path);
    if (saved != mine) {
      throw util::InputError(
          fmt::format("{}: saved agent has {} = {}, this agent has {}", path, name, saved, mine));
    }
  };
  check_int("state_dim", o.state_dim);
  check_int("hidden", o.hidden);
  check_int("batch_size", o.batch_size);
  check_int("replay_capacity", o.replay_capacity);
  check_int("warmup_episodes", o.warmup_episodes);
  check_int("seed", static_cast<int64_t>(o.seed));
  check_double("lr_actor", o.lr_actor);
  check_double("lr_critic", o.lr_critic);
  check_double("tau", o.tau);
  check_double("discount", o.discount);
  check_double("sigma_init", o.sigma_init);
  check_double("sigma_decay", o.sigma_decay);
  check_double("baseline_factor", o.baseline_factor);
}

/// Reads tensor `key`, requiring its dtype and shape.
torch::Tensor ReadTensor(torch::serialize::InputArchive& ar, const std::string& key,
                         torch::ScalarType dtype, std::vector<int64_t> shape,
                         const std::string& path) {
  torch::Tensor t;
  if (!ar.try_read(key, t)) {
    throw util::InputError(fmt::format("{}: not a DDPG agent save (no '{}')", path, key));
  }
  if (t.scalar_type() != dtype || t.sizes() != torch::IntArrayRef(shape)) {
    throw util::InputError(fmt::format("{}: '{}' has the wrong type or shape", path, key));
  }
  return t.contiguous();
}

void LoadModule(torch::serialize::InputArchive& ar, const std::string& key, Mlp& module,
                const std::string& path) {
  torch::serialize::InputArchive sub;
  if (!ar.try_read(key, sub)) {
    throw util::InputError(fmt::format("{}: not a DDPG agent save (no '{}')", path, key));
  }
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& p : module.parameters()) shapes.push_back(p.sizes().vec());
  module.load(sub);
  auto params = module.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].sizes().vec() != shapes[i] || params[i].scalar_type() != torch::kFloat) {
      throw util::InputError(fmt::format("{}: '{}' has parameters of the wrong shape", path, key));
    }
  }
}

}  // namespace

void Ddpg::Save(const std::string& path) const {
  const Impl& m = *impl_;
  torch::serialize::OutputArchive ar;
  ar.write("kind", c10::IValue(std::string(kKind)));
  ar.write("format_version", c10::IValue(kFormatVersion));
  WriteOptions(ar, m.opt);
  auto write_module = [&](const char* key, const Mlp& module) {
    torch::serialize::OutputArchive sub;
    module.save(sub);
    ar.write(key, sub);
  };
  write_module("actor", *m.actor);
  write_module("critic", *m.critic);
  write_module("actor_target", *m.actor_target);
  write_module("critic_target", *m.critic_target);
  auto write_optimizer = [&](const char* key, const torch::optim::Adam& optimizer) {
    torch::serialize::OutputArchive sub;
    optimizer.save(sub);
    ar.write(key, sub);
  };
  write_optimizer("actor_opt", *m.actor_opt);
  write_optimizer("critic_opt", *m.critic_opt);
  const int64_t cap = m.opt.replay_capacity;
  const int64_t d = m.opt.state_dim;
  auto as_tensor = [](auto& v, std::vector<int64_t> shape, torch::ScalarType dtype) {
    return torch::from_blob(const_cast<void*>(static_cast<const void*>(v.data())), shape, dtype)
        .clone();
  };
  ar.write("replay.states", as_tensor(m.states, {cap, d}, torch::kFloat));
  ar.write("replay.next_states", as_tensor(m.next_states, {cap, d}, torch::kFloat));
  ar.write("replay.actions", as_tensor(m.actions, {cap}, torch::kDouble));
  ar.write("replay.rewards", as_tensor(m.rewards, {cap}, torch::kDouble));
  ar.write("replay.dones", as_tensor(m.dones, {cap}, torch::kUInt8));
  ar.write("replay.next_slot", c10::IValue(m.next_slot));
  ar.write("replay.size", c10::IValue(m.size));
  std::ostringstream rng_state;
  rng_state << m.rng;
  ar.write("rng", c10::IValue(rng_state.str()));
  ar.write("episode", c10::IValue(m.episode));
  ar.write("baseline", c10::IValue(m.baseline));
  ar.write("baseline_initialized", c10::IValue(static_cast<int64_t>(m.baseline_initialized)));
  ar.write("updates", c10::IValue(m.updates));
  ar.write("update_seconds", c10::IValue(m.update_seconds));
  // Atomic and fsynced like every other file of a run, so that state.json, written
  // after it, never names an agent save that is not whole on disk.
  util::WriteFileAtomic(path, [&](std::ostream& out) {
    try {
      ar.save_to(out);
    } catch (const c10::Error& e) {
      throw util::IoError(fmt::format("{}: cannot write the DDPG agent save: {}", path,
                                      e.what_without_backtrace()));
    }
  });
}

void Ddpg::Load(const std::string& path) {
  auto fresh = std::make_unique<Impl>(impl_->opt);
  Impl& m = *fresh;
  try {
    // The largest save these options can produce, with room to spare: networks,
    // targets and Adam moments (a few MB at 300 hidden), plus the replay buffer at
    // 8 bytes a value. A bigger file is not one of ours; don't read it whole.
    const auto hidden = static_cast<std::uintmax_t>(m.opt.hidden);
    const auto dim = static_cast<std::uintmax_t>(m.opt.state_dim);
    const std::uintmax_t params = (dim + 1) * hidden + (hidden + 1) * hidden + hidden + 1;
    const std::uintmax_t limit = (std::uintmax_t{64} << 20) + 2 * 4 * 8 * params +
                                 2 * 8 * static_cast<std::uintmax_t>(m.opt.replay_capacity) *
                                     (2 * dim + 4);
    std::istringstream bytes(util::ReadFile(path, limit));
    torch::serialize::InputArchive ar;
    try {
      ar.load_from(bytes);
    } catch (const std::exception& e) {
      throw util::InputError(
          fmt::format("{}: cannot read a DDPG agent save: {}", path, e.what()));
    }
    if (ReadString(ar, "kind", path) != kKind) {
      throw util::InputError(fmt::format("{}: not a DDPG agent save", path));
    }
    const int64_t version = ReadInt(ar, "format_version", path);
    if (version != kFormatVersion) {
      throw util::InputError(fmt::format("{}: DDPG save format version {}, expected {}", path,
                                         version, kFormatVersion));
    }
    CheckOptions(ar, m.opt, path);
    LoadModule(ar, "actor", *m.actor, path);
    LoadModule(ar, "critic", *m.critic, path);
    LoadModule(ar, "actor_target", *m.actor_target, path);
    LoadModule(ar, "critic_target", *m.critic_target, path);
    auto load_optimizer = [&](const char* key, torch::optim::Adam& optimizer) {
      torch::serialize::InputArchive sub;
      if (!ar.try_read(key, sub)) {
        throw util::InputError(fmt::format("{}: not a DDPG agent save (no '{}')", path, key));
      }
      optimizer.load(sub);
    };
    load_optimizer("actor_opt", *m.actor_opt);
    load_optimizer("critic_opt", *m.critic_opt);
    const int64_t cap = m.opt.replay_capacity;
    const int64_t d = m.opt.state_dim;
    auto read_into = [&](const char* key, auto& v, torch::ScalarType dtype,
                         std::vector<int64_t> shape) {
      torch::Tensor t = ReadTensor(ar, key, dtype, std::move(shape), path);
      std::memcpy(static_cast<void*>(v.data()), t.data_ptr(), t.nbytes());
    };
    read_into("replay.states", m.states, torch::kFloat, {cap, d});
    read_into("replay.next_states", m.next_states, torch::kFloat, {cap, d});
    read_into("replay.actions", m.actions, torch::kDouble, {cap});
    read_into("replay.rewards", m.rewards, torch::kDouble, {cap});
    read_into("replay.dones", m.dones, torch::kUInt8, {cap});
    m.next_slot = ReadInt(ar, "replay.next_slot", path);
    m.size = ReadInt(ar, "replay.size", path);
    if (m.size < 0 || m.size > cap || m.next_slot < 0 || m.next_slot >= cap ||
        (m.size < cap && m.next_slot != m.size)) {
      throw util::InputError(fmt::format("{}: inconsistent replay buffer counters", path));
    }
    std::istringstream rng_state(ReadString(ar, "rng", path));
    rng_state >> m.rng;
    if (rng_state.fail()) throw util::InputError(fmt::format("{}: bad RNG state", path));
    m.episode = ReadInt(ar, "episode", path);
    m.baseline = ReadDouble(ar, "baseline", path);
    m.baseline_initialized = ReadInt(ar, "baseline_initialized", path) != 0;
    m.updates = ReadInt(ar, "updates", path);
    m.update_seconds = ReadDouble(ar, "update_seconds", path);
  } catch (const util::InputError&) {
    throw;
  } catch (const util::IoError& e) {  // missing or unreadable: the run directory is damaged
    throw util::InputError(e.what());
  } catch (const std::exception& e) {
    throw util::InputError(fmt::format("{}: corrupt DDPG agent save: {}", path, e.what()));
  }
  impl_ = std::move(fresh);
}

const DdpgOptions& Ddpg::options() const { return impl_->opt; }

int64_t Ddpg::episode() const { return impl_->episode; }

double Ddpg::sigma() const {
  const int64_t k = std::max<int64_t>(0, impl_->episode - impl_->opt.warmup_episodes);
  return impl_->opt.sigma_init * std::pow(impl_->opt.sigma_decay, static_cast<double>(k));
}

int64_t Ddpg::replay_size() const { return impl_->size; }

Transition Ddpg::ReplayAt(int64_t i) const {
  const Impl& m = *impl_;
  if (i < 0 || i >= m.size) {
    throw util::InputError(
        fmt::format("Ddpg::ReplayAt: index {} outside [0, {})", i, m.size));
  }
  const size_t slot = static_cast<size_t>(m.Slot(i));
  const size_t d = static_cast<size_t>(m.opt.state_dim);
  Transition t;
  t.state.assign(m.states.begin() + static_cast<std::ptrdiff_t>(slot * d),
                 m.states.begin() + static_cast<std::ptrdiff_t>((slot + 1) * d));
  t.next_state.assign(m.next_states.begin() + static_cast<std::ptrdiff_t>(slot * d),
                      m.next_states.begin() + static_cast<std::ptrdiff_t>((slot + 1) * d));
  t.action = m.actions[slot];
  t.reward = m.rewards[slot];
  t.done = m.dones[slot] != 0;
  return t;
}

double Ddpg::ActorOutput(const std::vector<float>& state) const {
  CheckState(state, impl_->opt.state_dim, "Ddpg::ActorOutput");
  torch::NoGradGuard no_grad;
  return static_cast<double>(impl_->actor->forward(StateTensor(state)).item<float>());
}

double Ddpg::CriticOutput(const std::vector<float>& state, double action) const {
  CheckState(state, impl_->opt.state_dim, "Ddpg::CriticOutput");
  torch::NoGradGuard no_grad;
  torch::Tensor a = torch::full({1, 1}, static_cast<float>(action), torch::kFloat);
  return static_cast<double>(
      impl_->critic->forward(torch::cat({StateTensor(state), a}, 1)).item<float>());
}

double Ddpg::baseline() const { return impl_->baseline; }

int64_t Ddpg::update_count() const { return impl_->updates; }

double Ddpg::update_seconds() const { return impl_->update_seconds; }

}  // namespace haq::search
