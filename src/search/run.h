#pragma once
/// A whole `haq search` run as a library: the wiring (RunWiring: model, data and
/// its splits, calibration context, cost table, environment, evaluator, agent
/// factory, all from RunSettings), the search loop over the run directory
/// (search.h), and the final stage (final_stage.h). The CLI parses flags into
/// RunSettings and prints; everything else is here. The header keeps LibTorch out:
/// the torch side lives behind RunWiring::Impl (run_impl.h).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hw/cost_table.h"
#include "hw/layer_shape.h"
#include "hw/spec.h"
#include "quant/sensitivity.h"
#include "search/agent.h"
#include "search/env.h"
#include "search/run_settings.h"
#include "search/search.h"
#include "search/summary.h"

namespace haq::search {

/// Batch sizes and counts of the search's wiring.
inline constexpr int64_t kCalibrationBatch = 256;  ///< calibration batches of --calib-batches
inline constexpr int64_t kFinetuneBatch = 64;      ///< per-episode and final fine-tunes
inline constexpr int64_t kEvalBatch = 500;         ///< reward and test evaluation, up to 32x32 px
/// The evaluation batch for images of height x width: kEvalBatch up to 32x32 px,
/// then as many as hold the same number of pixels, but at least 32 (at 224 px a
/// batch of 500 made tensors of 2.4 GB, evaluated slower than at 32).
inline int64_t EvalBatch(int64_t height, int64_t width) {
  const int64_t fit = kEvalBatch * 32 * 32 / std::max<int64_t>(1, height * width);
  return std::max<int64_t>(32, std::min(kEvalBatch, fit));
}
/// DDPG's replay buffer holds this many episodes' transitions.
inline constexpr int64_t kReplayEpisodes = 128;
/// Threads that build the cost table (the cost models are independent per entry).
inline constexpr int kCostTableThreads = 2;

/// --threads-per-worker, 0 resolved: this machine's cores divided by --workers (at least 1).
int64_t ThreadsPerWorker(const RunSettings& s);

/// The agent of restart `restart` (seed: settings.seed + restart) for `env`.
std::unique_ptr<Agent> MakeAgent(const RunSettings& s, const QuantEnv& env, int64_t restart);

/// Everything an episode needs, built from settings. Constructing it loads the
/// model and the data, checks every setting against them (image counts, layer
/// count) before any long work, calibrates and builds the cost table.
class RunWiring {
 public:
  /// `progress` gets the lines of an image cache's build (nullptr: silent).
  explicit RunWiring(const RunSettings& settings, std::FILE* progress = nullptr);
  ~RunWiring();
  RunWiring(const RunWiring&) = delete;
  RunWiring& operator=(const RunWiring&) = delete;

