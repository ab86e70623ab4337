#pragma once
/// A Pareto sweep (`haq sweep`): one search run per budget of --budgets, each a
/// whole run in the sweep's directory (DIR/<metric>-<amount>/: resumable, with its
/// own final stage, summary.json and report), then the uniform policies b_min..b_max
/// given the same final fine-tunes, and DIR/front.json (front.h) comparing the two.
/// What does not depend on the budget is computed once and shared through DIR: the
/// ILP's sensitivity table, the greedy strategy's probes and every final fine-tune
/// (finetunes.h; the uniform baseline of one budget is often another's). The header
/// keeps LibTorch out.
///
/// DIR/settings.json holds the runs' settings (the budget: the first of the sweep),
/// DIR/sweep.json {"version": 1, "budgets": [...]} the budgets.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "search/front.h"
#include "search/run.h"
#include "search/run_settings.h"

namespace haq::search {

inline constexpr const char* kSweepFile = "sweep.json";
inline constexpr const char* kFrontFile = "front.json";

/// The budgets of the sweep in `dir` (its sweep.json); util::InputError naming the
/// file when it is missing (`dir` is not a sweep) or malformed.
std::vector<std::string> ReadSweepBudgets(const std::filesystem::path& dir);

struct SweepOutcome {
  SweepFront front;
  std::vector<RunSummary> runs;  ///< by budget
};

/// A new sweep in `dir` (resume false: `dir` absent or empty) or the continuation of
/// the one there (`settings` from SettingsForResume on `dir`, `budgets` its own):
/// the runs not finished are resumed or started, finished ones are read (or, when a
/// resume changed a setting a resume may change, given their final stage again),
/// and front.json is written. `streams.progress` gets a line as each run starts
/// and ends, with the sweep's ETA.
SweepOutcome RunSweep(const RunSettings& settings, const std::vector<std::string>& budgets,
                      const std::filesystem::path& dir, bool resume, const RunStreams& streams);

}  // namespace haq::search
