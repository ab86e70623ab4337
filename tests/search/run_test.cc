// search::RunJob in-process: a whole run (wiring, episodes, final stage) on the
// shipped Fashion-MNIST model with tiny settings, interrupted and resumed with every
// flag of the run settings table.
#include "search/run.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "search/finetunes.h"
#include "search/greedy.h"
#include "search/ilp.h"
#include "search/run_impl.h"
#include "search/run_settings_values.h"
#include "search/sweep.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/quantized.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::search {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Interrupt {};

// A run small enough to repeat: 4 episodes (2 of them learning), 2 fine-tune steps
// each, 100 reward images, 2-step final fine-tunes measured on 200 test images.
RunSettings Tiny() {
  RunSettings s;
  s.budget = "latency=0.5";
  s.episodes = 4;
  s.warmup = 2;
  s.finetune_steps = 2;
  s.reward_images = 100;
  s.tune_images = 256;
  s.calib_batches = 1;
  s.final_finetune_steps = 2;
  s.test_images = 200;
  s.seed = 3;
  return s;
}

RunStreams Quiet(std::function<void(const EpisodeRecord&)> after = nullptr) {
  static std::FILE* null = std::fopen("/dev/null", "w");
  RunStreams st;
  st.progress = null;
  st.notes = null;
  st.after_episode = std::move(after);
  st.worker_executable = HAQ_BINARY;  // --workers start `haq worker`, not this test program
  return st;
}

// A run of `s` in `dir` interrupted once `stop_after` episodes are committed.
void Interrupted(const RunSettings& s, const fs::path& dir, int64_t stop_after) {
  EXPECT_THROW(RunJob(s, dir, false, Quiet([&](const EpisodeRecord& r) {
                 if (r.episode + 1 == stop_after) throw Interrupt{};
               })),
               Interrupt);
}

class RunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    Interrupted(Tiny(), dir_->path() / "base", 2);
  }
  static void TearDownTestSuite() { delete dir_; }
  // A copy of the base run (interrupted after episode 2) to resume.
  static fs::path CopyOfBase(const std::string& name) {
    const fs::path to = dir_->path() / name;
    fs::copy(dir_->path() / "base", to, fs::copy_options::recursive);
    return to;
  }
  static test::TempDir* dir_;
};
test::TempDir* RunTest::dir_ = nullptr;

// For every parameter of the table: resumed with the flag at another value, the run
// either ends exactly as an uninterrupted run started with that value (parameters a
// resume may change) or is refused with the message naming the flag, before any
// file changes (all others).
TEST_F(RunTest, EveryFlagOnResumeEndsAsTheUninterruptedRunOrIsRefused) {
  const RunSettings base = Tiny();
  for (const RunParam& p : RunParams()) {
    SCOPED_TRACE(p.key);
    RunSettings given = base;
    ASSERT_TRUE(p.Set(given, OtherValue(p, base)));
    std::set<std::string> keys = {p.key};
    // A run that listens for workers with none of its own waits for remote ones.
    if (p.key == "listen") {
      given.workers = 1;
      keys.insert("workers");
    }
    const fs::path dir = CopyOfBase("resume_" + p.key);
    if (p.on_resume == OnResume::kFixed) {
      const std::string before = test::ListDir(dir);
      const std::string message = test::InputErrorOf([&] { SettingsForResume(dir, given, {p.key}); });
      EXPECT_TRUE(message.starts_with("--resume: " + (dir / "settings.json").string() +
                                      ": the run was started with"))
          << message;
      EXPECT_TRUE(message.ends_with("; drop the flag or start a new run")) << message;
      EXPECT_NE(message.find(p.flag), std::string::npos) << message;
      EXPECT_EQ(test::ListDir(dir), before);
      continue;
    }
    const RunSettings resumed = SettingsForResume(dir, given, keys);
    EXPECT_EQ(resumed, given);
    RunJob(resumed, dir, true, Quiet());
    const fs::path whole = dir_->path() / ("whole_" + p.key);
    RunJob(given, whole, false, Quiet());
    EXPECT_EQ(test::SearchRunOutcome(dir), test::SearchRunOutcome(whole));
    // The new value is recorded: a resume without flags goes on with it.
    EXPECT_EQ(ReadRunSettings(dir), given);
  }
}

