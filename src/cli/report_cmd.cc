#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "report/report.h"
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

void RunReport(const ReportOptions& o) {
  if (!o.compare && o.runs.size() != 1) {
    throw util::InputError(fmt::format(
        "expected one run directory (or --compare with several), got {}", o.runs.size()));
  }
  if (o.compare && o.runs.size() < 2) {
    throw util::InputError(fmt::format("--compare: expected at least 2 run directories, got {}",
                                       o.runs.size()));
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
      "  haq report --compare runs/edge runs/cloud --out compare.html");
  return [o] { RunReport(*o); };
}

}  // namespace haq::cli
