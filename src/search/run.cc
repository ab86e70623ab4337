#include "search/run.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <thread>

#include "hw/cost_model.h"
#include "search/baselines.h"
#include "search/ddpg.h"
#include "search/final_stage.h"
#include "search/greedy.h"
#include "search/ilp.h"
#include "quant/hessian.h"
#include "search/machine.h"
#include "search/restarts.h"
#include "search/workers.h"
#include "search/run_impl.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::search {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

/// "0.5,0.25" as numbers; `flag` names the setting in errors.
std::vector<double> Numbers(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    double v = 0;
    const auto [end, err] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || err != std::errc() || end != item.data() + item.size()) {
      throw util::InputError(fmt::format("{}: expected comma-separated numbers, got '{}' in '{}'", flag, item, text));
    }
    out.push_back(v);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

data::DataOptions DataOf(const RunSettings& s, std::FILE* progress) {
  data::DataOptions d;
  d.dataset = s.dataset;
  d.dir = s.data_dir;
  d.val = s.validation;
  d.subset = s.subset;
  d.split_seed = s.split_seed;
  d.classes = s.classes;
  d.cache = s.image_cache;
  d.mean = Numbers(s.mean, "--mean");
  d.std = Numbers(s.std, "--std");
  d.progress = progress;
  return d;
}

data::Dataset First(const data::Dataset& d, int64_t n) {
  return data::Subset(d, torch::arange(n, torch::kLong));
}

}  // namespace

int64_t ThreadsPerWorker(const RunSettings& s) {
  if (s.threads_per_worker > 0) return s.threads_per_worker;
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  return std::max<int64_t>(1, cores / std::max<int64_t>(1, s.workers));
}

std::unique_ptr<Agent> MakeAgent(const RunSettings& s, const QuantEnv& env, int64_t restart) {
  const uint64_t seed = s.seed + static_cast<uint64_t>(restart);
  if (s.agent == "ddpg") {
    DdpgOptions d;
    d.warmup_episodes = s.warmup;
    d.sigma_decay = s.sigma_decay;
    d.replay_capacity = kReplayEpisodes * env.num_steps();
    d.state_dim = static_cast<int>(env.state_dim());
    d.seed = seed;
    return std::make_unique<Ddpg>(d);
  }
  if (s.agent == "random") return std::make_unique<RandomAgent>(seed);
  return std::make_unique<UniformAgent>(env.BitsToAction(env.LargestUniformBitsWithinBudget()));
}

std::shared_ptr<quant::QuantContext> RunWiring::Impl::MakeContext(uint64_t seed) const {
  quant::QuantOptions qo;
  qo.method = settings.kmeans() ? quant::WeightMethod::kKMeans : quant::WeightMethod::kLinear;
  qo.seed = seed;
  auto c = std::make_shared<quant::QuantContext>(model.net, qo);
  data::BatchLoader calib = data::MakeLoader(tune, kCalibrationBatch, /*shuffle=*/true, seed);
  c->CollectActivationStats(calib, settings.calib_batches);
  return c;
}

