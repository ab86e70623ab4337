#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "report/report.h"
#include "search/sweep.h"
#include "util/json.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::cli {

namespace {

namespace fs = std::filesystem;

struct ReportOptions {
  std::vector<std::string> runs;
  bool compare = false;
  std::string out;
};

// A sweep directory: the front's report, and each budget's run's own beside it.
void ReportSweep(const fs::path& dir, const std::string& out_flag) {
  const fs::path front_path = dir / search::kFrontFile;
  if (!fs::exists(front_path)) {
    throw util::InputError(fmt::format(
        "{}: the sweep is not finished (no {}); continue it with haq sweep --resume {}",
        dir.string(), search::kFrontFile, dir.string()));
  }
  const search::SweepFront front =
      search::SweepFront::FromJson(util::ReadJsonFile(front_path), front_path.string());
  const fs::path out = out_flag.empty() ? dir / "report.html" : fs::path(out_flag);
  util::CheckWritableDestination(out);
  for (const search::FrontPoint& p : front.points) {
    const report::RunReportData run = report::LoadRun(dir / p.run);
    util::WriteFileAtomic(dir / p.run / "report.html", report::RenderHtml(run));
  }
  util::WriteFileAtomic(out, report::RenderSweepHtml(front));
  fmt::print("wrote {} (the front of {} budgets) and each budget's report.html in its run\n",
             out.string(), front.points.size());
}

void RunReport(const ReportOptions& o) {
  if (!o.compare && o.runs.size() != 1) {
    throw util::InputError(fmt::format(
        "expected one run directory (or --compare with several), got {}", o.runs.size()));
  }
  if (o.compare && o.runs.size() < 2) {
    throw util::InputError(fmt::format("--compare: expected at least 2 run directories, got {}",
                                       o.runs.size()));
  }
  if (!o.compare && fs::exists(fs::path(o.runs.front()) / search::kSweepFile)) {
    ReportSweep(o.runs.front(), o.out);
    return;
  }
  for (const std::string& dir : o.runs) report::CheckRunDirectory(dir);
  const fs::path out = !o.out.empty() ? fs::path(o.out)
                       : o.compare    ? fs::path("compare.html")
                                      : fs::path(o.runs.front()) / "report.html";
  util::CheckWritableDestination(out);  // before any work

  std::vector<report::RunReportData> runs;
  for (const std::string& dir : o.runs) runs.push_back(report::LoadRun(dir));
  if (o.compare) {
    const std::string html = report::RenderCompareHtml(runs);
    util::WriteFileAtomic(out, html);
    fmt::print("{}", report::CompareSummary(runs, out));
  } else {
    util::WriteFileAtomic(out, report::RenderHtml(runs.front()));
    fmt::print("{}", report::TerminalSummary(runs.front(), out));
  }
}

}  // namespace

Action RegisterReport(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  app.add_option("runs", o->runs, "Search run directory (several with --compare)")->required();
  app.add_flag("--compare", o->compare,
               "Compare runs side by side, with every best policy costed on every run's hardware");
  app.add_option("--out", o->out,
                 "HTML file to write (default: RUN_DIR/report.html, or compare.html with --compare)");
  app.footer(
      "Examples:\n"
      "  haq report runs/a                      # writes runs/a/report.html\n"
      "  haq report runs/a --out a.html\n"
      "  haq report --compare runs/edge runs/cloud --out compare.html\n"
      "  haq report runs/front                  # a sweep: the front, and each budget's run");
  return [o] { RunReport(*o); };
}

}  // namespace haq::cli
