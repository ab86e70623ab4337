// haq search: flags made from the run settings table (search/run_settings.h), the
// run itself from the library (search/run.h), and the printing of its results.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "hw/cost_table.h"
#include "report/layer_table.h"
#include "search/run.h"
#include "search/run_settings.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/stats.h"

namespace haq::cli {

namespace {

namespace fs = std::filesystem;

struct SearchCliOptions {
  search::RunSettings settings;
  std::string out;
  std::string resume;
};

double Minutes(std::chrono::steady_clock::time_point t0) {
  return util::SecondsSince(t0) / 60.0;
}

// With restarts: each search's best, by reward as in the run.
void PrintRestarts(const search::SearchResult& result, const search::RunSettings& s) {
  if (s.restarts == 1) return;
  fmt::print("\nrestarts (the run's best is the best of these by reward):\n{:>8} {:>6} {:>13} "
             "{:>10} {:>17} {:>9}\n",
             "restart", "seed", "best episode", "reward", "reward-set top-1", "x 8-bit");
  for (const search::RestartRow& r : search::RestartBests(result.log, s.episodes_per_restart(), s.seed)) {
    fmt::print("{:>8} {:>6} {:>13} {:>+10.4f} {:>16.2f}% {:>9.3f}{}\n", r.restart + 1, r.seed,
               r.best_episode + 1, r.best_reward, r.best_reward_accuracy,
               result.log[static_cast<size_t>(r.best_episode)].cost_ratio,
               r.best_episode == result.best ? "  (best)" : "");
  }
  std::fflush(stdout);  // before the final stage's long quiet stretch
}

void PrintResults(const search::RunOutcome& r, const search::RunSettings& s) {
  const search::RunSummary& sum = r.summary;
  const int64_t final_episode = sum.final_episode.value_or(sum.best_episode);
  if (!sum.final_candidates.empty()) {
    fmt::print("\nfinal candidates, reward-set top-1 after the search's fine-tune -> after the "
               "final fine-tune:\n");
    for (size_t k = 0; k < sum.final_candidates.size(); ++k) {
      const search::CandidateRow& c = sum.final_candidates[k];
      fmt::print("{:>3}. episode {:<6} {:6.2f}% -> {:6.2f}%{}\n", k + 1, c.episode + 1,
                 c.reward_accuracy, c.reward_accuracy_finetuned,
                 c.episode == final_episode ? "  (chosen)" : "");
    }
  }

  // Per-layer table of the policy delivered.
  const search::EpisodeRecord& best = r.search.log.at(static_cast<size_t>(final_episode));
  fmt::print("\n{} policy (episode {}, reward-set top-1 {:.2f}%):\n",
             sum.final_candidates.empty() ? "best" : "chosen", best.episode + 1, best.accuracy);
  fmt::print("{}", report::LayerTable(r.layers, best.policy, hw::SumPolicy(r.table, best.policy),
                                      report::LayerTableStyle::kSearch));
  fmt::print("\n{:<40} {:>12} {:>8} {:>12} {:>16}\n", "policy", sum.unit, "x 8-bit", "test top-1",
             "after FT");
  for (const search::FinalRow& f : sum.rows) {
    const std::string after = f.test_top1_finetuned_seeds.empty()
                                  ? fmt::format("{:.2f}", f.test_top1_finetuned)
                                  : util::MeanSpread(f.test_top1_finetuned_seeds);
    fmt::print("{:<40} {:>12.4f} {:>8.3f} {:>11.2f}% {:>15}%\n", f.label, f.cost_in_unit,
               f.cost_ratio, f.test_top1, after);
  }
  fmt::print("(final fine-tune: {} steps of batch {}, lr {} cosine; {}{})\n",
             s.final_finetune_steps, search::kFinetuneBatch, s.final_finetune_lr,
             s.test_images == 0
                 ? std::string("full precision test top-1 as in the checkpoint")
                 : fmt::format("test top-1 on the first {} of the {} test images", sum.test_images,
                               r.test_set_images),
             sum.final_seeds.size() > 1
                 ? fmt::format("; after FT: mean ± population std over {} seeds",
                               sum.final_seeds.size())
                 : "");
  // The same rows against each further budget (--budget given several times).
  for (size_t k = 0; k < sum.rows.front().other_budgets.size(); ++k) {
    const search::BudgetCost& b0 = sum.rows.front().other_budgets[k];
    fmt::print("{:<40} {:>12} {:>8}  (budget {}: {:.4g} {})\n", "", b0.unit, "x 8-bit", b0.budget,
               b0.limit_in_unit, b0.unit);
    for (const search::FinalRow& f : sum.rows) {
      const search::BudgetCost& b = f.other_budgets.at(k);
      fmt::print("{:<40} {:>12.4f} {:>8.3f}  {}\n", f.label, b.cost_in_unit, b.cost_ratio,
                 b.cost_in_unit <= b.limit_in_unit ? "within" : "over");
    }
  }
  if (sum.searched_minus_uniform) {
    const std::vector<double>& d = sum.searched_minus_uniform->per_seed;
    fmt::print("searched - uniform {}-bit after the final fine-tune: {} points{}\n", r.uniform_bits,
               util::MeanSpread(d), d.size() > 1 ? fmt::format(" ({} seeds, paired)", d.size()) : "");
  }
}

void RunSearchCommand(const SearchCliOptions& o, const CLI::App& app) {
  const auto t_start = std::chrono::steady_clock::now();
  const bool resume = !o.resume.empty();
  search::RunSettings s = o.settings;
  if (resume) {
    // The run's settings; each flag given is taken or refused (ResumeSettings).
    s = search::SettingsForResume(o.resume, o.settings, GivenRunKeys(app));
  } else if (o.out.empty()) {
    throw util::InputError("expected --out DIR (a new run) or --resume DIR (continue a run)");
  }
  const fs::path dir = resume ? o.resume : o.out;
  search::RunStreams streams;
  streams.after_search = [&s](const search::SearchResult& result) { PrintRestarts(result, s); };
  const search::RunOutcome outcome = search::RunJob(s, dir, resume, streams);
  PrintResults(outcome, s);
  fmt::print("wrote {}/final_policy.json, best_model.pt, summary.json, best_policy.json, log.jsonl "
             "({:.1f} min in all)\n",
             dir.string(), Minutes(t_start));
}

}  // namespace

Action RegisterSearch(CLI::App& app) {
  auto o = std::make_shared<SearchCliOptions>();
  AddRunFlags(app, o->settings);
  auto* out = app.add_option("--out", o->out, "New run directory (must not exist or be empty)");
  app.add_option("--resume", o->resume, "Continue the run in this directory with its settings")
      ->excludes(out);
  app.footer(
      "Examples:\n"
      "  haq search --model mobilenet_v2_fmnist --hw bismo-edge --budget latency=0.6 --out runs/edge\n"
      "  haq search --resume runs/edge\n"
      "  haq search --budget latency=3bit --budget-state --restarts 3 --episodes 150 --out runs/r3\n"
      "  haq search --hw bitfusion --budget energy=0.5 --agent random --episodes 100 --out runs/rnd\n"
      "  haq search --budget size=0.25 --out runs/size   # k-means, weights only\n"
      "  haq search --budget latency=4bit --agent ilp --episodes 16 --final-candidates 4 --out runs/ilp\n"
      "  haq search --budget latency=0.4 --budget energy=3bit@bitfusion --agent ilp --out runs/two\n"
      "  haq search --budget latency=3bit --agent greedy --out runs/greedy\n"
      "On --resume, --episodes, --restarts, --final-candidates, --final-seeds and --test-images may\n"
      "change (and are recorded); any other flag must repeat the run's value or is refused.");
  CLI::App* self = &app;
  return [o, self] { RunSearchCommand(*o, *self); };
}

}  // namespace haq::cli