// RunJob itself holds a resume to the run's settings, whoever calls it.
TEST_F(RunTest, ALibraryResumeWithOtherSettingsIsRefusedBeforeAnyFileChanges) {
  RunSettings s = Tiny();
  s.finetune_lr = 0.002;
  const fs::path dir = CopyOfBase("other");
  const std::string before = test::ListDir(dir);
  EXPECT_EQ(test::InputErrorOf([&] { RunJob(s, dir, true, Quiet()); }),
            "--resume: " + (dir / "settings.json").string() +
                ": the run was started with --finetune-lr 0.001, this command gives 0.002; drop "
                "the flag or start a new run");
  EXPECT_EQ(test::ListDir(dir), before);
}

// The final stage against its parts measured alone on the same wiring: the rows'
// costs and test accuracies, the paired differences, the chosen candidate.
TEST_F(RunTest, TheFinalStageAgreesWithItsPartsMeasuredAlone) {
  RunSettings s = Tiny();
  s.final_candidates = 3;
  s.final_seeds = 2;
  const fs::path dir = CopyOfBase("final");
  const RunOutcome out = RunJob(SettingsForResume(dir, s, {"final_candidates", "final_seeds"}),
                                dir, true, Quiet());
  const RunSummary& sum = out.summary;
  EXPECT_EQ(RunSummary::FromJson(json::parse(util::ReadFile(dir / "summary.json")), "summary.json")
                .ToJson(s.model, s.hardware),
            sum.ToJson(s.model, s.hardware));

  RunWiring w(s);
  const QuantEnv& env = w.env();
  ASSERT_EQ(sum.rows.size(), 3u);
  EXPECT_EQ(sum.rows[0].cost_ratio, 1.0);
  EXPECT_EQ(hw::PolicyToJson(sum.rows[1].policy, "", ""),
            hw::PolicyToJson(env.EnforceBudget(env.Uniform(out.uniform_bits)), "", ""));
  EXPECT_LE(sum.rows[1].cost, env.budget());
  EXPECT_LE(sum.rows[2].cost, env.budget());
  // Before the final fine-tune: each row's policy evaluated alone on the test images.
  RunWiring::Impl& impl = w.impl();
  for (const FinalRow& r : sum.rows) {
    const train::QuantizedModel q = train::ApplyPolicy(impl.model.net, impl.context, r.policy, nullptr, {});
    data::BatchLoader loader = data::MakeLoader(impl.test, kEvalBatch, false, 0);
    EXPECT_EQ(r.test_top1, train::Evaluate(*q.net, loader, q.hook.get()).top1) << r.label;
    EXPECT_EQ(r.cost, env.Cost(r.policy));
  }
  EXPECT_EQ(sum.test_images, 200);
  EXPECT_EQ(sum.final_seeds, (std::vector<uint64_t>{3, 4}));
  ASSERT_TRUE(sum.searched_minus_uniform);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(sum.searched_minus_uniform->per_seed.at(k),
              sum.rows[2].test_top1_finetuned_seeds.at(k) - sum.rows[1].test_top1_finetuned_seeds.at(k));
  }
  EXPECT_EQ(sum.rows[1].test_top1_finetuned,
            (sum.rows[1].test_top1_finetuned_seeds[0] + sum.rows[1].test_top1_finetuned_seeds[1]) / 2);
  // The candidates are the best distinct policies by reward; the one delivered is
  // the first of those best after the final fine-tune.
  const std::vector<int64_t> top = TopDistinctEpisodes(out.search.log, 3);
  ASSERT_EQ(sum.final_candidates.size(), top.size());
  size_t chosen = 0;
  for (size_t k = 0; k < top.size(); ++k) {
    EXPECT_EQ(sum.final_candidates[k].episode, top[k]);
    if (sum.final_candidates[k].reward_accuracy_finetuned >
        sum.final_candidates[chosen].reward_accuracy_finetuned) {
      chosen = k;
    }
  }
  EXPECT_EQ(sum.final_episode, top[chosen]);
  EXPECT_EQ(util::ReadFile(dir / "final_policy.json"),
            hw::PolicyToJson(out.search.log[static_cast<size_t>(top[chosen])].policy, s.model,
                             s.hardware));
}