RunWiring::RunWiring(const RunSettings& s, std::FILE* progress) : impl_(std::make_unique<Impl>()) {
  Impl& w = *impl_;
  s.Validate();
  w.settings = s;
  const std::vector<Budget> budgets = ParseBudgets(s.budget);
  w.spec = hw::LoadHardware(s.hardware);
  // Other accelerators' specs, read before any long work.
  std::vector<hw::HardwareSpec> budget_specs;
  for (const Budget& b : budgets) {
    budget_specs.push_back(b.hardware.empty() ? w.spec : hw::LoadHardware(b.hardware));
  }

  // Model and data; every count checked before any long work.
  const data::DataOptions data_options = DataOf(s, progress);
  train::ModelWithData loaded = train::LoadModelWithData(s.model, data_options, /*train=*/true);
  w.model = std::move(loaded.model);
  const data::Dataset train_set = std::move(loaded.data);
  const data::ModelInput input = train::InputOf(w.model.net);
  w.layers = w.model.net.LayerShapes(w.spec.batch);  // at the hardware's batch
  hw::CheckLayerCount(w.layers, s.model);           // named as the user gave it
  w.split = data::SplitTrainVal(train_set, data_options);
  if (s.reward_images > w.split.val.size()) {
    throw util::InputError(fmt::format(
        "--reward-images: expected at most the {} held-out training images (--val), got {}",
        w.split.val.size(), s.reward_images));
  }
  w.reward = First(w.split.val, s.reward_images);
  w.tune = First(w.split.train, std::min(s.tune_images, w.split.train.size()));
  w.test_set = data::LoadDataset(data_options, /*train=*/false, &input);
  if (s.test_images > w.test_set.size()) {
    throw util::InputError(fmt::format("--test-images: expected at most the {} test images, got {}",
                                       w.test_set.size(), s.test_images));
  }
  w.test = s.test_images == 0 ? w.test_set : First(w.test_set, s.test_images);

  // Environment: costs at the hardware's batch, budget, wall.
  const auto cost_model = hw::MakeCostModel(w.spec);
  w.table = hw::BuildCostTable(*cost_model, w.layers, w.model.net.name(), kCostTableThreads);
  EnvOptions eo;
  eo.b_min = s.b_min;
  eo.b_max = s.b_max;
  eo.pin_first = s.pin_first;
  eo.pin_last = s.pin_last;
  eo.weights_only = s.kmeans();
  eo.budget_features = s.budget_state;
  w.env = std::make_unique<QuantEnv>(w.layers, w.table, budgets.front(), eo);
  for (size_t i = 1; i < budgets.size(); ++i) {
    if (budgets[i].hardware.empty()) {
      w.more_envs.push_back(std::make_unique<QuantEnv>(w.layers, w.table, budgets[i], eo));
      continue;
    }
    // The same layers at that accelerator's batch, costed by its model.
    const hw::HardwareSpec& spec = budget_specs[i];
    std::vector<hw::LayerShape> layers = w.model.net.LayerShapes(spec.batch);
    const hw::CostTable table = hw::BuildCostTable(*hw::MakeCostModel(spec), layers,
                                                   w.model.net.name(), kCostTableThreads);
    w.more_envs.push_back(std::make_unique<QuantEnv>(std::move(layers), table, budgets[i], eo));
  }

  // Calibration and the k-means seed: once per run with the run's seed.
  w.context = w.MakeContext(s.seed);
  ModelEvalOptions mo;
  mo.finetune.steps = s.finetune_steps;
  mo.finetune.lr = s.finetune_lr;
  mo.finetune_batch = kFinetuneBatch;
  mo.finetune_augment = data::FineTuneAugment(s.finetune_augment);
  mo.eval_batch = EvalBatch(w.reward.height(), w.reward.width());
  mo.seed = s.seed;
  w.evaluator = std::make_unique<ModelEvaluator>(w.model.net, w.context, w.reward, w.tune, mo);
}

RunWiring::~RunWiring() = default;

const RunSettings& RunWiring::settings() const { return impl_->settings; }
const hw::HardwareSpec& RunWiring::spec() const { return impl_->spec; }
const std::vector<hw::LayerShape>& RunWiring::layers() const { return impl_->layers; }
const hw::CostTable& RunWiring::table() const { return impl_->table; }
const QuantEnv& RunWiring::env() const { return *impl_->env; }

std::vector<const QuantEnv*> RunWiring::envs() const {
  std::vector<const QuantEnv*> out = {impl_->env.get()};
  for (const auto& e : impl_->more_envs) out.push_back(e.get());
  return out;
}

int RunWiring::UniformBitsWithinBudgets() const {
  int bits = impl_->env->options().b_max;
  for (const QuantEnv* e : envs()) bits = std::min(bits, e->LargestUniformBitsWithinBudget());
  return bits;
}
const std::string& RunWiring::model_description() const { return impl_->model.description; }
std::string RunWiring::network_name() const { return impl_->model.net.name(); }
int64_t RunWiring::reward_images() const { return impl_->reward.size(); }

double RunWiring::FullPrecisionAccuracy() {
  if (!impl_->fp_accuracy) impl_->fp_accuracy = impl_->evaluator->FullPrecisionAccuracy();
  return *impl_->fp_accuracy;
}

std::string RunWiring::Digest() const {
  const Impl& w = *impl_;
  util::Sha256 h;
  auto tensor = [&h](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.contiguous();
    h.Update(fmt::format("{} {} {}\n", name, c10::toString(c.scalar_type()), fmt::join(c.sizes(), "x")));
    h.Update(c.data_ptr(), c.nbytes());
  };
  h.Update(fmt::format("haq {}\n", HAQ_VERSION));
  for (const auto& [name, t] : w.model.net.StateDict()) tensor(name, t);
  // The sets' images in chunks, so that a large image set is never copied whole.
  for (const data::Dataset* d : {&w.reward, &w.tune}) {
    constexpr int64_t kChunk = 256;
    for (int64_t i = 0; i < d->size(); i += kChunk) {
      const int64_t n = std::min(kChunk, d->size() - i);
      tensor("images", d->rows.defined() ? d->images.index_select(0, d->rows.slice(0, i, i + n))
                                         : d->images.slice(0, i, i + n));
    }
    tensor("labels", d->labels);
  }
  return h.Hex();
}

