#include "search/sweep.h"

#include <fmt/format.h>

#include <chrono>

#include "quant/sensitivity.h"
#include "search/final_stage.h"
#include "search/finetunes.h"
#include "search/greedy.h"
#include "search/ilp.h"
#include "search/mckp.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"
#include "util/progress.h"
#include "util/stats.h"

namespace haq::search {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The files of a run that do not depend on its budget, shared through the sweep's
// directory (the fine-tune records are merged, not copied).
constexpr const char* kSharedFiles[] = {quant::kSensitivityFile, kProbesFile};

void CopyMissing(const fs::path& from_dir, const fs::path& to_dir) {
  for (const char* name : kSharedFiles) {
    if (fs::exists(from_dir / name) && !fs::exists(to_dir / name)) {
      util::WriteFileAtomic(to_dir / name, util::ReadFile(from_dir / name));
    }
  }
}

RunSettings AtBudget(RunSettings s, const std::string& budget) {
  s.budget = budget;
  return s;
}

FrontPoint PointOf(const std::string& budget, const RunSummary& sum) {
  const FinalRow& r = sum.rows.at(2);
  FrontPoint p;
  p.budget = budget;
  p.run = SweepRunName(budget);
  p.cost_ratio = r.cost_ratio;
  p.test_top1 = r.test_top1_finetuned;
  p.seeds = r.test_top1_finetuned_seeds.empty() ? std::vector<double>{r.test_top1}
                                                : r.test_top1_finetuned_seeds;
  if (sum.searched_minus_uniform) p.minus_uniform = sum.searched_minus_uniform->mean;
  return p;
}

// The run at `budget` in `sub`: read when finished with these settings, else run
// (started or resumed) with the sweep's shared files placed in it first.
RunSummary SweepRun(const RunSettings& s, const fs::path& dir, const fs::path& sub,
                    const RunStreams& streams) {
  const bool started = fs::exists(sub / "settings.json");
  if (started && fs::exists(sub / "summary.json") && ReadRunSettings(sub).ToJson() == s.ToJson()) {
    const fs::path path = sub / "summary.json";
    return RunSummary::FromJson(util::ReadJsonFile(path), path.string());
  }
  const json key = FineTuneKey(s);
  RunStreams st = streams;
  st.on_open = [&dir, &key](const fs::path& run_dir) {
    CopyMissing(dir, run_dir);
    FineTuneRecords(run_dir / kFineTunesFile, key).Merge(FineTuneRecords(dir / kFineTunesFile, key));
  };
  const RunSettings run_settings = started ? SettingsForResume(sub, s, RunKeys()) : s;
  RunOutcome out = RunJob(run_settings, sub, started, st);
  CopyMissing(sub, dir);
  FineTuneRecords(dir / kFineTunesFile, key).Merge(FineTuneRecords(sub / kFineTunesFile, key));
  return std::move(out.summary);
}

}  // namespace

std::vector<std::string> ReadSweepBudgets(const fs::path& dir) {
  const fs::path path = dir / kSweepFile;
  if (!fs::exists(path)) {
    throw util::InputError(fmt::format(
        "--resume: {}: not a sweep directory (no {}; a search run resumes with haq search)",
        dir.string(), kSweepFile));
  }
  const json j = util::ReadJsonFile(path);
  const std::string where = path.string();
  if (!j.is_object()) {
    throw util::InputError(fmt::format("{}: expected a JSON object, got {}", where, j.type_name()));
  }
  const auto version = util::JsonField<int64_t>(j, "version", where);
  if (version != 1) {
    throw util::InputError(fmt::format("{}: version: expected 1, got {}", where, version));
  }
  const json& list = util::JsonMember(j, "budgets", where);
  std::vector<std::string> budgets;
  for (size_t i = 0; list.is_array() && i < list.size(); ++i) {
    if (!list[i].is_string()) break;
    budgets.push_back(list[i].get<std::string>());
  }
  if (!list.is_array() || budgets.size() != list.size() || budgets.size() < 2) {
    throw util::InputError(fmt::format(
        "{}: budgets: expected a list of at least two budget strings, got {}", where, list.dump()));
  }
  for (size_t i = 0; i < budgets.size(); ++i) {
    ParseBudget(budgets[i], fmt::format("{}: budgets[{}]", where, i));
  }
  return budgets;
}

