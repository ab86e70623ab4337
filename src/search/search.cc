#include "search/search.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "util/error.h"
#include "util/file.h"
#include "util/json.h"
#include "util/progress.h"

namespace haq::search {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kStateFormat = "haq-search-state-1";

std::string AgentFile(int64_t episodes_done) { return fmt::format("agent-{:06d}.bin", episodes_done); }

// The committed episodes of `dir`: log.jsonl cut to state.json's count.
std::vector<EpisodeRecord> ReadLog(const fs::path& dir, int64_t episodes_done) {
  std::vector<EpisodeRecord> log;
  if (episodes_done == 0) return log;
  const fs::path path = dir / "log.jsonl";
  std::istringstream in(util::ReadFile(path));
  std::string line;
  for (int64_t n = 1; n <= episodes_done; ++n) {
    if (!std::getline(in, line)) {
      throw util::InputError(fmt::format(
          "{}: expected {} episodes (state.json), found {}; the run directory is damaged",
          path.string(), episodes_done, n - 1));
    }
    const std::string where = fmt::format("{}:{}", path.string(), n);
    log.push_back(RecordFromJson(util::ParseJson(line, where), where));
  }
  return log;
}

void WriteLog(const fs::path& dir, const std::vector<EpisodeRecord>& log) {
  util::WriteFileAtomic(dir / "log.jsonl", [&](std::ostream& out) {
    for (const auto& r : log) out << RecordToJson(r).dump() << '\n';
  });
}

// The first setting that differs between a run's settings.json and this one's.
void CheckSameSettings(const json& saved, const json& now, const std::vector<std::string>& open,
                       const fs::path& path) {
  for (const auto& [key, value] : now.items()) {
    if (std::find(open.begin(), open.end(), key) != open.end()) continue;
    if (!saved.contains(key)) {
      throw util::InputError(fmt::format(
          "--resume: {}: has no setting '{}' (a run of another haq version?); start a new run",
          path.string(), key));
    }
    if (saved[key] != value) {
      throw util::InputError(fmt::format(
          "--resume: {}: '{}' was {} when the run started, this command asks for {}; resume with "
          "the same settings or start a new run",
          path.string(), key, saved[key].dump(), value.dump()));
    }
  }
}

}  // namespace

json RecordToJson(const EpisodeRecord& r) {
  json bits = json::array();
  for (const auto& l : r.policy.layers) bits.push_back({l.w_bits, l.a_bits});
  json j = {{"episode", r.episode},
            {"policy", bits},
            {"cost", r.cost},
            {"cost_ratio", r.cost_ratio},
            {"walled", r.walled},
            {"accuracy", r.accuracy},
            {"reward", r.reward},
            {"best_episode", r.best_episode},
            {"seconds", r.seconds},
            {"timing",
             {{"act", r.act_seconds},
              {"finetune", r.finetune_seconds},
              {"evaluate", r.eval_seconds},
              {"update", r.update_seconds},
              {"checkpoint", r.checkpoint_seconds}}}};
  if (r.machine) j["machine"] = r.machine->ToJson();
  return j;
}

EpisodeRecord RecordFromJson(const json& j, const std::string& where) {
  EpisodeRecord r;
  r.episode = util::JsonField<int64_t>(j, "episode", where);
  r.cost = util::JsonField<double>(j, "cost", where);
  r.cost_ratio = util::JsonField<double>(j, "cost_ratio", where);
  r.walled = util::JsonField<bool>(j, "walled", where);
  r.accuracy = util::JsonField<double>(j, "accuracy", where);
  r.reward = util::JsonField<double>(j, "reward", where);
  r.best_episode = util::JsonField<int64_t>(j, "best_episode", where);
  r.seconds = util::JsonField<double>(j, "seconds", where);
  r.policy = hw::ParsePolicy(util::JsonMember(j, "policy", where).dump(), where + ": policy");
  if (j.contains("machine") && !j["machine"].is_null()) {
    r.machine = MachineInfo::FromJson(j["machine"], where + ": machine");
  }
  if (j.contains("timing") && j["timing"].is_object()) {
    const json& t = j["timing"];
    r.act_seconds = t.value("act", 0.0);
    r.finetune_seconds = t.value("finetune", 0.0);
    r.eval_seconds = t.value("evaluate", 0.0);
    r.update_seconds = t.value("update", 0.0);
    r.checkpoint_seconds = t.value("checkpoint", 0.0);
  }
  return r;
}