// --agent ilp through the same loop: the episodes are the solver's candidates in
// order (each within the budget, so the wall never acts), the sensitivity table is
// kept in the run directory, an interrupted run resumes to the uninterrupted one, and
// a table computed for another split is refused, naming the field.
TEST_F(RunTest, AnIlpRunPlaysTheSolversCandidatesAndResumesToTheUninterruptedRun) {
  RunSettings s = Tiny();
  s.agent = "ilp";
  s.episodes = 3;
  s.hessian_images = 64;
  s.hessian_probes = 6;
  const fs::path cut = dir_->path() / "ilp_cut";
  Interrupted(s, cut, 1);
  RunJob(s, cut, true, Quiet());
  const fs::path whole = dir_->path() / "ilp_whole";
  const RunOutcome out = RunJob(s, whole, false, Quiet());
  EXPECT_EQ(test::SearchRunOutcome(cut), test::SearchRunOutcome(whole));
  // The same table (its wall time apart), computed once in the interrupted run.
  auto table_of = [](const fs::path& dir) {
    json j = json::parse(util::ReadFile(dir / quant::kSensitivityFile));
    j.erase("seconds");
    return j;
  };
  EXPECT_TRUE(table_of(cut) == table_of(whole));

  RunWiring w(s);
  std::vector<std::string> names;
  for (const hw::LayerShape& l : w.layers()) names.push_back(l.name);
  const quant::SensitivityTable t = quant::ReadSensitivity(whole / quant::kSensitivityFile, w.SensitivityKey(), names);
  EXPECT_EQ(t.probes, 6);
  const std::vector<PlannedPolicy> plan = PlanIlp(t, {&w.env()}, 3, 60.0);
  ASSERT_EQ(out.search.log.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(hw::PolicyToJson(out.search.log[e].policy, "", ""), hw::PolicyToJson(plan[e].policy, "", ""));
    EXPECT_FALSE(out.search.log[e].walled);
    EXPECT_LE(out.search.log[e].cost, w.env().budget());
  }

  // The same directory's table, as if computed for another split.
  json other = json::parse(util::ReadFile(cut / quant::kSensitivityFile));
  other["computed_for"]["split_seed"] = 7;
  util::WriteFileAtomic(cut / quant::kSensitivityFile, other.dump());
  RunSettings more = s;
  more.episodes = 4;
  EXPECT_EQ(test::InputErrorOf([&] { RunJob(more, cut, true, Quiet()); }),
            (cut / quant::kSensitivityFile).string() +
                ": computed_for.split_seed: the table was computed for 7, this run has 0; delete "
                "the file to compute it afresh");
}

