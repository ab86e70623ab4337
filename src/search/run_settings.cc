#include "search/run_settings.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "search/env.h"
#include "search/worker_protocol.h"
#include "util/error.h"

namespace haq::search {

namespace {

using json = nlohmann::json;

constexpr double kCount = double(int64_t{1} << 30);   // episodes, steps
constexpr double kImages = double(int64_t{1} << 40);  // image counts
constexpr double kPositive = 1e-30;                   // learning rates: any positive number
constexpr double kLarge = 1e30;

std::vector<RunParam> MakeTable() {
  using S = RunSettings;
  const OnResume fixed = OnResume::kFixed;
  const OnResume may_change = OnResume::kMayChange;
  std::vector<RunParam> t = {
      {"model", "--model", "Zoo name (shipped weights), checkpoint .pt or .onnx file", &S::model},
      {"hardware", "--hw", "Hardware: a built-in name (haq list hw) or a spec .yaml file",
       &S::hardware},
      {"budget", "--budget",
       "METRIC=AMOUNT: latency=0.6 (fraction of uniform 8-bit), latency=2.5ms, latency=4bit, "
       "energy=0.5, energy=3mJ, size=0.25, size=0.1MB; repeat it (--agent ilp) for budgets that "
       "must all hold, a later one on other hardware with @HW: --budget energy=3bit@bitfusion",
       &S::budget},
      {"agent", "--agent",
       "ddpg (HAQ), ilp (Hessian-trace sensitivity, exact integer program; --episodes = its "
       "candidates), greedy (AIMET-style: per-layer probes, then lowering by accuracy lost per "
       "cost saved), random search, or uniform (largest width that fits)",
       &S::agent, 0, 0, {"ddpg", "random", "uniform", "ilp", "greedy"}},
      {"quantizer", "--quantizer", "auto (k-means for size budgets, else linear), linear or kmeans",
       &S::quantizer, 0, 0, {"auto", "linear", "kmeans"}},
      {"episodes", "--episodes",
       "Episodes (HAQ: 600); per restart with --restarts; with --resume, may extend a run",
       &S::episodes, 1, kCount, {}, may_change},
      {"restarts", "--restarts",
       "Run K independent searches of --episodes each (seeds seed..seed+K-1, the same "
       "calibration and reward set) and keep the best policy by reward; with --resume, may grow",
       &S::restarts, 1, double(kMaxRestarts), {}, may_change, 1},
      {"warmup", "--warmup", "DDPG warm-up episodes of random actions (HAQ: 20)", &S::warmup, 0,
       kCount},
      {"b_min", "--b-min", "Smallest bit width the agent may pick", &S::b_min, 1, 8},
      {"b_max", "--b-max", "Largest bit width the agent may pick", &S::b_max, 1, 8},
      {"pin_first", "--no-pin-first",
       "Let the agent choose the first layer too (default: 8-bit weights, input unquantized)",
       &S::pin_first},
      {"pin_last", "--no-pin-last", "Let the agent choose the last layer too (default: 8/8)",
       &S::pin_last},
      {"budget_state", "--budget-state",
       "Beyond HAQ: two more state features showing how much budget the choices so far commit",
       &S::budget_state},
      {"sigma_decay", "--sigma-decay",
       "DDPG exploration: sigma = 0.5 x DECAY^(episode - warmup) (HAQ: 0.99)", &S::sigma_decay,
       1e-6, 1.0, {}, fixed, 1},
      {"finetune_steps", "--finetune-steps",
       "Fine-tune steps (batch 64) per episode before measuring the reward (0: none)",
       &S::finetune_steps, 0, kCount},
      {"finetune_lr", "--finetune-lr", "Per-episode fine-tune learning rate (SGD, momentum 0.9)",
       &S::finetune_lr, kPositive, kLarge},
      {"reward_images", "--reward-images", "Held-out training images the reward is measured on",
       &S::reward_images, 1, kImages},
      {"tune_images", "--tune-images",
       "Training images for calibration and per-episode fine-tuning", &S::tune_images, 1,
       kImages},
      {"calib_batches", "--calib-batches", "Calibration batches of 256 (once per run)",
       &S::calib_batches, 1, 100000},
      {"final_finetune_steps", "--final-finetune-steps",
       "Fine-tune steps (batch 64) of the best policy and the uniform baseline at the end",
       &S::final_finetune_steps, 0, kCount},
      {"final_finetune_lr", "--final-finetune-lr",
       "Peak learning rate of the final fine-tune (cosine)", &S::final_finetune_lr, kPositive,
       kLarge},
      {"final_candidates", "--final-candidates",
       "Fine-tune the K best distinct policies of the search (by reward) with the final "
       "fine-tune and keep the one best on the reward images afterwards (1: the best episode); "
       "with --resume, may change",
       &S::final_candidates, 1, 1000, {}, may_change, 1},
      {"final_seeds", "--final-seeds",
       "Repeat the final fine-tune of the uniform baseline and the delivered policy with K seeds "
       "(batch order and calibration sample) and report mean ± spread and the paired "
       "difference; with --resume, may change",
       &S::final_seeds, 1, double(kMaxFinalSeeds), {}, may_change, 1},
      {"test_images", "--test-images",
       "Measure the final comparison on the first N test images (0: the whole test set); with "
       "--resume, may change",
       &S::test_images, 0, kImages, {}, may_change, 1},
      {"seed", "--seed", "Seed of the agent, calibration sampling and fine-tuning order",
       &S::seed},
      {"dataset", "--dataset",
       "fashion-mnist (Debian package), cifar10 (binary version) or imagefolder (DIR/train/<class>/*, "
       "DIR/val/<class>/*)",
       &S::dataset, 0, 0, {"fashion-mnist", "cifar10", "imagefolder"}},
      {"data_dir", "--data-dir",
       "Dataset directory (default: the Debian package's for fashion-mnist)", &S::data_dir},
      {"validation", "--val",
       "Training images held out for validation (seeded split); the reward images are its first",
       &S::validation, 0, kImages},
      {"split_seed", "--split-seed", "Seed of the train/validation split", &S::split_seed},
      {"subset", "--subset",
       "Fine-tune on only the first N of the remaining training images (quick runs; 0 = all)",
       &S::subset, 0, kImages},
  };
  for (RunParam& p : t) p.repeatable = p.key == "budget";
  RunParam& subset = t.back();
  subset.unrecorded_before = true;
  const std::vector<RunParam> ilp = {
      {"curvature", "--curvature",
       "ILP: gauss-newton (default; equals the Hessian's per-layer blocks for piecewise-linear "
       "nets, lower variance) or hessian (Hutchinson on the Hessian itself)",
       &S::curvature, 0, 0, {"gauss-newton", "hessian"}, fixed, 1},
      {"hessian_images", "--hessian-images",
       "ILP: training images (the first tune images) the Hessian traces are estimated on",
       &S::hessian_images, 1, kImages, {}, fixed, 1},
      {"hessian_probes", "--hessian-probes", "ILP: at most this many Hutchinson probes",
       &S::hessian_probes, 4, 100000, {}, fixed, 1},
      {"hessian_tol", "--hessian-tol",
       "ILP: stop probing once every layer's trace has a standard error of at most this "
       "fraction of it",
       &S::hessian_tol, kPositive, 1.0, {}, fixed, 1},
      {"ilp_time_limit", "--ilp-time-limit",
       "ILP: seconds the solver may take per candidate before the run stops with an error",
       &S::ilp_time_limit, 0.001, 86400.0, {}, fixed, 1},
  };
  t.insert(t.end(), ilp.begin(), ilp.end());
  // Added in version 2: image folders.
  const std::vector<RunParam> images = {
      {"classes", "--classes",
       "imagefolder: keep the first N sorted classes (100: HAQ's ImageNet-100) or those a FILE lists",
       &S::classes, 0, 0, {}, fixed, 2},
      {"image_cache", "--cache",
       "imagefolder: folder of the preprocessed image cache (default: $HAQ_CACHE_DIR, else "
       "~/.cache/haq/images)",
       &S::image_cache, 0, 0, {}, may_change, 2},
      {"mean", "--mean", "imagefolder: per-channel mean of pixel/255 (comma-separated) for a model without its own",
       &S::mean, 0, 0, {}, fixed, 2},
      {"std", "--std", "imagefolder: per-channel standard deviation, likewise", &S::std, 0, 0, {}, fixed, 2},
      {"finetune_augment", "--finetune-augment",
       "Augmentation of every fine-tune (episodes and final): none, flip, or crop-flip (RandomResizedCrop and "
       "flips, HAQ's ImageNet setting)",
       &S::finetune_augment, 0, 0, {"none", "flip", "crop-flip"}, fixed, 2},
  };
  t.insert(t.end(), images.begin(), images.end());
  // Added in version 3: rounds of episodes and their evaluation by worker processes.
  const std::vector<RunParam> parallel = {
      {"parallel", "--parallel",
       "Episodes per round: the agent proposes K policies (DDPG: the same actor, K noise "
       "draws), all K are evaluated (by --workers at once), then it learns from all K",
       &S::parallel, 1, 4096, {}, fixed, 3},
      {"workers", "--workers",
       "Start N local worker processes that evaluate a round's policies (0: this process "
       "evaluates them); workers on other machines join with haq worker; with --resume, may change",
       &S::workers, 0, 4096, {}, may_change, 3},
      {"threads_per_worker", "--threads-per-worker",
       "Intra-op threads of each worker (0: this machine's cores divided by --workers); results "
       "are bit-identical for the same value; with --resume, may change",
       &S::threads_per_worker, 0, 4096, {}, may_change, 3},
      {"listen", "--listen",
       "ADDR:PORT: serve the workers' store over TCP (c10d TCPStore, every interface at PORT) so "
       "workers on other machines can join (default: a file store in the run directory, local "
       "workers only); with --resume, may change",
       &S::listen, 0, 0, {}, may_change, 3},
      {"worker_timeout", "--worker-timeout",
       "Seconds without a heartbeat after which a worker is given up and its policy evaluated by "
       "another; with --resume, may change",
       &S::worker_timeout, 0.1, 86400.0, {}, may_change, 3},
  };
  t.insert(t.end(), parallel.begin(), parallel.end());
  return t;
}

bool IsPositive(const RunParam& p) { return p.min == kPositive; }

std::string RangeText(const RunParam& p) {
  return std::visit(
      [&](auto member) -> std::string {
        using T = std::remove_cvref_t<decltype(RunSettings{}.*member)>;
        if constexpr (std::is_same_v<T, double>) return fmt::format("{}..{}", p.min, p.max);
        return fmt::format("{}..{}", static_cast<int64_t>(p.min), static_cast<int64_t>(p.max));
      },
      p.member);
}

// A value for messages: strings quoted, numbers as JSON writes them.
std::string Shown(const json& v) { return v.dump(); }

}  // namespace

bool RunSettings::kmeans() const {
  return quantizer == "kmeans" ||
         (quantizer == "auto" && ParseBudgets(budget).front().metric == Metric::kSize);
}

const std::vector<RunParam>& RunParams() {
  static const std::vector<RunParam> table = MakeTable();
  return table;
}

std::set<std::string> RunKeys() {
  std::set<std::string> keys;
  for (const RunParam& p : RunParams()) keys.insert(p.key);
  return keys;
}

const RunParam& RunParamByKey(const std::string& key) {
  for (const RunParam& p : RunParams()) {
    if (p.key == key) return p;
  }
  throw std::out_of_range("no run parameter '" + key + "'");
}

json RunParam::Get(const RunSettings& s) const {
  return std::visit([&](auto m) { return json(s.*m); }, member);
}

bool RunParam::Set(RunSettings& s, const json& value) const {
  return std::visit(
      [&](auto m) {
        using T = std::remove_cvref_t<decltype(s.*m)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!value.is_string()) return false;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!value.is_boolean()) return false;
        } else if constexpr (std::is_same_v<T, double>) {
          if (!value.is_number()) return false;
        } else if constexpr (std::is_unsigned_v<T>) {
          if (!value.is_number_unsigned()) return false;
        } else {
          if (!value.is_number_integer()) return false;
          if (value.is_number_unsigned() &&
              value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
            return false;
          }
          const auto v = value.get<int64_t>();
          if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
        }
        s.*m = value.get<T>();
        return true;
      },
      member);
}