SearchResult ReadRun(const fs::path& dir) {
  const fs::path state_path = dir / "state.json";
  if (!fs::exists(state_path)) {
    throw util::InputError(fmt::format(
        "{}: not a search run directory (no state.json: no episode finished yet, or not made by "
        "haq search)",
        dir.string()));
  }
  const json state = util::ReadJsonFile(state_path);
  const std::string where = state_path.string();
  if (const auto format = util::JsonField<std::string>(state, "format", where);
      format != kStateFormat) {
    throw util::InputError(
        fmt::format("{}: format: expected '{}', got '{}'", where, kStateFormat, format));
  }
  SearchResult r;
  r.log = ReadLog(dir, util::JsonField<int64_t>(state, "episodes_done", where));
  // The log must be one run's: episodes in order, one policy length, and the best
  // so far always an earlier (or this) episode.
  const std::string log_path = (dir / "log.jsonl").string();
  for (size_t i = 0; i < r.log.size(); ++i) {
    const EpisodeRecord& e = r.log[i];
    const int64_t n = static_cast<int64_t>(i);
    if (e.episode != n || e.best_episode < 0 || e.best_episode > n ||
        e.policy.layers.size() != r.log[0].policy.layers.size()) {
      throw util::InputError(fmt::format(
          "{}: line {}: expected episode {} with best_episode in 0..{} and {} layers, got episode "
          "{}, best_episode {}, {} layers",
          log_path, i + 1, n, n, r.log[0].policy.layers.size(), e.episode, e.best_episode,
          e.policy.layers.size()));
    }
  }
  r.resumed_from = static_cast<int64_t>(r.log.size());
  r.best = r.log.empty() ? -1 : r.log.back().best_episode;
  return r;
}

BatchEvaluator OneByOne(PolicyEvaluator evaluate) {
  return [evaluate = std::move(evaluate)](const std::vector<EvalTask>& tasks) {
    std::vector<EvalOutcome> out;
    for (const EvalTask& t : tasks) out.push_back(evaluate(t.policy));
    return out;
  };
}

std::vector<int64_t> TopDistinctEpisodes(const std::vector<EpisodeRecord>& log, int64_t k) {
  std::vector<size_t> order(log.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return log[a].reward > log[b].reward; });
  auto same = [](const hw::Policy& a, const hw::Policy& b) {
    return std::equal(a.layers.begin(), a.layers.end(), b.layers.begin(), b.layers.end(),
                      [](const hw::LayerBits& x, const hw::LayerBits& y) {
                        return x.w_bits == y.w_bits && x.a_bits == y.a_bits;
                      });
  };
  std::vector<int64_t> out;
  for (size_t i : order) {
    if (static_cast<int64_t>(out.size()) >= k) break;
    const bool seen = std::any_of(out.begin(), out.end(), [&](int64_t e) {
      return same(log[static_cast<size_t>(e)].policy, log[i].policy);
    });
    if (!seen) out.push_back(static_cast<int64_t>(i));
  }
  return out;
}