  const RunSettings& settings() const;
  const hw::HardwareSpec& spec() const;
  /// The quantizable layers at the hardware's batch.
  const std::vector<hw::LayerShape>& layers() const;
  const hw::CostTable& table() const;
  /// The environment of the run's (first) budget: its wall, costs and log.
  const QuantEnv& env() const;
  /// One environment per budget (--budget given several times), the first env();
  /// a budget on other hardware (@HW) has that accelerator's cost table.
  std::vector<const QuantEnv*> envs() const;
  /// The largest uniform width whose policy meets every budget (b_min if none does).
  int UniformBitsWithinBudgets() const;
  /// The model as loaded ("mobilenet_v2_fmnist (shipped checkpoint ...)").
  const std::string& model_description() const;
  /// The network's own name (network.json's "model").
  std::string network_name() const;
  int64_t reward_images() const;
  /// Top-1 of the full-precision model on the reward images (computed once).
  double FullPrecisionAccuracy();
  /// The policy evaluator of the episodes (fine-tune, then top-1 on the reward set).
  PolicyEvaluator Evaluator();
  /// Evaluate the greedy strategy's probes with `evaluate`, --parallel at a time (the
  /// run's workers: RunJob sets it once they are started). Unset: one by one here.
  void UseBatchEvaluator(BatchEvaluator evaluate);
  /// SHA-256 (hex) of what an episode's outcome depends on beyond the settings: haq's
  /// version, the model's tensors, and the reward and fine-tune images and labels
  /// (the calibration is a function of these, the seed and the settings). A worker
  /// whose digest differs from its coordinator's is refused (workers.h).
  std::string Digest() const;
  /// The run's agent: restart 0's, or with --restarts one that starts a fresh agent
  /// per restart (`progress` gets a line at each).
  std::unique_ptr<Agent> MakeRunAgent(std::FILE* progress) const;
  /// The run's agent, the planned strategies included: for --agent ilp and greedy an
  /// agent whose preparation (in the run directory, resumable) makes its plan: the
  /// ILP's sensitivity pass (`notes` gets its probes) and solve, or the greedy
  /// strategy's probes and walk; `progress` gets their lines. Else MakeRunAgent.
  /// The agent refers to this wiring, which must outlive it.
  std::unique_ptr<Agent> MakePlannedAgent(std::FILE* progress, std::FILE* notes);
  /// The files a run directory keeps beside the log: network.json, hardware.yaml.
  std::vector<std::pair<std::string, std::string>> RunFiles() const;

  /// What a sensitivity table of this run must have been computed for: the model,
  /// the data split, the seed (calibration sample) and the Hessian settings.
  nlohmann::json SensitivityKey() const;
  /// The run's sensitivity table: read from `cache` when it exists (and was computed
  /// for SensitivityKey(), else util::InputError naming the field), else computed on
  /// the first --hessian-images tune images (`progress` gets the probes).
  quant::SensitivityTable Sensitivity(const std::filesystem::path& cache, std::FILE* progress);

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};


/// `haq sensitivity`: the table a run with `settings` computes (model, data, split,
/// calibration and Hessian settings from them).
quant::SensitivityTable ComputeRunSensitivity(const RunSettings& settings, std::FILE* progress);

/// Where a run's output goes.
struct RunStreams {
  std::FILE* progress = stdout;  ///< header lines and one line per episode
  std::FILE* notes = stderr;     ///< notes, warnings, final fine-tune progress
  /// Called after each committed episode (tests interrupt runs with it).
  std::function<void(const EpisodeRecord&)> after_episode;
  /// Called when the episodes are done, before the final stage's long quiet stretch.
  std::function<void(const SearchResult&)> after_search;
  /// Called with the run directory once it is open, before any long work
  /// (SearchConfig::on_open).
  std::function<void(const std::filesystem::path&)> on_open;
  /// The haq executable --workers starts as `haq worker` ("": this program, which is
  /// haq itself unless the library is linked into another).
  std::string worker_executable;
};

/// The settings a run directory holds, read and validated: `dir`/settings.json.
RunSettings ReadRunSettings(const std::filesystem::path& dir);

/// The settings `haq search --resume dir` goes on with: the run's own, with the flags
/// given (`given_keys`, by settings key, their values in `given`) either taken (the
/// ones a resume may change) or refused unless equal (ResumeSettings).
RunSettings SettingsForResume(const std::filesystem::path& dir, const RunSettings& given,
                              const std::set<std::string>& given_keys);

struct RunOutcome {
  SearchResult search;
  RunSummary summary;
  std::vector<hw::LayerShape> layers;
  hw::CostTable table;
  int uniform_bits = 0;         ///< the uniform baseline's width (largest within budget)
  int64_t test_set_images = 0;  ///< of which summary.test_images were measured
};

/// A whole run: a new one in `dir` (resume false: `dir` absent or empty), or the
/// continuation of the run there (`settings` from SettingsForResume). Writes the
/// run directory (search.h) and, at the end, best_model.pt, final_policy.json and
/// summary.json.
RunOutcome RunJob(const RunSettings& settings, const std::filesystem::path& dir, bool resume,
                  const RunStreams& streams);

}  // namespace haq::search