std::string RunParam::Check(const RunSettings& s) const {
  return std::visit(
      [&](auto m) -> std::string {
        using T = std::remove_cvref_t<decltype(s.*m)>;
        const T& v = s.*m;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
            return fmt::format("expected one of {}, got \"{}\"", util::JoinNames(allowed), v);
          }
        } else if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) {
          // any value
        } else {
          if (!(static_cast<double>(v) >= min && static_cast<double>(v) <= max)) {
            if (IsPositive(*this)) return fmt::format("expected a positive number, got {}", v);
            return fmt::format("expected {}, got {}", RangeText(*this), v);
          }
        }
        return "";
      },
      member);
}

json RunSettings::ToJson() const {
  json j = {{"version", kSettingsVersion}};
  for (const RunParam& p : RunParams()) j[p.key] = p.Get(*this);
  return j;
}

RunSettings RunSettings::FromJson(const json& j, const std::string& where) {
  if (!j.is_object()) {
    throw util::InputError(
        fmt::format("{}: expected a JSON object, got {}", where, j.type_name()));
  }
  int version = 0;
  if (j.contains("version")) {
    const json& v = j["version"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kSettingsVersion) {
      throw util::InputError(fmt::format(
          "{}: setting 'version': expected 1..{} (this haq writes version {}; a newer haq wrote "
          "this run?), got {}",
          where, kSettingsVersion, kSettingsVersion, v.dump()));
    }
    version = v.get<int>();
  }
  RunSettings s;
  for (const RunParam& p : RunParams()) {
    if (!j.contains(p.key)) {
      if (version < p.added_in || (version == 0 && p.unrecorded_before)) continue;  // its default
      throw util::InputError(fmt::format("{}: missing setting '{}'", where, p.key));
    }
    if (!p.Set(s, j[p.key])) {
      throw util::InputError(
          fmt::format("{}: setting '{}': unexpected value {}", where, p.key, Shown(j[p.key])));
    }
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "version") continue;
    const auto& t = RunParams();
    if (std::none_of(t.begin(), t.end(), [&](const RunParam& p) { return p.key == key; })) {
      throw util::InputError(fmt::format(
          "{}: unknown setting '{}' (a run of another haq version?); expected the keys of "
          "docs/FORMATS.md#settingsjson",
          where, key));
    }
  }
  s.Validate(where);
  return s;
}

