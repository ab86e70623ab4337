#pragma once
/// The end of a search run: choose the policy to deliver (the best episode, or
/// with --final-candidates K the best of the K best distinct policies after the
/// final fine-tune, judged on the reward images), fine-tune it and the uniform
/// baseline at the budget the same way (--final-seeds K times, seeds seed..seed+K-1,
/// each with a calibration of its own seed), measure everything on the test images,
/// and write best_model.pt, final_policy.json and summary.json (atomically) to the
/// run directory. The test set plays no part in the choice. Every fine-tune is
/// recorded in the run directory as it finishes (finetunes.h), so a run stopped in
/// its final stage resumes without redoing the ones done.
#include <cstdio>
#include <filesystem>

#include "search/finetunes.h"
#include "search/run.h"
#include "search/summary.h"

namespace haq::search {

/// `result` is the finished search over `w`'s environment; `notes` gets a line
/// per final fine-tune. Returns what summary.json now holds.
RunSummary FinalStage(RunWiring& w, const SearchResult& result, const std::filesystem::path& dir,
                      std::FILE* notes);

/// The final fine-tune of each of `policies` (labelled, for the notes) with each of
/// `seeds`, as FinalStage fine-tunes its rows, measured on the reward and the test
/// images: read from `records` when they hold it, else fine-tuned and added.
/// Returns the records by policy, then by seed.
std::vector<std::vector<FineTuneRecord>> MeasureFinalFineTunes(
    RunWiring& w, const std::vector<std::pair<std::string, hw::Policy>>& policies,
    const std::vector<uint64_t>& seeds, FineTuneRecords& records, std::FILE* notes);

}  // namespace haq::search
