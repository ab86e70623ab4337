#pragma once
/// Every parameter of a search run, declared once. The table (RunParams) gives each
/// its settings.json key, its flag, type, default, range or allowed values, help
/// text and whether a resume may change it; `haq search`'s flags, settings.json
/// (writing, reading, validation), the resume check and the report's settings
/// reader are all made from it. A parameter added to RunSettings and the table is
/// therefore a flag, a recorded setting and a resume rule at once, and the
/// table-driven test (tests/search/run_settings_test.cc) covers it.
///
/// settings.json: {"version": 1, key: value, ...} with every key of the table.
/// Files without "version" come from haq before the table (version 0): they lack
/// the keys added later, which read as the value every run had before they existed,
/// and `subset`, which haq did not record (see FromJson).
/// No LibTorch.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace haq::search {

struct RunSettings {
  std::string model = "mobilenet_v2_fmnist";
  std::string hardware = "bismo-edge";
  std::string budget = "latency=0.6";  ///< one or more, comma-separated (ParseBudgets)
  std::string agent = "ddpg";
  std::string quantizer = "auto";
  int64_t episodes = 600;  ///< per restart
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
  int64_t final_finetune_steps = 600;
  double final_finetune_lr = 0.005;
  int64_t final_candidates = 1;
  int64_t final_seeds = 1;
  int64_t test_images = 0;  ///< 0: the whole test set
  uint64_t seed = 0;
  // The data.
  std::string dataset = "fashion-mnist";
  std::string data_dir;     ///< "": the dataset's default location
  int64_t validation = 5000;  ///< training images held out (the reward images come from them)
  int64_t subset = 0;         ///< > 0: only this many of the remaining training images
  uint64_t split_seed = 0;
  std::string classes;       ///< image folders: "" (all) | N | FILE
  std::string image_cache;   ///< image folders: cache folder ("" = the default)
  std::string mean, std;     ///< image folders: comma-separated, for a model without its own
  std::string finetune_augment = "none";  ///< none | flip | crop-flip (data::FineTuneAugment)
  // Rounds and workers (workers.h).
  int64_t parallel = 1;            ///< episodes per round
  int64_t workers = 0;             ///< local worker processes (0: evaluate here)
  int64_t threads_per_worker = 0;  ///< 0: cores / workers
  std::string listen;              ///< "": file store in the run directory; "ADDR:PORT": TCP
  double worker_timeout = 60.0;    ///< seconds without a heartbeat
  // The ILP strategy's sensitivity pass and solver.
  std::string curvature = "gauss-newton";
  int64_t hessian_images = 256;
  int64_t hessian_probes = 100;
  double hessian_tol = 0.1;
  double ilp_time_limit = 60.0;

  /// k-means weights (and no activation quantization): quantizer "kmeans", or
  /// "auto" with a size budget.
  bool kmeans() const;
  /// Episodes each restart runs: `episodes`, or 1 for the uniform and greedy agents
  /// (each has a single policy).
  int64_t episodes_per_restart() const {
    return agent == "uniform" || agent == "greedy" ? 1 : episodes;
  }
  /// All episodes of the run: episodes_per_restart() x restarts.
  int64_t total_episodes() const { return episodes_per_restart() * restarts; }

  /// settings.json's object, with "version".
  nlohmann::json ToJson() const;
  /// Reads and validates a settings.json object (`where` names the file in
  /// messages): each key of the table must be present (version 0: apart from the
  /// later ones), of its type and within its range; unknown keys and versions
  /// above kSettingsVersion are refused. util::InputError naming the key otherwise.
  static RunSettings FromJson(const nlohmann::json& j, const std::string& where);
  /// The checks a run's settings get whatever their source: every value within its
  /// parameter's range, b_min <= b_max, restarts only for a strategy with more than
  /// one policy. `where` prefixes messages (a file; "" for flags, which are then
  /// named by their flag).
  void Validate(const std::string& where = "") const;

  bool operator==(const RunSettings&) const = default;
};

inline constexpr int kSettingsVersion = 3;
/// The largest --restarts and --final-seeds.
inline constexpr int64_t kMaxRestarts = 1000;
inline constexpr int64_t kMaxFinalSeeds = 100;

/// Whether a resume may give a parameter another value than the run was started with.
enum class OnResume {
  kFixed,      ///< the value shapes the episodes: a different one is refused
  kMayChange,  ///< acts only after the episodes done (or extends them): taken and recorded
};

/// One run parameter.
struct RunParam {
  using Member = std::variant<std::string RunSettings::*, int RunSettings::*,
                              int64_t RunSettings::*, uint64_t RunSettings::*,
                              double RunSettings::*, bool RunSettings::*>;
  std::string key;   ///< in settings.json
  std::string flag;  ///< "--b-min"; a bool's flag sets it to !default ("--no-pin-first")
  std::string help;
  Member member;
  double min = 0.0;  ///< numbers: the range accepted (uint64: unchecked)
  double max = 0.0;
  std::vector<std::string> allowed = {};  ///< strings: the values accepted (empty: any)
  OnResume on_resume = OnResume::kFixed;
  /// The settings.json version that added the parameter (0: every version has it).
  /// Files of an earlier version lack it and read as its default, the value every
  /// run had before it.
  int added_in = 0;
  /// Absent from every version-0 file although runs could set it (`--subset`, which
  /// haq did not record): the value such a run used is unknown; a resume takes the
  /// flag if given (and records it), else the default.
  bool unrecorded_before = false;
  /// Strings: the flag may be given several times (or with commas); the values are
  /// kept joined by commas (`--budget`).
  bool repeatable = false;

  bool is_flag() const { return std::holds_alternative<bool RunSettings::*>(member); }
  /// The value in `s`, as JSON.
  nlohmann::json Get(const RunSettings& s) const;
  /// Sets the value in `s` from JSON of the parameter's type; false if it is not.
  bool Set(RunSettings& s, const nlohmann::json& value) const;
  /// "" if `s`'s value is within range/allowed, else "expected 1..8, got 9".
  std::string Check(const RunSettings& s) const;
};

/// The table, in flag order.
const std::vector<RunParam>& RunParams();
/// Every settings key of the table (a resume that must repeat every setting passes
/// them all as given to SettingsForResume).
std::set<std::string> RunKeys();
/// The parameter with settings.json key `key`; std::out_of_range if none.
const RunParam& RunParamByKey(const std::string& key);

/// The settings a resumed run goes on with: `saved` (its settings.json, read by
/// FromJson) with the parameters of `given_keys` (the flags given explicitly, by
/// key) taken from `given`: a kMayChange one replaces the saved value; a kFixed one
/// must equal it, else util::InputError
///   "--resume: PATH: the run was started with --flag V, this command gives W; drop
///    the flag or start a new run".
/// `saved_json` is the file's object (which parameters it records); `path` names it.
/// Also checks that the episodes done (`episodes_done`, from state.json) still fit
/// the restart layout: restarts may grow, never shrink; with restarts, --episodes
/// may change only while the first restart runs.
RunSettings ResumeSettings(const RunSettings& saved, const nlohmann::json& saved_json,
                           const RunSettings& given, const std::set<std::string>& given_keys,
                           int64_t episodes_done, const std::filesystem::path& path);

/// The settings.json to write on resume, or null when the file stays as it is: it
/// is rewritten (as version kSettingsVersion) only when `now` records a value
/// `saved_json` does not hold.
nlohmann::json SettingsToRecord(const nlohmann::json& saved_json, const RunSettings& now);

/// The keys of the kMayChange parameters (what SearchConfig::open_settings lists).
std::vector<std::string> OpenSettingKeys();

}  // namespace haq::search