void RunSettings::Validate(const std::string& where) const {
  for (const RunParam& p : RunParams()) {
    const std::string problem = p.Check(*this);
    if (problem.empty()) continue;
    throw util::InputError(where.empty() ? fmt::format("{}: {}", p.flag, problem)
                                         : fmt::format("{}: setting '{}': {}", where, p.key, problem));
  }
  if (!listen.empty()) ParseHostPort(listen, where.empty() ? "--listen" : where + ": setting 'listen'");
  const std::string budget_where = where.empty() ? "--budget" : where + ": setting 'budget'";
  const size_t budgets = ParseBudgets(budget, budget_where).size();
  if (budgets > 1 && agent != "ilp" && agent != "greedy") {
    throw util::InputError(fmt::format(
        "{}: {} budgets need --agent ilp or greedy (the {} agent's wall enforces one budget); "
        "expected one budget, got '{}'",
        budget_where, budgets, agent, budget));
  }
  if (b_min > b_max) {
    throw util::InputError(where.empty()
                               ? fmt::format("--b-min {} is above --b-max {}", b_min, b_max)
                               : fmt::format("{}: settings 'b_min', 'b_max': expected b_min <= "
                                             "b_max, got {} and {}",
                                             where, b_min, b_max));
  }
  if (restarts > 1 && (agent == "uniform" || agent == "ilp" || agent == "greedy")) {
    throw util::InputError(fmt::format(
        "{}--restarts {}: the {} agent has {}; expected --restarts 1",
        where.empty() ? "" : where + ": ", restarts, agent,
        agent == "ilp" ? "candidates that do not depend on the seed" : "a single policy"));
  }
}