void RunWiring::UseBatchEvaluator(BatchEvaluator evaluate) { impl_->batch = std::move(evaluate); }

PolicyEvaluator RunWiring::Evaluator() {
  ModelEvaluator* e = impl_->evaluator.get();
  return [e](const hw::Policy& p) { return (*e)(p); };
}

std::unique_ptr<Agent> RunWiring::MakeRunAgent(std::FILE* progress) const {
  const RunSettings& s = impl_->settings;
  const QuantEnv& env = *impl_->env;
  if (s.restarts == 1) return MakeAgent(s, env, 0);
  return std::make_unique<RestartingAgent>(
      [s, &env](int64_t restart) { return MakeAgent(s, env, restart); }, s.episodes_per_restart(),
      progress);
}

std::vector<std::pair<std::string, std::string>> RunWiring::RunFiles() const {
  return {{"network.json", json{{"model", network_name()},
                                {"batch", impl_->spec.batch},
                                {"layers", hw::ShapesToJson(impl_->layers)}}
                                   .dump(2) +
                               "\n"},
          {"hardware.yaml", hw::HardwareYaml(impl_->settings.hardware)}};
}

json RunWiring::SensitivityKey() const {
  const RunSettings& s = impl_->settings;
  return {{"model", s.model},
          {"network", network_name()},
          {"dataset", s.dataset},
          {"data_dir", s.data_dir},
          {"validation", s.validation},
          {"subset", s.subset},
          {"split_seed", s.split_seed},
          {"tune_images", s.tune_images},
          {"calib_batches", s.calib_batches},
          {"quantizer", s.kmeans() ? "kmeans" : "linear"},
          {"seed", s.seed},
          {"curvature", s.curvature},
          {"hessian_images", s.hessian_images},
          {"hessian_probes", s.hessian_probes},
          {"hessian_tol", s.hessian_tol}};
}

quant::SensitivityTable RunWiring::Sensitivity(const fs::path& cache, std::FILE* progress) {
  std::vector<std::string> names;
  for (const hw::LayerShape& l : impl_->layers) names.push_back(l.name);
  if (!cache.empty() && fs::exists(cache)) return quant::ReadSensitivity(cache, SensitivityKey(), names);
  const RunSettings& s = impl_->settings;
  if (s.hessian_images > impl_->tune.size()) {
    throw util::InputError(fmt::format("--hessian-images: expected at most the {} tune images, got {}",
                                       impl_->tune.size(), s.hessian_images));
  }
  quant::SensitivityOptions o;
  o.hutchinson.curvature = quant::ParseCurvature(s.curvature, "--curvature");
  o.hutchinson.tolerance = s.hessian_tol;
  o.hutchinson.max_probes = s.hessian_probes;
  o.hutchinson.seed = s.seed;
  o.batch = kFinetuneBatch;
  return quant::ComputeSensitivity(*impl_->context, First(impl_->tune, s.hessian_images), o,
                                   SensitivityKey(), progress);
}

namespace {

// The plan's costs against each budget (which ones bind), then its actions.
std::vector<std::vector<double>> PlanActions(const std::vector<PlannedPolicy>& plan,
                                             const std::vector<const QuantEnv*>& envs,
                                             const std::string& name, std::FILE* progress) {
  for (size_t i = 0; i < envs.size() && envs.size() > 1; ++i) {
    const QuantEnv& e = *envs[i];
    fmt::print(progress, "{}: budget {}: {:.4g} {} of {:.4g} ({:.3f}x of uniform 8-bit)\n", name,
               e.budget_spec().text, e.InUnit(plan.front().costs[i]),
               MetricUnit(e.budget_spec().metric), e.InUnit(e.budget()),
               plan.front().costs[i] / e.uniform8_cost());
  }
  std::vector<std::vector<double>> actions;
  for (const PlannedPolicy& p : plan) {
    std::vector<double> a;
    for (int bits : envs.front()->StepBits(p.policy)) a.push_back(envs.front()->BitsToAction(bits));
    actions.push_back(std::move(a));
  }
  return actions;
}

}  // namespace

