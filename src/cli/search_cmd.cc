#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/quant_options.h"
#include "hw/cost_model.h"
#include "hw/cost_table.h"
#include "hw/layer_shape.h"
#include "hw/spec.h"
#include "search/baselines.h"
#include "search/ddpg.h"
#include "search/env.h"
#include "search/evaluator.h"
#include "search/restarts.h"
#include "search/search.h"
#include "train/model_io.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"
#include "util/progress.h"
#include "util/stats.h"

namespace haq::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct SearchCliOptions {
  std::string model = "mobilenet_v2_fmnist";
  std::string hw = "bismo-edge";
  std::string budget = "latency=0.6";
  std::string agent = "ddpg";
  std::string quantizer = "auto";
  int64_t episodes = 600;
  int64_t restarts = 1;
  int64_t warmup = 20;
  int b_min = 2;
  int b_max = 8;
  bool pin_first = true;
  bool pin_last = true;
  bool budget_state = false;
  double sigma_decay = 0.99;
  int64_t finetune_steps = 0;
  double finetune_lr = 1e-3;
  int64_t reward_images = 2000;
  int64_t tune_images = 20000;
  int64_t calib_batches = 4;
  int64_t final_steps = 600;
  double final_lr = 0.005;
  int64_t final_candidates = 1;
  int64_t final_seeds = 1;
  int64_t test_images = 0;  // the final comparison's test images; 0: the whole test set
  uint64_t seed = 0;
  std::string out;
  std::string resume;
  DataOptions data;
};

// Everything that determines the run's result (what a resume must share).
json Settings(const SearchCliOptions& o) {
  return {{"model", o.model},
          {"hardware", o.hw},
          {"budget", o.budget},
          {"agent", o.agent},
          {"quantizer", o.quantizer},
          {"episodes", o.episodes},
          {"restarts", o.restarts},
          {"warmup", o.warmup},
          {"b_min", o.b_min},
          {"b_max", o.b_max},
          {"pin_first", o.pin_first},
          {"pin_last", o.pin_last},
          {"budget_state", o.budget_state},
          {"sigma_decay", o.sigma_decay},
          {"finetune_steps", o.finetune_steps},
          {"finetune_lr", o.finetune_lr},
          {"reward_images", o.reward_images},
          {"tune_images", o.tune_images},
          {"calib_batches", o.calib_batches},
          {"final_finetune_steps", o.final_steps},
          {"final_finetune_lr", o.final_lr},
          {"final_candidates", o.final_candidates},
          {"final_seeds", o.final_seeds},
          {"test_images", o.test_images},
          {"seed", o.seed},
          {"dataset", o.data.dataset},
          {"data_dir", o.data.dir},
          {"validation", o.data.val},
          {"split_seed", o.data.split_seed}};
}

template <typename T>
void Take(const json& s, const char* key, T& out, const fs::path& path) {
  if (!s.contains(key)) {
    throw util::InputError(fmt::format("{}: missing setting '{}'", path.string(), key));
  }
  try {
    out = s.at(key).get<T>();
  } catch (const json::exception&) {
    throw util::InputError(fmt::format("{}: setting '{}': unexpected value {}", path.string(), key,
                                       s.at(key).dump()));
  }
}

// A restored number outside the range its flag accepts.
template <typename T>
void CheckRange(const fs::path& path, const char* key, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi)) {
    throw util::InputError(fmt::format("{}: setting '{}': expected {}..{}, got {}", path.string(),
                                       key, lo, hi, value));
  }
}

void CheckMember(const fs::path& path, const char* key, const std::string& value,
                 const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    throw util::InputError(fmt::format("{}: setting '{}': expected one of {}, got \"{}\"",
                                       path.string(), key, util::JoinNames(allowed), value));
  }
}

constexpr int64_t kMaxFinalSeeds = 100;
constexpr int64_t kMaxRestarts = 1000;

