#pragma once
/// The bridge from search::ReadRun to the report: header-only because search.h
/// brings in LibTorch (through search/agent.h) and report/*.cc are light sources.
/// Include it from the CLI and tests only.
#include <filesystem>
#include <vector>

#include "report/report.h"
#include "search/search.h"

namespace haq::report {

/// The committed episodes of a run directory, through search::ReadRun.
inline std::vector<Episode> ReadCommittedEpisodes(const std::filesystem::path& dir) {
  std::vector<Episode> out;
  for (const search::EpisodeRecord& r : search::ReadRun(dir).log) {
    out.push_back({r.episode, r.policy, r.cost, r.cost_ratio, r.accuracy, r.reward,
                   r.best_episode, r.walled});
  }
  return out;
}

inline RunReportData LoadRun(const std::filesystem::path& dir) {
  return LoadRun(dir, ReadCommittedEpisodes);
}

}  // namespace haq::report