// --agent greedy through the same loop: its probes are kept in the run directory as
// they finish; a run killed during the probes (settings.json and the probes done so
// far, nothing else) resumes to the uninterrupted run, and its one episode plays the
// walk over the probes it measured.
TEST_F(RunTest, AGreedyRunKilledDuringItsProbesResumesToTheUninterruptedRun) {
  RunSettings s = Tiny();
  s.agent = "greedy";
  s.b_min = 6;
  s.budget = "latency=7bit";
  s.finetune_steps = 0;
  const fs::path whole = dir_->path() / "greedy_whole";
  const RunOutcome out = RunJob(s, whole, false, Quiet());
  const fs::path cut = dir_->path() / "greedy_cut";
  fs::create_directories(cut);
  fs::copy_file(whole / "settings.json", cut / "settings.json");
  const std::string probes = util::ReadFile(whole / kProbesFile);
  size_t at = 0;
  for (int i = 0; i < 20; ++i) at = probes.find('\n', at) + 1;
  util::WriteFileAtomic(cut / kProbesFile, probes.substr(0, at));
  RunJob(s, cut, true, Quiet());
  EXPECT_EQ(test::SearchRunOutcome(cut), test::SearchRunOutcome(whole));
  auto accuracies = [](const fs::path& file) {
    std::vector<double> a;
    std::istringstream in(util::ReadFile(file));
    for (std::string line; std::getline(in, line);) a.push_back(json::parse(line)["accuracy"]);
    return a;
  };
  EXPECT_EQ(accuracies(cut / kProbesFile), accuracies(whole / kProbesFile));

  RunWiring w(s);
  const std::vector<Probe> measured = MeasureProbes(w.env(), w.Evaluator(), whole / kProbesFile, nullptr);
  ASSERT_EQ(measured.size(), GreedyProbes(w.env()).size());
  ASSERT_EQ(out.search.log.size(), 1u);
  EXPECT_EQ(hw::PolicyToJson(out.search.log[0].policy, "", ""),
            hw::PolicyToJson(PlanGreedy(measured, w.envs()).policy, "", ""));
  EXPECT_FALSE(out.search.log[0].walled);
}

// Two budgets on two accelerators: every candidate of the ILP meets both (the energy
// one costed on bitfusion's own table), and the uniform baseline is the largest
// width meeting both. Other agents are refused two budgets.
// The digest a worker is admitted by: the same for two builds of one run's settings,
// different for another model or another split of the data (other reward and
// fine-tune images).
TEST_F(RunTest, TheWorkersDigestCoversTheModelAndTheData) {
  const RunSettings s = Tiny();
  const std::string digest = RunWiring(s).Digest();
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_EQ(RunWiring(s).Digest(), digest);
  RunSettings split = s;
  split.split_seed = 1;
  EXPECT_NE(RunWiring(split).Digest(), digest);
  RunSettings model = s;
  model.model = "resnet20_fmnist";
  EXPECT_NE(RunWiring(model).Digest(), digest);
}

TEST_F(RunTest, AnIlpRunMeetsALatencyAndAnEnergyBudgetOnTwoAccelerators) {
  RunSettings s = Tiny();
  s.agent = "ilp";
  s.episodes = 2;
  s.hessian_images = 64;
  s.hessian_probes = 4;
  s.budget = "latency=0.5,energy=3bit@bitfusion";
  const RunOutcome out = RunJob(s, dir_->path() / "two_budgets", false, Quiet());
  RunWiring w(s);
  const std::vector<const QuantEnv*> envs = w.envs();
  ASSERT_EQ(envs.size(), 2u);
  EXPECT_EQ(envs[1]->budget_spec().hardware, "bitfusion");
  ASSERT_EQ(out.search.log.size(), 2u);
  for (const EpisodeRecord& r : out.search.log) {
    EXPECT_LE(envs[0]->Cost(r.policy), envs[0]->budget());
    EXPECT_LE(envs[1]->Cost(r.policy), envs[1]->budget());
  }
  int uniform = s.b_max;
  while (uniform > s.b_min && (envs[0]->Cost(envs[0]->Uniform(uniform)) > envs[0]->budget() ||
                               envs[1]->Cost(envs[1]->Uniform(uniform)) > envs[1]->budget())) {
    --uniform;
  }
  EXPECT_EQ(out.uniform_bits, uniform);
  EXPECT_EQ(out.summary.rows[1].label, fmt::format("uniform {}-bit (largest within budget)", uniform));
  // Every row's cost on the second budget, costed there; the baseline and the
  // searched policy within it.
  for (size_t i = 0; i < out.summary.rows.size(); ++i) {
    const FinalRow& f = out.summary.rows[i];
    ASSERT_EQ(f.other_budgets.size(), 1u);
    const BudgetCost& b = f.other_budgets[0];
    EXPECT_EQ(b.budget, "energy=3bit@bitfusion");
    EXPECT_EQ(b.unit, "mJ");
    EXPECT_EQ(b.cost_in_unit, envs[1]->InUnit(envs[1]->Cost(f.policy)));
    EXPECT_EQ(b.cost_ratio, envs[1]->Cost(f.policy) / envs[1]->uniform8_cost());
    EXPECT_EQ(b.limit_in_unit, envs[1]->InUnit(envs[1]->budget()));
    if (i > 0) {
      EXPECT_LE(b.cost_in_unit, b.limit_in_unit) << f.label;
    }
  }

  RunSettings ddpg = s;
  ddpg.agent = "ddpg";
  EXPECT_EQ(test::InputErrorOf([&] { ddpg.Validate(); }),
            "--budget: 2 budgets need --agent ilp or greedy (the ddpg agent's wall enforces one "
            "budget); expected one budget, got 'latency=0.5,energy=3bit@bitfusion'");
}