// Settings read back from a run directory get the checks their flags get.
void CheckRestored(const SearchCliOptions& o, const fs::path& path) {
  constexpr int64_t kHuge = int64_t{1} << 40;
  CheckMember(path, "agent", o.agent, {"ddpg", "random", "uniform"});
  CheckMember(path, "quantizer", o.quantizer, {"auto", "linear", "kmeans"});
  CheckMember(path, "dataset", o.data.dataset, {"fashion-mnist", "cifar10"});
  CheckRange<int64_t>(path, "episodes", o.episodes, 1, int64_t{1} << 30);
  CheckRange<int64_t>(path, "restarts", o.restarts, 1, kMaxRestarts);
  CheckRange<int64_t>(path, "warmup", o.warmup, 0, int64_t{1} << 30);
  CheckRange(path, "b_min", o.b_min, 1, 8);
  CheckRange(path, "b_max", o.b_max, 1, 8);
  CheckRange<int64_t>(path, "finetune_steps", o.finetune_steps, 0, int64_t{1} << 30);
  CheckRange<int64_t>(path, "final_finetune_steps", o.final_steps, 0, int64_t{1} << 30);
  CheckRange<int64_t>(path, "reward_images", o.reward_images, 1, kHuge);
  CheckRange<int64_t>(path, "tune_images", o.tune_images, 1, kHuge);
  CheckRange<int64_t>(path, "calib_batches", o.calib_batches, 1, 100000);
  CheckRange<int64_t>(path, "validation", o.data.val, 0, kHuge);
  CheckRange(path, "finetune_lr", o.finetune_lr, 1e-30, 1e30);
  CheckRange(path, "final_finetune_lr", o.final_lr, 1e-30, 1e30);
  CheckRange(path, "sigma_decay", o.sigma_decay, 1e-6, 1.0);
  CheckRange<int64_t>(path, "final_candidates", o.final_candidates, 1, 1000);
  CheckRange<int64_t>(path, "final_seeds", o.final_seeds, 1, kMaxFinalSeeds);
  CheckRange<int64_t>(path, "test_images", o.test_images, 0, kHuge);
}

// Settings newer than the first runs, at their defaults (the value every run had
// before them): an older run's settings.json lacks them and resumes with these.
json LaterSettings() {
  const json defaults = Settings(SearchCliOptions{});
  json later = json::object();
  for (const char* key :
       {"sigma_decay", "final_candidates", "final_seeds", "restarts", "test_images"}) {
    later[key] = defaults.at(key);
  }
  return later;
}

// The options a run directory was started with.
SearchCliOptions FromSettings(const json& s, const fs::path& path) {
  SearchCliOptions o;
  Take(s, "model", o.model, path);
  Take(s, "hardware", o.hw, path);
  Take(s, "budget", o.budget, path);
  Take(s, "agent", o.agent, path);
  Take(s, "quantizer", o.quantizer, path);
  Take(s, "episodes", o.episodes, path);
  Take(s, "warmup", o.warmup, path);
  Take(s, "b_min", o.b_min, path);
  Take(s, "b_max", o.b_max, path);
  Take(s, "pin_first", o.pin_first, path);
  Take(s, "pin_last", o.pin_last, path);
  Take(s, "budget_state", o.budget_state, path);
  if (s.contains("sigma_decay")) Take(s, "sigma_decay", o.sigma_decay, path);
  if (s.contains("final_candidates")) Take(s, "final_candidates", o.final_candidates, path);
  if (s.contains("final_seeds")) Take(s, "final_seeds", o.final_seeds, path);
  if (s.contains("restarts")) Take(s, "restarts", o.restarts, path);
  if (s.contains("test_images")) Take(s, "test_images", o.test_images, path);
  Take(s, "finetune_steps", o.finetune_steps, path);
  Take(s, "finetune_lr", o.finetune_lr, path);
  Take(s, "reward_images", o.reward_images, path);
  Take(s, "tune_images", o.tune_images, path);
  Take(s, "calib_batches", o.calib_batches, path);
  Take(s, "final_finetune_steps", o.final_steps, path);
  Take(s, "final_finetune_lr", o.final_lr, path);
  Take(s, "seed", o.seed, path);
  Take(s, "dataset", o.data.dataset, path);
  Take(s, "data_dir", o.data.dir, path);
  Take(s, "validation", o.data.val, path);
  Take(s, "split_seed", o.data.split_seed, path);
  CheckRestored(o, path);
  return o;
}