std::unique_ptr<Agent> RunWiring::MakePlannedAgent(std::FILE* progress, std::FILE* notes) {
  const RunSettings& s = impl_->settings;
  if (s.agent == "ilp" || s.agent == "greedy") {
    // Budgets no policy meets (alone or together) are refused before the long
    // preparation: a program with every value 0 is feasible exactly when they can be.
    SolveChoices(BudgetProblem(envs(), [](size_t, const hw::LayerBits&) { return 0.0; },
                               s.ilp_time_limit)
                     .problem);
  }
  if (s.agent == "ilp") {
    return std::make_unique<PlannedAgent>("ilp", [this, &s, progress, notes](const fs::path& dir) {
      // A resumed run reads the table it computed; a new one computes and keeps it.
      const fs::path cache = dir / quant::kSensitivityFile;
      const bool cached = fs::exists(cache);
      const quant::SensitivityTable table = Sensitivity(cache, notes);
      if (!cached) quant::WriteSensitivity(cache, table);
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<PlannedPolicy> plan =
          PlanIlp(table, envs(), static_cast<int>(std::min<int64_t>(s.episodes, 1 << 20)),
                  s.ilp_time_limit);
      fmt::print(progress,
                 "ilp: sensitivity from {} Hutchinson probes{}; {} candidate policies in {:.3f} s "
                 "(objective {:.4g} .. {:.4g})\n",
                 table.probes, table.converged ? "" : " (cap reached before the tolerance)",
                 plan.size(), util::SecondsSince(t0), plan.front().value, plan.back().value);
      return PlanActions(plan, envs(), "ilp", progress);
    });
  }
  if (s.agent == "greedy") {
    return std::make_unique<PlannedAgent>("greedy", [this, progress](const fs::path& dir) {
      const Impl& w = *impl_;
      const std::vector<Probe> probes =
          w.batch ? MeasureProbes(env(), w.batch, w.settings.parallel, dir / kProbesFile, progress)
                  : MeasureProbes(env(), Evaluator(), dir / kProbesFile, progress);
      const auto t0 = std::chrono::steady_clock::now();
      const PlannedPolicy p = PlanGreedy(probes, envs());
      double seconds = 0.0;
      for (const Probe& q : probes) seconds += q.seconds;
      fmt::print(progress,
                 "greedy: {} probes ({} of evaluation); policy in {:.3f} s, summed accuracy drop "
                 "{:.3f} points\n",
                 probes.size(), util::FormatDuration(seconds), util::SecondsSince(t0), p.value);
      return PlanActions({p}, envs(), "greedy", progress);
    });
  }
  return MakeRunAgent(progress);
}

quant::SensitivityTable ComputeRunSensitivity(const RunSettings& settings, std::FILE* progress) {
  RunWiring w(settings);
  return w.Sensitivity({}, progress);
}

RunSettings ReadRunSettings(const fs::path& dir) {
  const fs::path path = dir / "settings.json";
  if (!fs::exists(path)) {
    throw util::InputError(fmt::format(
        "--resume: {}: not a search run directory (no settings.json)", dir.string()));
  }
  return RunSettings::FromJson(util::ReadJsonFile(path), path.string());
}

RunSettings SettingsForResume(const fs::path& dir, const RunSettings& given,
                              const std::set<std::string>& given_keys) {
  const RunSettings saved = ReadRunSettings(dir);
  const fs::path path = dir / "settings.json";
  const fs::path state = dir / "state.json";
  const int64_t done =
      fs::exists(state)
          ? util::JsonField<int64_t>(util::ReadJsonFile(state), "episodes_done", state.string())
          : 0;
  return ResumeSettings(saved, util::ReadJsonFile(path), given, given_keys, done, path);
}