// Notes written to a file, for counting what a run did.
class NotesFile {
 public:
  explicit NotesFile(fs::path path) : path_(std::move(path)), file_(std::fopen(path_.c_str(), "w")) {}
  ~NotesFile() { std::fclose(file_); }
  RunStreams Streams(std::function<void(const EpisodeRecord&)> after = nullptr) const {
    RunStreams st = Quiet(std::move(after));
    st.notes = file_;
    return st;
  }
  // The note lines containing `what`, and not `unless` when given.
  size_t Count(const std::string& what, const std::string& unless = "") const {
    std::fflush(file_);
    std::istringstream in(util::ReadFile(path_));
    size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      n += line.find(what) != std::string::npos && (unless.empty() || line.find(unless) == std::string::npos);
    }
    return n;
  }

 private:
  fs::path path_;
  std::FILE* file_;
};

std::vector<std::string> Lines(const fs::path& file) {
  std::vector<std::string> out;
  std::istringstream in(util::ReadFile(file));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The distinct (policy, seed) pairs of `pairs`.
size_t Distinct(const std::vector<std::pair<hw::Policy, uint64_t>>& pairs) {
  std::set<std::pair<std::vector<std::pair<int, int>>, uint64_t>> seen;
  for (const auto& [p, seed] : pairs) seen.insert({PolicyBits(p), seed});
  return seen.size();
}

constexpr const char* kFreshFineTune = "final fine-tune of ";
constexpr const char* kReadFineTune = "read from final_finetunes.jsonl";
constexpr const char* kAgainFineTune = "again for best_model.pt";

// The final stage records each fine-tune as it finishes: one stopped midway (no
// summary, policy or model written yet, only its first two records kept) resumes to
// the uninterrupted final stage, reading those two instead of fine-tuning again (the
// delivered policy's model alone is fine-tuned again, for best_model.pt).
TEST_F(RunTest, AFinalStageStoppedMidwayResumesWithoutRedoingTheFineTunesItRecorded) {
  RunSettings s = Tiny();
  s.final_candidates = 2;
  s.final_seeds = 2;
  const fs::path whole = CopyOfBase("final_whole");
  const RunOutcome out =
      RunJob(SettingsForResume(whole, s, {"final_candidates", "final_seeds"}), whole, true, Quiet());
  const RunSummary& sum = out.summary;
  ASSERT_EQ(sum.final_candidates.size(), 2u);
  std::vector<std::pair<hw::Policy, uint64_t>> tuned;
  for (const CandidateRow& c : sum.final_candidates) {
    tuned.emplace_back(out.search.log[static_cast<size_t>(c.episode)].policy, 3);
  }
  for (uint64_t seed : {3, 4}) tuned.emplace_back(sum.rows[1].policy, seed);
  tuned.emplace_back(sum.rows[2].policy, 4);
  const std::vector<std::string> records = Lines(whole / kFineTunesFile);
  EXPECT_EQ(records.size(), Distinct(tuned));

  const fs::path cut = dir_->path() / "final_cut";
  fs::copy(whole, cut, fs::copy_options::recursive);
  for (const char* f : {"summary.json", "final_policy.json", "best_model.pt"}) fs::remove(cut / f);
  util::WriteFileAtomic(cut / kFineTunesFile, records[0] + "\n" + records[1] + "\n");
  const NotesFile notes(dir_->path() / "final_cut_notes.txt");
  RunJob(ReadRunSettings(cut), cut, true, notes.Streams());
  for (const char* f : {"summary.json", "final_policy.json"}) {
    EXPECT_TRUE(util::ReadFile(cut / f) == util::ReadFile(whole / f)) << f;
  }
  // The same records (their wall times apart) and the same model, tensor for tensor.
  auto without_seconds = [](const fs::path& file) {
    std::vector<json> lines;
    for (const std::string& line : Lines(file)) {
      lines.push_back(json::parse(line));
      lines.back().erase("seconds");
    }
    return lines;
  };
  EXPECT_EQ(without_seconds(cut / kFineTunesFile), without_seconds(whole / kFineTunesFile));
  const train::Checkpoint a = train::LoadCheckpoint(cut / "best_model.pt");
  const train::Checkpoint b = train::LoadCheckpoint(whole / "best_model.pt");
  ASSERT_EQ(a.model_state.size(), b.model_state.size());
  for (const auto& [name, t] : a.model_state) {
    EXPECT_TRUE(torch::equal(t, b.model_state.at(name))) << name;
  }
  EXPECT_EQ(notes.Count(kReadFineTune), 2u);
  EXPECT_EQ(notes.Count(kAgainFineTune), 1u);
  EXPECT_EQ(notes.Count(kFreshFineTune, kReadFineTune), records.size() - 2 + 1);
}

// A sweep: a run per budget, the ILP's sensitivity table computed once and shared,
// no (policy, seed) fine-tuned twice across its runs and its uniform line. Stopped
// in its second run and resumed, it reads the finished first run and finishes the
// second; its front holds each run's delivered policy and the uniform widths.
TEST_F(RunTest, ASweepSharesWhatDoesNotDependOnTheBudgetAndResumes) {
  RunSettings s = Tiny();
  s.agent = "ilp";
  s.episodes = 2;
  s.hessian_images = 64;
  s.hessian_probes = 4;
  s.final_candidates = 2;
  s.final_seeds = 2;
  s.b_min = 3;
  const std::vector<std::string> budgets = {"latency=0.4", "latency=0.6"};
  const fs::path dir = dir_->path() / "sweep";
  const NotesFile notes(dir_->path() / "sweep_notes.txt");
  int committed = 0;
  EXPECT_THROW(RunSweep(s, budgets, dir, false, notes.Streams([&](const EpisodeRecord&) {
                 if (++committed == 3) throw Interrupt{};  // run 2's first episode
               })),
               Interrupt);
  const fs::path run1 = dir / "latency-0.4", run2 = dir / "latency-0.6";
  const std::string run1_summary = util::ReadFile(run1 / "summary.json");
  EXPECT_FALSE(fs::exists(run2 / "summary.json"));
  EXPECT_EQ(test::InputErrorOf([&] {
              RunSweep(s, {"latency=0.4", "latency=0.5"}, dir, true, Quiet());
            }),
            "--resume: " + dir.string() + ": the sweep's budgets are those of its sweep.json");
  const SweepOutcome out = RunSweep(ReadRunSettings(dir), ReadSweepBudgets(dir), dir, true, notes.Streams());
  EXPECT_EQ(util::ReadFile(run1 / "summary.json"), run1_summary);
  EXPECT_EQ(json::parse(util::ReadFile(dir / kFrontFile)), out.front.ToJson());

  // One sensitivity pass: the same table, wall time included, in every run.
  auto seconds_of = [](const fs::path& d) {
    return json::parse(util::ReadFile(d / quant::kSensitivityFile))["seconds"].get<double>();
  };
  EXPECT_EQ(seconds_of(run1), seconds_of(dir));
  EXPECT_EQ(seconds_of(run2), seconds_of(dir));
  // Every fine-tune done once: as many fresh ones as distinct records, and those are
  // the runs' rows and candidates and the uniform widths.
  const std::vector<std::string> records = Lines(dir / kFineTunesFile);
  EXPECT_EQ(notes.Count(kFreshFineTune, kReadFineTune), records.size());
  std::vector<std::pair<hw::Policy, uint64_t>> tuned;
  for (const fs::path& run : {run1, run2}) {
    const RunSummary sum = RunSummary::FromJson(json::parse(util::ReadFile(run / "summary.json")), "summary.json");
    const std::vector<EpisodeRecord> log = ReadRun(run).log;
    for (const CandidateRow& c : sum.final_candidates) tuned.emplace_back(log[static_cast<size_t>(c.episode)].policy, 3);
    for (uint64_t seed : {3, 4}) {
      tuned.emplace_back(sum.rows[1].policy, seed);
      tuned.emplace_back(sum.rows[2].policy, seed);
    }
  }
  RunWiring w(s);
  for (int b = 3; b <= 8; ++b) {
    for (uint64_t seed : {3, 4}) tuned.emplace_back(w.env().Uniform(b), seed);
  }
  EXPECT_EQ(records.size(), Distinct(tuned));

  // The front: each run's delivered policy, and the uniform widths as fine-tuned
  // for the runs' own uniform baselines.
  const SweepFront& f = out.front;
  ASSERT_EQ(f.points.size(), 2u);
  ASSERT_EQ(f.uniform.size(), 6u);
  EXPECT_EQ(f.final_seeds, (std::vector<uint64_t>{3, 4}));
  for (size_t i = 0; i < 2; ++i) {
    const RunSummary& sum = out.runs[i];
    const FrontPoint& p = f.points[i];
    EXPECT_EQ(p.budget, budgets[i]);
    EXPECT_EQ(p.cost_ratio, sum.rows[2].cost_ratio);
    EXPECT_EQ(p.seeds, sum.rows[2].test_top1_finetuned_seeds);
    EXPECT_EQ(p.minus_uniform, sum.searched_minus_uniform->mean);
    int bits = 0;
    ASSERT_EQ(std::sscanf(sum.rows[1].label.c_str(), "uniform %d-bit", &bits), 1);
    const UniformPoint& u = f.uniform.at(static_cast<size_t>(bits - 3));
    EXPECT_EQ(u.bits, bits);
    EXPECT_EQ(u.cost_ratio, sum.rows[1].cost_ratio);
    EXPECT_EQ(u.seeds, sum.rows[1].test_top1_finetuned_seeds);
    const std::optional<double> line = UniformLineAt(f.uniform, p.cost_ratio);
    EXPECT_EQ(p.above_line.has_value(), line.has_value());
    if (line) {
      EXPECT_EQ(*p.above_line, p.test_top1 - *line);
    }
  }
  EXPECT_EQ(f.uniform.back().cost_ratio, 1.0);
  EXPECT_EQ(test::InputErrorOf([&] { ReadSweepBudgets(run1); }),
            "--resume: " + run1.string() + ": not a sweep directory (no sweep.json; a search run "
            "resumes with haq search)");
}

}  // namespace
}  // namespace haq::search