SweepOutcome RunSweep(const RunSettings& settings, const std::vector<std::string>& budgets,
                      const fs::path& dir, bool resume, const RunStreams& streams) {
  if (budgets.size() < 2) {
    throw util::InputError(fmt::format("--budgets: expected at least two budgets, got {}", budgets.size()));
  }
  // Every run's settings are checked before any long work.
  std::vector<RunSettings> runs;
  for (const std::string& b : budgets) {
    runs.push_back(AtBudget(settings, b));
    runs.back().Validate();
  }
  CheckRunDirectory(dir, resume);
  // The wiring of the uniform line, built first: a budget no policy meets is refused
  // before the directory is made or any run starts, as a run refuses it.
  RunWiring w(runs.front());
  const QuantEnv& env = w.env();
  for (const std::string& b : budgets) {
    const QuantEnv at(w.layers(), w.table(), ParseBudget(b), env.options());
    SolveChoices(BudgetProblem({&at}, [](size_t, const hw::LayerBits&) { return 0.0; },
                               settings.ilp_time_limit)
                     .problem);
  }
  if (resume) {
    if (ReadSweepBudgets(dir) != budgets) {
      throw util::InputError(fmt::format("--resume: {}: the sweep's budgets are those of its {}",
                                         dir.string(), kSweepFile));
    }
  } else {
    fs::create_directories(dir);
    util::WriteFileAtomic(dir / "settings.json", runs.front().ToJson().dump(2) + "\n");
    util::WriteFileAtomic(dir / kSweepFile, json{{"version", 1}, {"budgets", budgets}}.dump(2) + "\n");
  }

  SweepOutcome out;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < runs.size(); ++i) {
    const fs::path sub = dir / SweepRunName(budgets[i]);
    fmt::print(streams.progress, "sweep: run {}/{} at {} in {}\n", i + 1, runs.size(), budgets[i],
               sub.string());
    std::fflush(streams.progress);
    const auto t0 = std::chrono::steady_clock::now();
    out.runs.push_back(SweepRun(runs[i], dir, sub, streams));
    const double per = util::SecondsSince(start) / static_cast<double>(i + 1);
    fmt::print(streams.progress, "sweep: run {}/{} done in {}: {:.3f}x of 8-bit, test top-1 {:.2f}%; "
               "ETA {}\n",
               i + 1, runs.size(), util::FormatDuration(util::SecondsSince(t0)),
               out.runs.back().rows.at(2).cost_ratio, out.runs.back().rows.at(2).test_top1_finetuned,
               util::FormatDuration(per * static_cast<double>(runs.size() - i - 1)));
    std::fflush(streams.progress);
  }

  // The uniform policies, fine-tuned as the runs' rows were (with the same seeds).
  const RunSettings& s = runs.front();
  std::vector<std::pair<std::string, hw::Policy>> uniform;
  for (int b = s.b_min; b <= s.b_max; ++b) uniform.emplace_back(fmt::format("uniform {}-bit", b), env.Uniform(b));
  const bool finetuned = s.final_finetune_steps > 0;
  std::vector<uint64_t> seeds;
  for (int64_t k = 0; k < (finetuned ? s.final_seeds : 1); ++k) seeds.push_back(s.seed + static_cast<uint64_t>(k));
  fmt::print(streams.progress, "sweep: uniform {}..{}-bit, {} fine-tune{} each\n", s.b_min, s.b_max,
             seeds.size(), seeds.size() == 1 ? "" : "s");
  std::fflush(streams.progress);
  FineTuneRecords records(dir / kFineTunesFile, FineTuneKey(s));
  const auto measured = MeasureFinalFineTunes(w, uniform, seeds, records, streams.notes);

  SweepFront& f = out.front;
  f.model = s.model;
  f.hardware = s.hardware;
  f.metric = MetricName(env.budget_spec().metric);
  f.final_finetune_steps = s.final_finetune_steps;
  if (finetuned) f.final_seeds = seeds;
  for (size_t i = 0; i < uniform.size(); ++i) {
    UniformPoint u;
    u.bits = s.b_min + static_cast<int>(i);
    u.cost_ratio = env.Cost(uniform[i].second) / env.uniform8_cost();
    for (const FineTuneRecord& r : measured[i]) u.seeds.push_back(r.test_top1);
    u.test_top1 = util::Mean(u.seeds);
    f.uniform.push_back(std::move(u));
  }
  for (size_t i = 0; i < budgets.size(); ++i) {
    FrontPoint p = PointOf(budgets[i], out.runs[i]);
    if (const auto line = UniformLineAt(f.uniform, p.cost_ratio)) p.above_line = p.test_top1 - *line;
    f.points.push_back(std::move(p));
  }
  util::WriteFileAtomic(dir / kFrontFile, f.ToJson().dump(2) + "\n");
  return out;
}

}  // namespace haq::search