void CheckRunDirectory(const fs::path& dir, bool resume) {
  const fs::path state_path = dir / "state.json";
  const fs::path settings_path = dir / "settings.json";
  // Temp files of atomic writes a kill interrupted are neither the old nor the new
  // version of anything: they go first.
  if (fs::is_directory(dir)) util::RemoveStaleTemps(dir);
  if (resume) {
    if (!fs::exists(settings_path)) {
      throw util::InputError(fmt::format(
          "--resume: {}: not a search run directory (no settings.json)", dir.string()));
    }
    util::CheckWritableDestination(state_path);
    return;
  }
  if (dir.empty()) throw util::InputError("--out: expected a directory, got an empty path");
  if (fs::exists(dir) && !fs::is_directory(dir)) {
    throw util::InputError(fmt::format("--out: {} exists and is not a directory", dir.string()));
  }
  if (fs::exists(dir)) {
    if (!fs::is_empty(dir)) {
      throw util::InputError(fmt::format(
          "--out: {} is not empty{}; choose a new directory{}", dir.string(),
          fs::exists(state_path) ? " (it holds a search run)" : "",
          fs::exists(settings_path) ? ", or continue that run with --resume" : ""));
    }
    util::CheckWritableDestination(state_path);
    return;
  }
  util::CheckCreatableDirectory(dir);
}

namespace {

// A run directory opened for episodes: what it holds (resumed episodes, the
// agent's save), with the agent restored from it.
struct OpenedRun {
  SearchResult result;
  std::string agent_file;  ///< the committed agent save ("" for a new run)
};

// The run-directory side of RunSearch: checks the location, writes settings.json
// for a new run or checks it (and records open settings) for a resume, reads the
// committed episodes and restores the agent, writes the run files and removes
// saves no commit adopted.
OpenedRun OpenRunDirectory(const QuantEnv& env, Agent& agent, const SearchConfig& cfg) {
  const fs::path dir = cfg.out_dir;
  const fs::path state_path = dir / "state.json";
  const fs::path settings_path = dir / "settings.json";
  OpenedRun run;
  std::error_code ec;
  CheckRunDirectory(dir, cfg.resume);
  if (!cfg.resume) {
    fs::create_directories(dir, ec);
    if (ec) {
      throw util::IoError(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
    }
    util::WriteFileAtomic(settings_path, cfg.settings.dump(2) + "\n");
    if (cfg.on_open) cfg.on_open(dir);
    agent.Prepare(dir);  // it may keep files here
  } else {
    const json saved = util::ReadJsonFile(settings_path);
    json updated_settings;  // what this resume records, if anything
    if (cfg.resume_settings) {
      updated_settings = cfg.resume_settings(saved);
    } else {
      CheckSameSettings(saved, cfg.settings, cfg.open_settings, settings_path);
      for (const std::string& key : cfg.open_settings) {
        if (cfg.settings.contains(key) && (!saved.contains(key) || saved[key] != cfg.settings[key])) {
          if (updated_settings.is_null()) updated_settings = saved;
          updated_settings[key] = cfg.settings[key];
        }
      }
    }
    if (fs::exists(state_path)) {
      run.result = ReadRun(dir);
      run.agent_file = util::JsonField<std::string>(util::ReadJsonFile(state_path), "agent_file",
                                                    state_path.string());
      // Only the run's own agent saves: a bare "agent-NNNNNN.bin" name in this directory.
      const std::string& f = run.agent_file;
      if (!f.starts_with("agent-") || !f.ends_with(".bin") || f.find('/') != std::string::npos ||
          f.find("..") != std::string::npos) {
        throw util::InputError(fmt::format("{}: agent_file: expected a name agent-NNNNNN.bin, got "
                                           "\"{}\"", state_path.string(), f));
      }
      std::vector<EpisodeRecord>& log = run.result.log;
      if (!log.empty() && log[0].policy.layers.size() != env.num_layers()) {
        throw util::InputError(fmt::format(
            "{}: policies of {} layers, but the model has {}: the log is from another model",
            (dir / "log.jsonl").string(), log[0].policy.layers.size(), env.num_layers()));
      }
      // The log keeps bits only; resumed policies get the layer names fresh ones carry.
      for (EpisodeRecord& r : log) {
        for (size_t i = 0; i < r.policy.layers.size(); ++i) r.policy.layers[i].name = env.layers()[i].name;
      }
      if (cfg.machine && !log.empty() && log.back().machine) {
        const MachineInfo here = cfg.machine();
        if (!log.back().machine->SameKernelPath(here)) {
          run.result.warnings.push_back(fmt::format(
              "warning: --resume: {}: episodes up to {} ran on {}; this machine runs {}: the "
              "continuation is valid but not bit-identical to an uninterrupted run on either",
              dir.string(), log.size(), log.back().machine->Describe(), here.Describe()));
          fmt::print(cfg.progress ? cfg.progress : stderr, "{}\n", run.result.warnings.back());
        }
      }
    }
    // The agent's preparation (it may keep files here), then its saved state.
    if (cfg.on_open) cfg.on_open(dir);
    agent.Prepare(dir);
    if (!run.agent_file.empty()) agent.Load((dir / run.agent_file).string());
    // Recorded once the resume is accepted, so that the next resume goes on with them.
    if (!updated_settings.is_null()) {
      util::WriteFileAtomic(settings_path, updated_settings.dump(2) + "\n");
    }
  }
  util::CheckWritableDestination(state_path);
  for (const auto& [name, contents] : cfg.run_files) util::WriteFileAtomic(dir / name, contents);
  // Agent saves from an interrupted commit that state.json never adopted.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("agent-") && name != run.agent_file) fs::remove(entry.path(), ec);
  }
  return run;
}

// One episode's roll-out: the agent's action per step, the wall, the policy's cost.
EpisodeRecord RollOut(const QuantEnv& env, Agent& agent, int64_t e, Episode& episode) {
  EpisodeRecord rec;
  rec.episode = e;
  std::vector<int> step_bits;
  agent.BeginEpisode(e);
  double prev = 0.0;
  for (int64_t t = 0; t < env.num_steps(); ++t) {
    episode.states.push_back(env.State(t, prev, step_bits));
    const double a = agent.Act(episode.states.back());
    step_bits.push_back(env.ActionToBits(a));
    prev = a;
  }
  const hw::Policy proposed = env.PolicyFromStepBits(step_bits);
  rec.policy = env.EnforceBudget(proposed);
  rec.walled = env.StepBits(rec.policy) != env.StepBits(proposed);
  for (int bits : env.StepBits(rec.policy)) episode.actions.push_back(env.BitsToAction(bits));
  rec.cost = env.Cost(rec.policy);
  rec.cost_ratio = rec.cost / env.uniform8_cost();
  return rec;
}

}  // namespace

