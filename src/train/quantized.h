#pragma once
/// A policy applied to a trained network, optionally fine-tuned, and saved: the
/// step `haq quantize`, `haq eval --policy` and the search share.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "data/loader.h"
#include "graph/network.h"
#include "hw/policy.h"
#include "quant/policy_hook.h"
#include "train/checkpoint.h"
#include "train/sgd.h"

namespace haq::train {

struct FineTuneOptions {
  int64_t steps = 0;  ///< batches; 0: no fine-tuning
  double lr = 1e-3;   ///< constant (HAQ's search), or the peak of a cosine schedule
  bool cosine = false;
  /// Run the batches in channels-last memory format (about 1.4x faster training of
  /// the MobileNet-style networks with oneDNN here; results differ from NCHW only by
  /// float rounding).
  bool channels_last = true;
  SgdOptions sgd{.momentum = 0.9, .weight_decay = 4e-5, .nesterov = false};
};

struct FineTuneResult {
  int64_t steps = 0;
  int64_t images = 0;
  double loss = 0.0;  ///< mean over the steps
  double top1 = 0.0;  ///< running training top-1, percent
  double seconds = 0.0;
};

/// Trains `net` through `hook` (fake quantization, straight-through estimator;
/// k-means centroids when the policy is k-means) for `options.steps` batches of
/// `loader`, continuing into further epochs (1, 2, ...) as needed. Batch-norm layers
/// run in training mode. `progress` may be nullptr.
FineTuneResult FineTune(graph::Network& net, quant::PolicyHook& hook, data::BatchLoader& loader,
                        const FineTuneOptions& options, std::FILE* progress);

/// A policy applied to a network: the network it runs (the trained one, or a
/// fine-tuned clone owned here) and the hook that quantizes it.
struct QuantizedModel {
  std::unique_ptr<graph::Network> tuned;  ///< null when not fine-tuned
  const graph::Network* net = nullptr;    ///< `tuned`, or the trained network
  std::unique_ptr<quant::PolicyHook> hook;
  FineTuneResult finetune;
};

/// Applies `policy` to `trained` with `context` (whose activation statistics must be
/// collected), then fine-tunes a clone for `options.steps` steps on `loader` if
/// steps > 0 (`loader` may be nullptr when steps == 0). Without fine-tuning the
/// result refers to `trained`, which must outlive it.
QuantizedModel ApplyPolicy(const graph::Network& trained,
                           std::shared_ptr<quant::QuantContext> context, const hw::Policy& policy,
                           data::BatchLoader* loader, const FineTuneOptions& options,
                           std::FILE* progress = nullptr);

/// A checkpoint of a quantized model: its layer weights replaced by their quantized
/// values (so they hold at most 2^b distinct values each), other tensors as trained,
/// and meta["quantization"] recording the method, policy and every clip.
Checkpoint QuantizedCheckpoint(QuantizedModel& q, const std::string& model);

/// The hook that reproduces a saved quantized model (`net` built from `checkpoint`),
/// or nullptr when the checkpoint is not quantized. util::InputError naming `source`
/// and the field for a malformed record.
std::unique_ptr<quant::PolicyHook> HookFromCheckpoint(const graph::Network& net,
                                                      const Checkpoint& checkpoint,
                                                      const std::string& source);

}  // namespace haq::train