RunSettings ResumeSettings(const RunSettings& saved, const json& saved_json,
                           const RunSettings& given, const std::set<std::string>& given_keys,
                           int64_t episodes_done, const std::filesystem::path& path) {
  RunSettings now = saved;
  for (const RunParam& p : RunParams()) {
    if (!given_keys.contains(p.key)) continue;
    const json was = p.Get(saved);
    const json asked = p.Get(given);
    const bool unknown = p.unrecorded_before && !saved_json.contains(p.key);
    if (p.on_resume == OnResume::kMayChange || unknown || was == asked) {
      p.Set(now, asked);
      continue;
    }
    const std::string run_had =
        p.is_flag() ? fmt::format("the run was started without {}, this command gives it", p.flag)
                    : fmt::format("the run was started with {} {}, this command gives {}", p.flag,
                                  Shown(was), Shown(asked));
    throw util::InputError(fmt::format("--resume: {}: {}; drop the flag or start a new run",
                                       path.string(), run_had));
  }
  now.Validate();
  // The episodes done must keep the restart they were run in.
  if (now.restarts < saved.restarts) {
    throw util::InputError(fmt::format(
        "--restarts {}: the run was given {} restarts; a resume may add restarts, not remove them",
        now.restarts, saved.restarts));
  }
  if (now.restarts > 1) {
    // Before restarts the run was one search of `done` episodes (settings.json may
    // hold the episodes it started with, not the ones it was extended to).
    const int64_t first_search =
        saved.restarts == 1 ? episodes_done : std::min(episodes_done, saved.episodes);
    if (first_search > now.episodes) {
      throw util::InputError(fmt::format(
          "--resume: {}: the run's first search already has {} episodes, so restarts of {} "
          "cannot follow it; give --episodes {} or more",
          path.parent_path().string(), first_search, now.episodes, first_search));
    }
    if (saved.restarts > 1 && episodes_done > saved.episodes && now.episodes != saved.episodes) {
      throw util::InputError(fmt::format(
          "--episodes {}: the run's restarts are {} episodes each and restart 2 has begun; drop "
          "--episodes or start a new run",
          now.episodes, saved.episodes));
    }
  }
  return now;
}

json SettingsToRecord(const json& saved_json, const RunSettings& now) {
  for (const RunParam& p : RunParams()) {
    const json v = p.Get(now);
    // A key a version-0 file lacks holds its default: no need to record it.
    const json recorded = saved_json.contains(p.key) ? saved_json[p.key] : p.Get(RunSettings{});
    if (recorded != v) return now.ToJson();
  }
  return nullptr;
}

std::vector<std::string> OpenSettingKeys() {
  std::vector<std::string> keys;
  for (const RunParam& p : RunParams()) {
    if (p.on_resume == OnResume::kMayChange) keys.push_back(p.key);
  }
  return keys;
}

}  // namespace haq::search