// A resume may add restarts and, while the run is in its first search, change the
// episodes per restart; the episodes done must keep the restart they were run in.
void CheckRestartLayout(const SearchCliOptions& was, const SearchCliOptions& now,
                        const fs::path& dir) {
  const fs::path state = dir / "state.json";
  const int64_t done = fs::exists(state) ? util::JsonField<int64_t>(util::ReadJsonFile(state),
                                                                    "episodes_done", state.string())
                                         : 0;
  if (now.restarts < was.restarts) {
    throw util::InputError(fmt::format(
        "--restarts {}: the run was given {} restarts; a resume may add restarts, not remove them",
        now.restarts, was.restarts));
  }
  if (now.restarts == 1) return;  // one search: --episodes may grow as ever
  // Before restarts the run was one search of `done` episodes (settings.json may hold
  // the episodes it started with, not the ones it was extended to).
  const int64_t first_search = was.restarts == 1 ? done : std::min(done, was.episodes);
  if (first_search > now.episodes) {
    throw util::InputError(fmt::format(
        "--resume: {}: the run's first search already has {} episodes, so restarts of {} cannot "
        "follow it; give --episodes {} or more",
        dir.string(), first_search, now.episodes, first_search));
  }
  if (was.restarts > 1 && done > was.episodes && now.episodes != was.episodes) {
    throw util::InputError(fmt::format(
        "--episodes {}: the run's restarts are {} episodes each and restart 2 has begun; drop "
        "--episodes or start a new run",
        now.episodes, was.episodes));
  }
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Final {
  std::string label;
  hw::Policy policy;
  double cost = 0.0;
  double test_before = 0.0;  // top-1 on the test set before the final fine-tune
  double test_after = 0.0;   // after it, the mean over seeds (or = before when not fine-tuned)
  std::vector<double> test_after_seeds = {};  // after it, per seed of --final-seeds (empty: not fine-tuned)
};

void RunSearchCommand(SearchCliOptions o, const CLI::App& app) {
  const auto t_start = std::chrono::steady_clock::now();
  const bool resume = !o.resume.empty();
  if (resume) {
    // Settings come from the run directory; flags given explicitly must agree.
    const fs::path path = fs::path(o.resume) / "settings.json";
    if (!fs::exists(path)) {
      throw util::InputError(fmt::format(
          "--resume: {}: not a search run directory (no settings.json)", o.resume));
    }
    const json saved = util::ReadJsonFile(path);
    SearchCliOptions restored = FromSettings(saved, path);
    const json given = Settings(o);
    const std::vector<std::pair<const char*, const char*>> flags = {
        {"--model", "model"}, {"--hw", "hardware"}, {"--budget", "budget"},
        {"--agent", "agent"}, {"--quantizer", "quantizer"}, {"--warmup", "warmup"},
        {"--b-min", "b_min"}, {"--b-max", "b_max"}, {"--budget-state", "budget_state"},
        {"--sigma-decay", "sigma_decay"},
        {"--finetune-steps", "finetune_steps"},
        {"--finetune-lr", "finetune_lr"}, {"--reward-images", "reward_images"},
        {"--tune-images", "tune_images"}, {"--calib-batches", "calib_batches"},
        {"--final-finetune-steps", "final_finetune_steps"},
        {"--final-finetune-lr", "final_finetune_lr"}, {"--seed", "seed"}};
    // --episodes may extend the run, and --final-candidates and --final-seeds act only
    // after the episodes; every other flag must agree with the run.
    const json later = LaterSettings();
    for (const auto& [flag, key] : flags) {
      const json was = saved.contains(key) ? saved.at(key) : later.value(key, json());
      if (app.count(flag) > 0 && given[key] != was) {
        throw util::InputError(fmt::format(
            "--resume: {}: the run was started with {} {}, this command gives {}; drop the flag "
            "or start a new run",
            path.string(), flag, was.dump(), given[key].dump()));
      }
    }
    if (app.count("--episodes") > 0) restored.episodes = o.episodes;
    if (app.count("--restarts") > 0) restored.restarts = o.restarts;
    CheckRestartLayout(FromSettings(saved, path), restored, fs::path(o.resume));
    if (app.count("--final-candidates") > 0) restored.final_candidates = o.final_candidates;
    if (app.count("--final-seeds") > 0) restored.final_seeds = o.final_seeds;
    if (app.count("--test-images") > 0) restored.test_images = o.test_images;
    restored.out = o.resume;
    restored.resume = o.resume;
    o = restored;
  } else if (o.out.empty()) {
    throw util::InputError("expected --out DIR (a new run) or --resume DIR (continue a run)");
  }
  if (o.b_min > o.b_max) {
    throw util::InputError(fmt::format("--b-min {} is above --b-max {}", o.b_min, o.b_max));
  }
  if (o.restarts > 1 && o.agent == "uniform") {
    throw util::InputError(fmt::format(
        "--restarts {}: the uniform agent has a single policy; expected --restarts 1", o.restarts));
  }
  const search::Budget budget = search::ParseBudget(o.budget);
  search::CheckRunDirectory(o.out, resume);  // before any long work
  if (o.warmup >= o.episodes && o.agent == "ddpg") {
    fmt::print(stderr, "note: --warmup {} >= --episodes {}: the agent never learns\n", o.warmup,
               o.episodes);
  }
  const bool kmeans = o.quantizer == "kmeans" ||
                      (o.quantizer == "auto" && budget.metric == search::Metric::kSize);
  const hw::HardwareSpec spec = hw::LoadHardware(o.hw);

  // Model and data.
  const data::Dataset train_set = LoadDataset(o.data, /*train=*/true);
  train::LoadedModel m = LoadModelForData(o.model, train_set);
  // Layer shapes at the hardware's batch, for the cost table and the environment.
  const auto layers = m.net.LayerShapes(spec.batch);
  hw::CheckLayerCount(layers, o.model);  // named as the user gave it
  const SplitData split = SplitTrainVal(train_set, o.data);
  if (o.reward_images > split.val.size()) {
    throw util::InputError(fmt::format(
        "--reward-images: expected at most the {} held-out training images (--val), got {}",
        split.val.size(), o.reward_images));
  }
  const data::Dataset reward =
      data::Subset(split.val, torch::arange(o.reward_images, torch::kLong));
  const data::Dataset tune = data::Subset(
      split.train, torch::arange(std::min(o.tune_images, split.train.size()), torch::kLong));
  // The final comparison's images, checked before any long work.
  const data::Dataset test_set = LoadDataset(o.data, /*train=*/false);
  if (o.test_images > test_set.size()) {
    throw util::InputError(fmt::format("--test-images: expected at most the {} test images, got {}",
                                       test_set.size(), o.test_images));
  }
  const data::Dataset test =
      o.test_images == 0 ? test_set
                         : data::Subset(test_set, torch::arange(o.test_images, torch::kLong));

  // Environment: costs at the hardware's batch, budget, wall.
  const auto cost_model = hw::MakeCostModel(spec);
  const hw::CostTable table = hw::BuildCostTable(*cost_model, layers, m.net.name(), 2);
  search::EnvOptions eo;
  eo.b_min = o.b_min;
  eo.b_max = o.b_max;
  eo.pin_first = o.pin_first;
  eo.pin_last = o.pin_last;
  eo.weights_only = kmeans;
  eo.budget_features = o.budget_state;
  const search::QuantEnv env(layers, table, budget, eo);

  // Policy evaluation.
  // Calibration (activation ranges from a sample of the tuning images) and the k-means
  // seed: once per run with the run's seed; again per extra seed of --final-seeds.
  auto make_context = [&](uint64_t seed) {
    quant::QuantOptions qo;
    qo.method = kmeans ? quant::WeightMethod::kKMeans : quant::WeightMethod::kLinear;
    qo.seed = seed;
    auto c = std::make_shared<quant::QuantContext>(m.net, qo);
    data::LoaderOptions lo;
    lo.batch_size = 256;
    lo.shuffle = true;
    lo.seed = seed;
    data::BatchLoader calib(tune, lo);
    c->CollectActivationStats(calib, o.calib_batches);
    return c;
  };
  const std::shared_ptr<quant::QuantContext> ctx = make_context(o.seed);
  search::ModelEvalOptions mo;
  mo.finetune.steps = o.finetune_steps;
  mo.finetune.lr = o.finetune_lr;
  mo.seed = o.seed;
  search::ModelEvaluator evaluator(m.net, ctx, reward, tune, mo);
  const double fp = evaluator.FullPrecisionAccuracy();

  // The strategy; restart r of --restarts gets the seed seed + r.
  const int uniform_bits = env.LargestUniformBitsWithinBudget();
  auto make_agent = [&](int64_t restart) -> std::unique_ptr<search::Agent> {
    const uint64_t seed = o.seed + static_cast<uint64_t>(restart);
    if (o.agent == "ddpg") {
      search::DdpgOptions d;
      d.warmup_episodes = o.warmup;
      d.sigma_decay = o.sigma_decay;
      d.replay_capacity = 128 * env.num_steps();
      d.state_dim = static_cast<int>(env.state_dim());
      d.seed = seed;
      return std::make_unique<search::Ddpg>(d);
    }
    if (o.agent == "random") return std::make_unique<search::RandomAgent>(seed);
    return std::make_unique<search::UniformAgent>(env.BitsToAction(uniform_bits));
  };
  // Every episode of the uniform agent would be the same policy.
  const int64_t episodes = o.agent == "uniform" ? 1 : o.episodes;
  std::unique_ptr<search::Agent> agent =
      o.restarts > 1 ? std::make_unique<search::RestartingAgent>(make_agent, episodes, stdout)
                     : make_agent(0);

  fmt::print("search: {} on {} ({}), budget {} = {:.4g} {} ({:.3f}x of uniform 8-bit {:.4g} {})\n",
             m.description, spec.name, kmeans ? "k-means weights" : "linear weights and activations",
             o.budget, env.InUnit(env.budget()), search::MetricUnit(budget.metric),
             env.budget() / env.uniform8_cost(), env.InUnit(env.uniform8_cost()),
             search::MetricUnit(budget.metric));
  fmt::print("agent {}, {}{} episodes ({} warm-up), {} steps each, bits {}..{}; reward set {} "
             "images (full precision {:.2f}%), fine-tune {} steps per episode\n",
             agent->name(),
             o.restarts > 1 ? fmt::format("{} restarts (seeds {}..{}) of ", o.restarts, o.seed,
                                          o.seed + static_cast<uint64_t>(o.restarts - 1))
                            : std::string(),
             episodes, o.agent == "ddpg" ? o.warmup : 0, env.num_steps(), o.b_min, o.b_max,
             reward.size(), fp, o.finetune_steps);
  fmt::print("machine: {}\n", search::MachineInfo::Current().Describe());
  std::fflush(stdout);

  search::SearchConfig cfg;
  cfg.episodes = episodes * o.restarts;
  cfg.fp_accuracy = fp;
  cfg.out_dir = o.out;
  cfg.resume = resume;
  cfg.settings = Settings(o);
  cfg.open_settings = {"episodes", "restarts", "final_candidates", "final_seeds", "test_images"};
  if (resume) {
    const json saved = util::ReadJsonFile(fs::path(o.out) / "settings.json");
    const json later = LaterSettings();
    for (const auto& [key, value] : later.items()) {
      if (!saved.contains(key) && cfg.settings[key] == value) cfg.settings.erase(key);
    }
  }
  cfg.run_files = {
      {"network.json", json{{"model", m.net.name()}, {"batch", spec.batch},
                            {"layers", hw::ShapesToJson(layers)}}.dump(2) + "\n"},
      {"hardware.yaml", hw::HardwareYaml(o.hw)}};
  cfg.progress = stdout;
  const search::SearchResult result = search::RunSearch(env, *agent, evaluator, cfg);
  if (result.resumed_from > 0) {
    fmt::print("(resumed after episode {})\n", result.resumed_from);
  }
  const search::EpisodeRecord& search_best = result.log.at(static_cast<size_t>(result.best));

  // With restarts: each search's best, by reward as in the run (the first of equals).
  json restart_rows = json::array();
  if (o.restarts > 1) {
    fmt::print("\nrestarts (the run's best is the best of these by reward):\n{:>8} {:>6} {:>13} "
               "{:>10} {:>17} {:>9}\n",
               "restart", "seed", "best episode", "reward", "reward-set top-1", "x 8-bit");
    const auto n = static_cast<int64_t>(result.log.size());
    for (int64_t r = 0; r * episodes < n; ++r) {
      int64_t best = r * episodes;
      for (int64_t e = best + 1; e < std::min(n, (r + 1) * episodes); ++e) {
        if (result.log[static_cast<size_t>(e)].reward > result.log[static_cast<size_t>(best)].reward) {
          best = e;
        }
      }
      const search::EpisodeRecord& b = result.log[static_cast<size_t>(best)];
      fmt::print("{:>8} {:>6} {:>13} {:>+10.4f} {:>16.2f}% {:>9.3f}{}\n", r + 1,
                 o.seed + static_cast<uint64_t>(r), best + 1, b.reward, b.accuracy, b.cost_ratio,
                 best == search_best.episode ? "  (best)" : "");
      restart_rows.push_back({{"restart", r},
                              {"seed", o.seed + static_cast<uint64_t>(r)},
                              {"best_episode", best},
                              {"best_reward", b.reward},
                              {"best_reward_accuracy", b.accuracy}});
    }
    std::fflush(stdout);  // before the final stage's long quiet stretch
  }

  // The final fine-tune, the same for every policy: batch 64, cosine, a seed for the
  // batch order (the run's, or one of --final-seeds) and a context calibrated with it.
  auto final_finetune = [&](const hw::Policy& policy, const std::string& label, uint64_t seed,
                            const std::shared_ptr<quant::QuantContext>& context) {
    data::LoaderOptions lo;
    lo.batch_size = 64;
    lo.shuffle = true;
    lo.seed = seed;
    data::BatchLoader tl(split.train, lo);
    train::FineTuneOptions fo;
    fo.steps = o.final_steps;
    fo.lr = o.final_lr;
    fo.cosine = true;
    fmt::print(stderr, "final fine-tune of {} (seed {})\n", label, seed);
    return train::ApplyPolicy(m.net, context, policy, &tl, fo, stderr);
  };
  data::LoaderOptions eval_lo;
  eval_lo.batch_size = 500;

  // The policy delivered: the best episode or, with --final-candidates K, whichever
  // of the K best distinct policies is best on the reward images after the final
  // fine-tune (the reward is a short fine-tune's proxy for it). The test set plays
  // no part in the choice.
  const std::vector<int64_t> candidates =
      search::TopDistinctEpisodes(result.log, o.final_candidates);
  size_t chosen = 0;
  train::QuantizedModel chosen_model;
  json candidate_rows = json::array();
  if (candidates.size() > 1 && o.final_steps > 0) {
    double chosen_accuracy = -1.0;
    for (size_t k = 0; k < candidates.size(); ++k) {
      const search::EpisodeRecord& e = result.log.at(static_cast<size_t>(candidates[k]));
      train::QuantizedModel q = final_finetune(
          e.policy,
          fmt::format("candidate {}/{} (episode {})", k + 1, candidates.size(), e.episode + 1),
          o.seed, ctx);
      data::BatchLoader reward_loader(reward, eval_lo);
      const double accuracy = train::Evaluate(*q.net, reward_loader, q.hook.get()).top1;
      candidate_rows.push_back({{"episode", e.episode},
                                {"reward_accuracy", e.accuracy},
                                {"reward_accuracy_finetuned", accuracy}});
      if (accuracy > chosen_accuracy) {  // ties keep the higher reward
        chosen_accuracy = accuracy;
        chosen = k;
        chosen_model = std::move(q);
      }
    }
  }
  const search::EpisodeRecord& best = result.log.at(static_cast<size_t>(candidates[chosen]));

  // Final comparison on the test set: uniform 8-bit, the uniform baseline at this
  // budget and the searched policy, the latter two after the same final fine-tune.
  // Costs and accuracies are filled in below.
  std::vector<Final> finals = {
      {"uniform 8-bit", env.Uniform(8)},
      {fmt::format("uniform {}-bit (largest within budget)", uniform_bits),
       env.EnforceBudget(env.Uniform(uniform_bits))},
      {candidate_rows.empty()
           ? fmt::format("searched (episode {})", best.episode + 1)
           : fmt::format("searched (episode {}, {} of {})", best.episode + 1, chosen + 1,
                         candidates.size()),
       best.policy}};
  // With --final-seeds K the two fine-tuned rows are fine-tuned K times, with the seeds
  // seed..seed+K-1; the first is the run's own and gives best_model.pt.
  const bool finetuned = o.final_steps > 0;
  std::vector<uint64_t> final_seeds;
  for (int64_t k = 0; k < (finetuned ? o.final_seeds : 0); ++k) {
    final_seeds.push_back(o.seed + static_cast<uint64_t>(k));
  }
  auto test_top1 = [&](const train::QuantizedModel& q) {
    data::BatchLoader test_loader(test, eval_lo);
    return train::Evaluate(*q.net, test_loader, q.hook.get()).top1;
  };
  train::QuantizedModel best_model;
  for (size_t i = 0; i < finals.size(); ++i) {
    Final& f = finals[i];
    f.cost = env.Cost(f.policy);
    f.test_before = test_top1(train::ApplyPolicy(m.net, ctx, f.policy, nullptr, {}));
    if (i > 0 && finetuned) {
      const bool searched = i + 1 == finals.size();
      train::QuantizedModel q = searched && chosen_model.hook
                                    ? std::move(chosen_model)
                                    : final_finetune(f.policy, f.label, o.seed, ctx);
      f.test_after_seeds.push_back(test_top1(q));
      if (searched) best_model = std::move(q);
    }
  }
  for (size_t k = 1; k < final_seeds.size(); ++k) {
    const auto context = make_context(final_seeds[k]);
    for (size_t i = 1; i < finals.size(); ++i) {
      finals[i].test_after_seeds.push_back(
          test_top1(final_finetune(finals[i].policy, finals[i].label, final_seeds[k], context)));
    }
  }
  for (Final& f : finals) {
    f.test_after = f.test_after_seeds.empty() ? f.test_before : util::Mean(f.test_after_seeds);
  }
  if (!best_model.hook) best_model = train::ApplyPolicy(m.net, ctx, best.policy, nullptr, {});

  if (!candidate_rows.empty()) {
    fmt::print("\nfinal candidates, reward-set top-1 after the search's fine-tune -> after the "
               "final fine-tune:\n");
    for (size_t k = 0; k < candidate_rows.size(); ++k) {
      const json& r = candidate_rows[k];
      fmt::print("{:>3}. episode {:<6} {:6.2f}% -> {:6.2f}%{}\n", k + 1,
                 r["episode"].get<int64_t>() + 1, r["reward_accuracy"].get<double>(),
                 r["reward_accuracy_finetuned"].get<double>(), k == chosen ? "  (chosen)" : "");
    }
  }

  // Per-layer table of the policy delivered.
  const hw::PolicyCost pc = hw::SumPolicy(table, best.policy);
  fmt::print("\n{} policy (episode {}, reward-set top-1 {:.2f}%):\n",
             candidate_rows.empty() ? "best" : "chosen", best.episode + 1, best.accuracy);
  fmt::print("{:>3}  {:<24} {:<9} {:>2} {:>2} {:>10} {:>11} {:<7}\n", "#", "layer", "kind", "w", "a",
             "ms", "energy_uJ", "bound");
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& b = best.policy.layers[i];
    const auto& c = pc.layers[i];
    fmt::print("{:>3}  {:<24} {:<9} {:>2} {:>2} {:>10.4f} {:>11} {:<7}\n", i, layers[i].name,
               hw::KindName(layers[i].kind), b.w_bits,
               b.a_bits == 0 ? std::string("-") : std::to_string(b.a_bits), c.seconds * 1e3,
               c.has_energy ? fmt::format("{:.2f}", c.EnergyPj() * 1e-6) : std::string("-"),
               hw::BoundName(c.bound));
  }
  const std::string unit = search::MetricUnit(budget.metric);
  fmt::print("\n{:<40} {:>12} {:>8} {:>12} {:>16}\n", "policy", unit, "x 8-bit", "test top-1",
             "after FT");
  json summary_rows = json::array();
  for (const Final& f : finals) {
    const std::string after = f.test_after_seeds.empty()
                                  ? fmt::format("{:.2f}", f.test_after)
                                  : util::MeanSpread(f.test_after_seeds);
    fmt::print("{:<40} {:>12.4f} {:>8.3f} {:>11.2f}% {:>15}%\n", f.label, env.InUnit(f.cost),
               f.cost / env.uniform8_cost(), f.test_before, after);
    json row = {{"label", f.label},
                {"policy", json::parse(hw::PolicyToJson(f.policy, o.model, o.hw))},
                {"cost", f.cost},
                {"cost_in_unit", env.InUnit(f.cost)},
                {"cost_ratio", f.cost / env.uniform8_cost()},
                {"test_top1", f.test_before},
                {"test_top1_finetuned", f.test_after}};
    if (!f.test_after_seeds.empty()) {
      row["test_top1_finetuned_seeds"] = f.test_after_seeds;
      row["test_top1_finetuned_std"] = util::PopulationStd(f.test_after_seeds);
    }
    summary_rows.push_back(std::move(row));
  }
  fmt::print("(final fine-tune: {} steps of batch 64, lr {} cosine; {}{})\n", o.final_steps,
             o.final_lr,
             o.test_images == 0
                 ? std::string("full precision test top-1 as in the checkpoint")
                 : fmt::format("test top-1 on the first {} of the {} test images", test.size(),
                               test_set.size()),
             final_seeds.size() > 1
                 ? fmt::format("; after FT: mean ± population std over {} seeds", final_seeds.size())
                 : "");
  // Searched minus the uniform baseline, seed by seed: both had the same batch order
  // and calibration, so the pairs share that noise.
  json paired = nullptr;
  if (finetuned) {
    const std::vector<double> d =
        util::Differences(finals[2].test_after_seeds, finals[1].test_after_seeds);
    fmt::print("searched - uniform {}-bit after the final fine-tune: {} points{}\n", uniform_bits,
               util::MeanSpread(d),
               d.size() > 1 ? fmt::format(" ({} seeds, paired)", d.size()) : "");
    paired = {{"per_seed", d}, {"mean", util::Mean(d)}, {"std", util::PopulationStd(d)}};
  }

  const fs::path dir = o.out;
  train::Checkpoint c = train::QuantizedCheckpoint(best_model, m.checkpoint ? m.checkpoint->model : o.model);
  c.meta["normalization"] = {{"mean", m.net.input_spec().mean}, {"std", m.net.input_spec().std}};
  c.meta["search"] = {{"run", dir.string()}, {"episode", best.episode}};
  train::SaveCheckpoint(c, dir / "best_model.pt");
  double seconds = 0.0;
  for (const auto& r : result.log) seconds += r.seconds;
  const json summary = {{"metric", search::MetricName(budget.metric)},
                        {"unit", unit},
                        {"budget", env.budget()},
                        {"budget_in_unit", env.InUnit(env.budget())},
                        {"uniform8_cost", env.uniform8_cost()},
                        {"full_precision_reward_accuracy", fp},
                        {"episodes", result.log.size()},
                        {"best_episode", search_best.episode},
                        {"best_reward", search_best.reward},
                        {"best_reward_accuracy", search_best.accuracy},
                        {"restarts", restart_rows},
                        {"final_episode", best.episode},
                        {"final_candidates", candidate_rows},
                        {"final_seeds", final_seeds},
                        {"test_images", test.size()},
                        {"searched_minus_uniform", paired},
                        {"search_seconds", seconds},
                        {"rows", summary_rows}};
  // The delivered policy, the one in best_model.pt. best_policy.json stays the
  // search's best by reward, as the episodes wrote it; the two differ only when
  // --final-candidates chose another.
  util::WriteFileAtomic(dir / "final_policy.json", hw::PolicyToJson(best.policy, o.model, o.hw));
  util::WriteFileAtomic(dir / "summary.json", summary.dump(2) + "\n");
  fmt::print("wrote {}/final_policy.json, best_model.pt, summary.json, best_policy.json, log.jsonl "
             "({:.1f} min in all)\n",
             dir.string(), Seconds(t_start) / 60.0);
}

}  // namespace