SearchResult RunSearch(const QuantEnv& env, Agent& agent, const PolicyEvaluator& evaluate,
                       const SearchConfig& cfg) {
  const fs::path dir = cfg.out_dir;
  const fs::path state_path = dir / "state.json";
  OpenedRun run = OpenRunDirectory(env, agent, cfg);
  SearchResult& result = run.result;
  std::string& agent_file = run.agent_file;
  std::error_code ec;

  const auto run_start = std::chrono::steady_clock::now();
  const int64_t first = static_cast<int64_t>(result.log.size());
  const int64_t k = std::max<int64_t>(1, cfg.parallel);
  const int64_t block = agent.BlockLength();
  const BatchEvaluator evaluate_batch = cfg.evaluate_batch ? cfg.evaluate_batch : OneByOne(evaluate);
  for (int64_t e = first; e < cfg.episodes;) {
    // This round: [e, end), aligned to multiples of k from its block's start.
    const int64_t block_start = block > 0 ? e - e % block : 0;
    int64_t end = block_start + (e - block_start) / k * k + k;
    if (block > 0) end = std::min(end, block_start + block);
    end = std::min(end, cfg.episodes);
    const auto t0 = std::chrono::steady_clock::now();
    const size_t n = static_cast<size_t>(end - e);
    std::vector<Episode> episodes(n);
    std::vector<EpisodeRecord> recs(n);
    for (size_t i = 0; i < n; ++i) {
      const auto t_act = std::chrono::steady_clock::now();
      recs[i] = RollOut(env, agent, e + static_cast<int64_t>(i), episodes[i]);
      if (cfg.machine) recs[i].machine = cfg.machine();
      recs[i].act_seconds = util::SecondsSince(t_act);
    }

    std::vector<EvalTask> tasks;
    for (const EpisodeRecord& r : recs) tasks.push_back({r.episode, r.policy});
    const std::vector<EvalOutcome> outcomes = evaluate_batch(tasks);
    if (outcomes.size() != n) {
      throw std::logic_error(fmt::format("RunSearch: {} outcomes for {} policies", outcomes.size(), n));
    }

    bool improved = false;
    for (size_t i = 0; i < n; ++i) {
      EpisodeRecord& rec = recs[i];
      rec.accuracy = outcomes[i].accuracy;
      rec.finetune_seconds = outcomes[i].finetune_seconds;
      rec.eval_seconds = outcomes[i].eval_seconds;
      if (outcomes[i].machine) rec.machine = outcomes[i].machine;
      rec.reward = 0.1 * (rec.accuracy - cfg.fp_accuracy);
      episodes[i].reward = rec.reward;
      episodes[i].index = rec.episode;

      const auto t_update = std::chrono::steady_clock::now();
      agent.EndEpisode(episodes[i]);
      rec.update_seconds = util::SecondsSince(t_update);

      if (result.best < 0 || rec.reward > result.log[static_cast<size_t>(result.best)].reward) {
        result.best = rec.episode;
        improved = true;
      }
      rec.best_episode = result.best;
      result.log.push_back(rec);
    }

    // Commit: log, agent, best policy, then state.json (the commit point).
    const auto t_commit = std::chrono::steady_clock::now();
    const std::string new_agent = AgentFile(end);
    agent.Save((dir / new_agent).string());
    if (improved) {
      hw::Policy best = result.log[static_cast<size_t>(result.best)].policy;
      util::WriteFileAtomic(dir / "best_policy.json",
                            hw::PolicyToJson(best, cfg.settings.value("model", ""),
                                             cfg.settings.value("hardware", "")));
    }
    // The round's commit and wall time, shared by its episodes.
    const double commit_seconds = util::SecondsSince(t_commit);
    const double round_seconds = util::SecondsSince(t0);
    for (size_t i = 0; i < n; ++i) {
      EpisodeRecord& r = result.log[static_cast<size_t>(e) + i];
      r.checkpoint_seconds = commit_seconds / static_cast<double>(n);
      r.seconds = round_seconds / static_cast<double>(n);
    }
    WriteLog(dir, result.log);
    util::WriteFileAtomic(state_path, json{{"format", kStateFormat},
                                           {"episodes_done", end},
                                           {"agent_file", new_agent},
                                           {"best_episode", result.best}}
                                          .dump(2) +
                                          "\n");
    if (!agent_file.empty()) fs::remove(dir / agent_file, ec);
    agent_file = new_agent;

    for (int64_t d = e; d < end; ++d) {
      const EpisodeRecord& r = result.log[static_cast<size_t>(d)];
      const EpisodeRecord& b = result.log[static_cast<size_t>(r.best_episode)];
      if (cfg.progress) {
        const double per = util::SecondsSince(run_start) / static_cast<double>(end - first);
        fmt::print(cfg.progress,
                   "episode {}/{}  reward {:+.4f}  acc {:.2f}%  {} {:.3f}x{}  best {:+.4f} (ep {}, "
                   "acc {:.2f}%, {:.3f}x)  {:.1f}s  ETA {}\n",
                   d + 1, cfg.episodes, r.reward, r.accuracy, MetricName(env.budget_spec().metric),
                   r.cost_ratio, r.walled ? " (wall)" : "", b.reward, b.episode + 1, b.accuracy,
                   b.cost_ratio, r.seconds,
                   util::FormatDuration(per * static_cast<double>(cfg.episodes - d - 1)));
        std::fflush(cfg.progress);
      }
    }
    e = end;
    for (int64_t d = e - static_cast<int64_t>(n); d < e; ++d) {
      if (cfg.after_episode) cfg.after_episode(result.log[static_cast<size_t>(d)]);
    }
  }
  return result;
}

}  // namespace haq::search
