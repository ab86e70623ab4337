// haq sweep: a Pareto sweep (search/sweep.h): the run flags of haq search, the
// budgets, and the printing of the front.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "search/run.h"
#include "search/sweep.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/stats.h"

namespace haq::cli {

namespace {

namespace fs = std::filesystem;

struct SweepCliOptions {
  search::RunSettings settings;
  std::string budgets;
  std::string out;
  std::string resume;
};

std::string Signed(const std::optional<double>& v) {
  return v ? fmt::format("{:+.2f}", *v) : std::string("-");
}

void PrintFront(const search::SweepFront& f) {
  fmt::print("\n{:<22} {:>8} {:>16} {:>15} {:>16}\n", "policy", "x 8-bit", "after FT",
             "minus uniform", "above the line");
  for (const search::FrontPoint& p : f.points) {
    fmt::print("{:<22} {:>8.3f} {:>15}% {:>15} {:>16}\n", "searched " + p.budget, p.cost_ratio,
               util::MeanSpread(p.seeds), Signed(p.minus_uniform), Signed(p.above_line));
  }
  for (const search::UniformPoint& u : f.uniform) {
    fmt::print("{:<22} {:>8.3f} {:>15}%\n", fmt::format("uniform {}-bit", u.bits), u.cost_ratio,
               util::MeanSpread(u.seeds));
  }
  const auto [above, spanned] = f.AboveLine();
  fmt::print("({} of {} searched points above the line between uniform widths{}; after FT: mean ± "
             "population std over {} fine-tune seed{})\n",
             above, spanned,
             spanned < static_cast<int>(f.points.size()) ? ", the others outside its span" : "",
             f.final_seeds.empty() ? 1 : f.final_seeds.size(), f.final_seeds.size() == 1 ? "" : "s");
}

void RunSweepCommand(const SweepCliOptions& o, const CLI::App& app) {
  const auto t_start = std::chrono::steady_clock::now();
  if (app.count("--budget") > 0) {
    throw util::InputError("--budget: a sweep takes its budgets from --budgets METRIC=A1,A2,...");
  }
  const bool resume = !o.resume.empty();
  search::RunSettings s = o.settings;
  std::vector<std::string> budgets;
  if (resume) {
    budgets = search::ReadSweepBudgets(o.resume);
    if (!o.budgets.empty() && search::ParseSweepBudgets(o.budgets) != budgets) {
      throw util::InputError(fmt::format(
          "--resume: {}: the sweep was started with --budgets {}, this command gives {}; drop the "
          "flag or start a new sweep",
          o.resume, fmt::join(budgets, ","), o.budgets));
    }
    s = search::SettingsForResume(o.resume, o.settings, GivenRunKeys(app));
  } else {
    if (o.out.empty()) {
      throw util::InputError("expected --out DIR (a new sweep) or --resume DIR (continue a sweep)");
    }
    if (o.budgets.empty()) throw util::InputError("--budgets: expected METRIC=A1,A2,... for a new sweep");
    budgets = search::ParseSweepBudgets(o.budgets);
  }
  const fs::path dir = resume ? o.resume : o.out;
  const search::SweepOutcome out = search::RunSweep(s, budgets, dir, resume, search::RunStreams{});
  PrintFront(out.front);
  fmt::print("wrote {}/front.json and a run directory per budget ({:.1f} min in all)\n", dir.string(),
             util::SecondsSince(t_start) / 60.0);
}

}  // namespace

Action RegisterSweep(CLI::App& app) {
  auto o = std::make_shared<SweepCliOptions>();
  AddRunFlags(app, o->settings);
  app.add_option("--budgets", o->budgets,
                 "The budgets, one run each: METRIC=A1,A2,... (each amount as --budget takes it)");
  auto* out = app.add_option("--out", o->out, "New sweep directory (must not exist or be empty)");
  app.add_option("--resume", o->resume, "Continue the sweep in this directory with its settings")
      ->excludes(out);
  app.footer(
      "Examples:\n"
      "  haq sweep --agent ilp --budgets latency=0.3,0.35,0.4,0.45,0.5,0.6,0.7 --final-seeds 3 --out runs/front\n"
      "  haq sweep --resume runs/front\n"
      "  haq report runs/front\n"
      "Every other flag is haq search's and holds for every run; the ILP's sensitivity pass, the\n"
      "greedy probes and every final fine-tune are done once and shared between the runs.");
  CLI::App* self = &app;
  return [o, self] { RunSweepCommand(*o, *self); };
}

}  // namespace haq::cli
