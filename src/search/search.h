#pragma once
/// The search loop: episodes of agent actions through the environment and its
/// budget wall, a policy evaluation, the reward back to the agent; a JSON-lines log
/// of every episode, the best policy so far, and after every episode an atomically
/// committed checkpoint from which the run resumes to exactly the result of an
/// uninterrupted one. RunSearch owns the loop: per step it asks the agent to Act on
/// the environment's state. No LibTorch (run.h wires a real model to it).
///
/// Run directory:
///   settings.json     what the run was started with; a resume must match it, apart
///                     from the open settings (SearchConfig::open_settings), whose
///                     values it records when it changes them (`haq search`: the
///                     table of search/run_settings.h decides both)
///   log.jsonl         one JSON object per finished episode
///   agent-NNNNNN.bin  the agent's state after episode NNNNNN (the latest only)
///   state.json        the commit point: episodes done, agent file, best episode
///   best_policy.json  the best policy so far (haq eval / haq cost read it)
///   network.json, hardware.yaml  (from the CLI) the layer shapes and the hardware
///                     spec costs were computed with, so a report needs no model
///   sensitivity.json, greedy_probes.jsonl  what a planned agent's Prepare keeps
///                     (run.h), before the first episode
/// Every file is replaced atomically (write a temp file, rename); state.json is
/// written last, so after a kill the directory holds either the old or the new
/// episode's state, and a log longer than state.json says is cut back on resume.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hw/policy.h"
#include "search/agent.h"
#include "search/env.h"
#include "search/machine.h"

namespace haq::search {

/// What evaluating one policy produced.
struct EvalOutcome {
  double accuracy = 0.0;  ///< top-1 on the reward set, percent
  double finetune_seconds = 0.0;
  double eval_seconds = 0.0;
  /// Where it was evaluated, when not in this process (a worker's machine and
  /// threads): the episode's log line records it instead of SearchConfig::machine.
  std::optional<MachineInfo> machine;
};
using PolicyEvaluator = std::function<EvalOutcome(const hw::Policy&)>;

/// One policy of a round to evaluate: its episode and the policy after the wall.
struct EvalTask {
  int64_t episode = 0;
  hw::Policy policy;
};
/// Evaluates a round's policies, result i for task i, in any order and anywhere (the
/// worker pool of workers.h); each result must depend on its task only.
using BatchEvaluator = std::function<std::vector<EvalOutcome>(const std::vector<EvalTask>&)>;
/// `evaluate` as a BatchEvaluator: the tasks one after another, in order.
BatchEvaluator OneByOne(PolicyEvaluator evaluate);

struct EpisodeRecord {
  int64_t episode = 0;  ///< 0-based
  hw::Policy policy;    ///< after the wall
  double cost = 0.0;    ///< base units (seconds, pJ, bits)
  double cost_ratio = 0.0;  ///< cost / uniform 8-bit cost
  bool walled = false;      ///< the wall lowered bits
  double accuracy = 0.0;
  double reward = 0.0;
  int64_t best_episode = 0;  ///< best so far, this one included
  /// The CPU, kernel paths and threads the episode ran with (absent in logs written
  /// before haq recorded them). Not part of the result, but it tells which episodes
  /// a same-machine comparison may hold to the bit.
  std::optional<MachineInfo> machine;
  // Timing (not part of the result: differs between runs).
  double seconds = 0.0;
  double act_seconds = 0.0;
  double finetune_seconds = 0.0;
  double eval_seconds = 0.0;
  double update_seconds = 0.0;
  double checkpoint_seconds = 0.0;
};

nlohmann::json RecordToJson(const EpisodeRecord& r);
/// Throws util::InputError naming `where` and the field.
EpisodeRecord RecordFromJson(const nlohmann::json& j, const std::string& where);

struct SearchConfig {
  int64_t episodes = 600;
  /// Episodes per round (`--parallel K`): the agent proposes K policies (rolled out
  /// in episode order, none ended), all K are evaluated, then the agent ends each in
  /// episode order and the round is committed at once. Rounds start at multiples of
  /// K from the start of the agent's block (Agent::BlockLength) and end at the block's
  /// end or `episodes`. 1: one episode at a time, committed after each.
  int64_t parallel = 1;
  /// If set, evaluates each round's policies instead of OneByOne(`evaluate`).
  BatchEvaluator evaluate_batch;
  /// Full-precision accuracy on the reward set; reward = 0.1 x (acc - fp_acc).
  double fp_accuracy = 0.0;
  std::filesystem::path out_dir;
  bool resume = false;
  /// Written to settings.json; a resume must present the same settings, apart from
  /// those named in `open_settings`.
  nlohmann::json settings = nlohmann::json::object();
  /// Settings a resume may change: "episodes" (it may grow) and any that act only
  /// after the episodes. A resume that changes them writes their new values to
  /// settings.json, so the next resume without flags goes on with them.
  std::vector<std::string> open_settings = {"episodes"};
  /// If set, replaces that check on resume: given the run's settings.json, throws if
  /// the run cannot go on with this config, and returns the settings to write back
  /// once the resume is accepted (null: leave the file as it is).
  std::function<nlohmann::json(const nlohmann::json& saved)> resume_settings;
  /// The machine and kernel paths each episode runs on (MachineInfo::Current);
  /// unset: episodes are logged without them.
  std::function<MachineInfo()> machine;
  /// Files (name, contents) written when the run starts or resumes, e.g. the layer
  /// shapes and hardware spec the costs come from.
  std::vector<std::pair<std::string, std::string>> run_files;
  /// Called with the run directory once it is open (made, or resumed and accepted),
  /// before the agent prepares there: a sweep (sweep.h) puts the files its runs
  /// share in it.
  std::function<void(const std::filesystem::path&)> on_open;
  std::FILE* progress = nullptr;
  /// Called after each episode is committed (tests use it to interrupt runs); with
  /// --parallel K, for each episode of a round once the round is committed.
  std::function<void(const EpisodeRecord&)> after_episode;
};

struct SearchResult {
  std::vector<EpisodeRecord> log;  ///< every episode, resumed ones included
  int64_t best = -1;               ///< index into log
  int64_t resumed_from = 0;        ///< episodes found already done
  /// Said on resuming (also printed to the progress stream, or stderr): the done
  /// episodes ran on another kernel path, so the continuation is not bit-identical
  /// to an uninterrupted run there.
  std::vector<std::string> warnings;
};

/// The episodes of the `k` best distinct policies of `log` (same bits = same policy):
/// by reward, highest first, equal rewards in episode order; a policy seen in several
/// episodes counts once, at the first of these. Fewer when the log holds fewer
/// distinct policies. The first is the search's best (SearchResult::best).
std::vector<int64_t> TopDistinctEpisodes(const std::vector<EpisodeRecord>& log, int64_t k);

/// Checks that `dir` can hold a new run (absent or empty, creatable, writable) or,
/// with `resume`, is a run directory. util::InputError / util::IoError otherwise.
void CheckRunDirectory(const std::filesystem::path& dir, bool resume);

/// Runs episodes [done, config.episodes). Checks the output location before any
/// work; refuses a directory holding another run unless `resume` (and a resume of a
/// directory without a run). util::InputError / util::IoError on problems.
SearchResult RunSearch(const QuantEnv& env, Agent& agent, const PolicyEvaluator& evaluate,
                       const SearchConfig& config);

/// Reads a run directory's committed episodes (for reports and tests).
SearchResult ReadRun(const std::filesystem::path& dir);

}  // namespace haq::search