Action RegisterSearch(CLI::App& app) {
  auto o = std::make_shared<SearchCliOptions>();
  app.add_option("--model", o->model, "Zoo name (shipped weights), checkpoint .pt or .onnx file");
  app.add_option("--hw", o->hw, "Hardware: a built-in name (haq list hw) or a spec .yaml file");
  app.add_option("--budget", o->budget,
                 "METRIC=AMOUNT: latency=0.6 (fraction of uniform 8-bit), latency=2.5ms, "
                 "energy=0.5, energy=3mJ, size=0.25, size=0.1MB");
  app.add_option("--agent", o->agent, "ddpg (HAQ), random search, or uniform (largest width that fits)")
      ->check(CLI::IsMember({"ddpg", "random", "uniform"}));
  app.add_option("--quantizer", o->quantizer,
                 "auto (k-means for size budgets, else linear), linear or kmeans")
      ->check(CLI::IsMember({"auto", "linear", "kmeans"}));
  app.add_option("--episodes", o->episodes, "Episodes (HAQ: 600); with --resume, may extend a run")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  app.add_option("--restarts", o->restarts,
                 "Run K independent searches of --episodes each (seeds seed..seed+K-1, the same "
                 "calibration and reward set) and keep the best policy by reward; with --resume, "
                 "may grow")
      ->check(CLI::Range(int64_t{1}, kMaxRestarts));
  app.add_option("--warmup", o->warmup, "DDPG warm-up episodes of random actions (HAQ: 20)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  app.add_option("--b-min", o->b_min, "Smallest bit width the agent may pick")->check(CLI::Range(1, 8));
  app.add_option("--b-max", o->b_max, "Largest bit width the agent may pick")->check(CLI::Range(1, 8));
  app.add_flag("!--no-pin-first", o->pin_first,
               "Let the agent choose the first layer too (default: 8-bit weights, input unquantized)");
  app.add_flag("!--no-pin-last", o->pin_last, "Let the agent choose the last layer too (default: 8/8)");
  app.add_flag("--budget-state", o->budget_state,
               "Beyond HAQ: two more state features showing how much budget the choices so far "
               "commit");
  app.add_option("--sigma-decay", o->sigma_decay,
                 "DDPG exploration: sigma = 0.5 x DECAY^(episode - warmup) (HAQ: 0.99)")
      ->check(CLI::Range(1e-6, 1.0));
  app.add_option("--finetune-steps", o->finetune_steps,
                 "Fine-tune steps (batch 64) per episode before measuring the reward (0: none)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  app.add_option("--finetune-lr", o->finetune_lr, "Per-episode fine-tune learning rate (SGD, momentum 0.9)")
      ->check(CLI::PositiveNumber);
  app.add_option("--reward-images", o->reward_images,
                 "Held-out training images the reward is measured on")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--tune-images", o->tune_images,
                 "Training images for calibration and per-episode fine-tuning")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--calib-batches", o->calib_batches, "Calibration batches of 256 (once per run)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  app.add_option("--final-finetune-steps", o->final_steps,
                 "Fine-tune steps (batch 64) of the best policy and the uniform baseline at the end")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  app.add_option("--final-candidates", o->final_candidates,
                 "Fine-tune the K best distinct policies of the search (by reward) with the final "
                 "fine-tune and keep the one best on the reward images afterwards (1: the best "
                 "episode); with --resume, may change")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  app.add_option("--final-finetune-lr", o->final_lr, "Peak learning rate of the final fine-tune (cosine)")
      ->check(CLI::PositiveNumber);
  app.add_option("--final-seeds", o->final_seeds,
                 "Repeat the final fine-tune of the uniform baseline and the delivered policy with "
                 "K seeds (batch order and calibration sample) and report mean ± spread and the "
                 "paired difference; with --resume, may change")
      ->check(CLI::Range(int64_t{1}, kMaxFinalSeeds));
  app.add_option("--test-images", o->test_images,
                 "Measure the final comparison on the first N test images (0: the whole test "
                 "set); with --resume, may change")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--seed", o->seed, "Seed of the agent, calibration sampling and fine-tuning order");
  AddDataOptions(app, o->data);
  auto* out = app.add_option("--out", o->out, "New run directory (must not exist or be empty)");
  app.add_option("--resume", o->resume, "Continue the run in this directory with its settings")
      ->excludes(out);
  app.footer(
      "Examples:\n"
      "  haq search --model mobilenet_v2_fmnist --hw bismo-edge --budget latency=0.6 --out runs/edge\n"
      "  haq search --resume runs/edge\n"
      "  haq search --budget latency=3bit --budget-state --restarts 3 --episodes 150 --out runs/r3\n"
      "  haq search --hw bitfusion --budget energy=0.5 --agent random --episodes 100 --out runs/rnd\n"
      "  haq search --budget size=0.25 --out runs/size   # k-means, weights only");
  CLI::App* self = &app;
  return [o, self] { RunSearchCommand(*o, *self); };
}

}  // namespace haq::cli
