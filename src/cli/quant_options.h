#pragma once
/// Quantization flags shared by `haq eval`, `haq quantize` (and the search): which
/// policy, which quantizer, calibration and fine-tuning.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "cli/data_options.h"
#include "hw/policy.h"
#include "quant/context.h"
#include "train/model_io.h"
#include "train/quantized.h"

namespace haq::cli {

struct QuantCliOptions {
  std::string policy;    ///< policy JSON path
  int bits = 0;          ///< uniform bits (0: not given)
  int act_bits = -1;     ///< uniform activation bits; -1: = bits (linear) or 0 (k-means)
  bool kmeans = false;
  bool per_channel = false;
  int kl_below_bits = 5;
  int64_t calib_batches = 4;
  int64_t finetune_steps = 0;
  double finetune_lr = 1e-3;
  bool finetune_cosine = false;
  int64_t finetune_batch = 64;
  std::string finetune_augment = "none";
  uint64_t seed = 0;
};

/// `finetune`: also the fine-tuning flags.
void AddQuantOptions(CLI::App& app, QuantCliOptions& o, bool finetune);

/// True when --policy or --bits was given.
bool WantsQuantization(const QuantCliOptions& o);

/// The requested policy for `net` (checked against its layers).
hw::Policy RequestedPolicy(const QuantCliOptions& o, const graph::Network& net);

/// Applies the requested policy to `net`: activation statistics from `calib_batches`
/// batches of the held-out training images (never the evaluation data), then the
/// requested fine-tuning on the training split. The result refers to `net`.
train::QuantizedModel QuantizeFromFlags(const graph::Network& net, const QuantCliOptions& o,
                                        const DataOptions& data, std::FILE* progress);

/// What `haq eval` and `haq export` run: the requested policy (QuantizeFromFlags) when
/// --policy or --bits is given, else the quantization saved in `m`'s checkpoint
/// (HookFromCheckpoint), else none (hook null). The result refers to `m.net`.
/// `description` receives "quantized (...)" or "full precision".
train::QuantizedModel ModelQuantization(const train::LoadedModel& m, const QuantCliOptions& o,
                                        const DataOptions& data, std::FILE* progress,
                                        std::string& description);

/// Bits of all layer weights under `policy` (model size).
int64_t PolicyWeightBits(const graph::Network& net, const hw::Policy& policy);

/// One line describing a policy's cost on hardware `hw_name` ("" = none: "").
std::string CostSummary(const graph::Network& net, const hw::Policy& policy,
                        const std::string& hw_name);

}  // namespace haq::cli