RunOutcome RunJob(const RunSettings& s, const fs::path& dir, bool resume,
                  const RunStreams& streams) {
  s.Validate();
  CheckRunDirectory(dir, resume);  // before any long work
  const json saved_json = resume ? util::ReadJsonFile(dir / "settings.json") : json();
  if (resume && !saved_json.contains("subset") && s.subset == 0) {
    fmt::print(streams.notes,
               "note: {}: written before haq recorded --subset; resuming with the whole training "
               "split (if the run was started with --subset N, resume with --subset N)\n",
               (dir / "settings.json").string());
  }
  if (s.warmup >= s.episodes && s.agent == "ddpg") {
    fmt::print(streams.notes, "note: --warmup {} >= --episodes {}: the agent never learns\n",
               s.warmup, s.episodes);
  }
  RunWiring w(s, streams.notes);
  const QuantEnv& env = w.env();
  const double fp = w.FullPrecisionAccuracy();
  const std::unique_ptr<Agent> agent = w.MakePlannedAgent(streams.progress, streams.notes);

  const std::string unit = MetricUnit(env.budget_spec().metric);
  fmt::print(streams.progress,
             "search: {} on {} ({}), budget {} = {:.4g} {} ({:.3f}x of uniform 8-bit {:.4g} {})\n",
             w.model_description(), w.spec().name,
             s.kmeans() ? "k-means weights" : "linear weights and activations",
             env.budget_spec().text, env.InUnit(env.budget()), unit,
             env.budget() / env.uniform8_cost(), env.InUnit(env.uniform8_cost()), unit);
  for (const QuantEnv* e : w.envs()) {
    if (e == &env) continue;
    const std::string u = MetricUnit(e->budget_spec().metric);
    fmt::print(streams.progress, "and budget {} = {:.4g} {} ({:.3f}x of uniform 8-bit {:.4g} {})\n",
               e->budget_spec().text, e->InUnit(e->budget()), u, e->budget() / e->uniform8_cost(),
               e->InUnit(e->uniform8_cost()), u);
  }
  fmt::print(streams.progress,
             "agent {}, {}{} episodes ({} warm-up), {} steps each, bits {}..{}; reward set {} "
             "images (full precision {:.2f}%), fine-tune {} steps per episode\n",
             agent->name(),
             s.restarts > 1 ? fmt::format("{} restarts (seeds {}..{}) of ", s.restarts, s.seed,
                                          s.seed + static_cast<uint64_t>(s.restarts - 1))
                            : std::string(),
             s.episodes_per_restart(), s.agent == "ddpg" ? s.warmup : 0, env.num_steps(), s.b_min,
             s.b_max, w.reward_images(), fp, s.finetune_steps);
  const MachineInfo machine = MachineInfo::Current();
  fmt::print(streams.progress, "machine: {}\n", machine.Describe());
  std::fflush(streams.progress);

  SearchConfig cfg;
  cfg.episodes = s.total_episodes();
  cfg.fp_accuracy = fp;
  cfg.out_dir = dir;
  cfg.resume = resume;
  cfg.settings = s.ToJson();
  // A resume goes on with the run's own settings apart from those a resume may change
  // (SettingsForResume gives such settings; anything else is refused here, naming the
  // flag); settings.json is rewritten only when this resume records a value it lacks.
  cfg.resume_settings = [&s, &dir](const json& saved) {
    SettingsForResume(dir, s, RunKeys());
    return SettingsToRecord(saved, s);
  };
  cfg.run_files = w.RunFiles();
  cfg.machine = MachineInfo::Current;
  cfg.progress = streams.progress;
  cfg.after_episode = streams.after_episode;
  cfg.on_open = streams.on_open;
  cfg.parallel = s.parallel;
  // Worker processes evaluate the rounds' policies; this process keeps the agent and
  // the run directory. Started once the directory is open (the token lives there).
  std::unique_ptr<WorkerPool> pool;
  if (s.workers > 0 || !s.listen.empty()) {
    const auto on_open = cfg.on_open;
    cfg.on_open = [&, on_open](const fs::path& run_dir) {
      if (on_open) on_open(run_dir);
      PoolOptions po;
      po.run_dir = run_dir;
      po.local_workers = s.workers;
      po.threads_per_worker = ThreadsPerWorker(s);
      po.listen = s.listen;
      po.timeout_seconds = s.worker_timeout;
      po.settings = s.ToJson().dump();
      po.digest = w.Digest();
      po.notes = streams.notes;
      po.executable = streams.worker_executable;
      pool = std::make_unique<WorkerPool>(po);
    };
    cfg.evaluate_batch = [&pool](const std::vector<EvalTask>& tasks) { return pool->Evaluate(tasks); };
    w.UseBatchEvaluator(cfg.evaluate_batch);  // the greedy strategy's probes too
  }
  RunOutcome out;
  out.search = RunSearch(env, *agent, w.Evaluator(), cfg);
  pool.reset();  // the workers stop before the final stage
  w.UseBatchEvaluator(nullptr);
  if (out.search.resumed_from > 0) {
    fmt::print(streams.progress, "(resumed after episode {})\n", out.search.resumed_from);
  }
  if (streams.after_search) streams.after_search(out.search);
  out.summary = FinalStage(w, out.search, dir, streams.notes);
  out.layers = w.layers();
  out.table = w.table();
  out.uniform_bits = w.UniformBitsWithinBudgets();
  out.test_set_images = w.impl().test_set.size();
  return out;
}

}  // namespace haq::search
