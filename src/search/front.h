#pragma once
/// What a Pareto sweep (`haq sweep`, sweep.h) delivers, as its front.json holds it:
/// for each budget the delivered policy's cost and test top-1 after the final
/// fine-tune (per seed), and the uniform policies b_min..b_max after the same
/// fine-tunes: the line a searched point is judged against. Also the parsing of
/// --budgets. No LibTorch.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace haq::search {

/// `--budgets METRIC=A1,A2,...`: the budget of each run of a sweep
/// ("latency=0.3", "latency=4bit", ...), each amount as --budget takes it. Throws
/// util::InputError naming the flag and the position for a malformed or repeated
/// entry, or fewer than two.
std::vector<std::string> ParseSweepBudgets(const std::string& text,
                                           const std::string& flag = "--budgets");

/// The directory of a sweep's run at `budget` ("latency=0.3" -> "latency-0.3").
std::string SweepRunName(const std::string& budget);

struct FrontPoint {
  std::string budget;  ///< as the run was given it
  std::string run;     ///< its directory in the sweep's
  double cost_ratio = 0.0;        ///< the delivered policy's cost / uniform 8-bit's
  double test_top1 = 0.0;         ///< after the final fine-tune: the mean over seeds
  std::vector<double> seeds;      ///< per fine-tune seed
  /// The run's own paired difference against its uniform baseline (mean over seeds).
  std::optional<double> minus_uniform;
  /// test_top1 minus the uniform line at cost_ratio (absent outside the line's span).
  std::optional<double> above_line;
};

struct UniformPoint {
  int bits = 8;
  double cost_ratio = 0.0;
  double test_top1 = 0.0;  ///< after the final fine-tune: the mean over seeds
  std::vector<double> seeds;
};

struct SweepFront {
  std::string model;
  std::string hardware;
  std::string metric;  ///< "latency", "energy", "size"
  std::vector<uint64_t> final_seeds;
  int64_t final_finetune_steps = 0;
  std::vector<FrontPoint> points;    ///< in the order of --budgets
  std::vector<UniformPoint> uniform;  ///< by bits, increasing

  /// How many points lie above the uniform line (`above`), of those within its span
  /// (`spanned`).
  struct LineCount {
    int above = 0;
    int spanned = 0;
  };
  LineCount AboveLine() const;

  nlohmann::json ToJson() const;
  /// Reads front.json (`where` names it); util::InputError naming the field.
  static SweepFront FromJson(const nlohmann::json& j, const std::string& where);
};

/// The uniform line at `cost_ratio`: linear between the two uniform points whose
/// costs enclose it (points sorted by cost); nullopt outside their span.
std::optional<double> UniformLineAt(const std::vector<UniformPoint>& uniform, double cost_ratio);

}  // namespace haq::search
