#pragma once
/// The final fine-tunes a run has measured, kept in its directory as they finish
/// (final_finetunes.jsonl, a line each): a resume of a run stopped in its final
/// stage, and every run of a sweep (sweep.h), reuse them instead of fine-tuning the
/// same policy with the same seed again. A final fine-tune's outcome is decided by
/// the policy, the seed and the settings FineTuneKey keeps; a record is reused only
/// when all three are equal, so a reused outcome is the one a fresh fine-tune on the
/// same machine gives. Records of other keys are kept in the file, not used.
/// No LibTorch.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "hw/policy.h"
#include "search/run_settings.h"

namespace haq::search {

inline constexpr const char* kFineTunesFile = "final_finetunes.jsonl";

/// One final fine-tune and its measures.
struct FineTuneRecord {
  nlohmann::json key;                  ///< FineTuneKey of the run
  std::vector<std::pair<int, int>> bits;  ///< (w_bits, a_bits) per layer
  uint64_t seed = 0;
  double reward_top1 = 0.0;  ///< top-1 on the reward images after it, percent
  double test_top1 = 0.0;    ///< top-1 on the test images after it, percent
  double seconds = 0.0;      ///< its wall time
};

/// The settings that decide a final fine-tune's outcome: every run setting except
/// those that do not (the budget, the agent's episodes and restarts, the final
/// stage's candidate and seed counts).
nlohmann::json FineTuneKey(const RunSettings& s);

/// The (w_bits, a_bits) pairs of `policy`.
std::vector<std::pair<int, int>> PolicyBits(const hw::Policy& policy);

class FineTuneRecords {
 public:
  /// Reads `file` when it exists (util::InputError naming the file, line and field
  /// for a malformed line); records are looked up under `key`.
  FineTuneRecords(std::filesystem::path file, nlohmann::json key);
  /// The record of `policy` fine-tuned with `seed` under this key, if any.
  std::optional<FineTuneRecord> Find(const hw::Policy& policy, uint64_t seed) const;
  /// Adds `r` (its key set to this one's) and rewrites the file atomically.
  void Add(FineTuneRecord r);
  /// Adds the records of `other` this file lacks (any key); rewrites the file when
  /// any were added.
  void Merge(const FineTuneRecords& other);
  const std::vector<FineTuneRecord>& records() const { return records_; }
  const nlohmann::json& key() const { return key_; }

 private:
  void Write() const;
  std::filesystem::path file_;
  nlohmann::json key_;
  std::vector<FineTuneRecord> records_;
};

}  // namespace haq::search
