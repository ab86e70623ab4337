#pragma once
/// The search's policy evaluator on a real network: apply the policy with a shared
/// QuantContext (activation statistics and quantized weights computed once per
/// (layer, bits)), fine-tune a clone briefly if asked, and measure top-1 on the
/// reward set (held-out training images, never the test set).
#include <memory>

#include "data/dataset.h"
#include "data/loader.h"
#include "graph/network.h"
#include "quant/context.h"
#include "search/search.h"
#include "train/quantized.h"

namespace haq::search {

struct ModelEvalOptions {
  train::FineTuneOptions finetune;  ///< steps 0: no fine-tuning
  int64_t finetune_batch = 64;
  data::Augment finetune_augment{};
  int64_t eval_batch = 500;
  /// Seed of the fine-tuning order (the same order every episode, so an episode's
  /// result depends only on its policy).
  uint64_t seed = 0;
};

class ModelEvaluator {
 public:
  /// `net` and `context` (with activation statistics collected) must outlive this.
  ModelEvaluator(const graph::Network& net, std::shared_ptr<quant::QuantContext> context,
                 data::Dataset reward, data::Dataset tune, ModelEvalOptions options);
  EvalOutcome operator()(const hw::Policy& policy);
  /// Top-1 of the full-precision network on the reward set.
  double FullPrecisionAccuracy();

 private:
  const graph::Network& net_;
  std::shared_ptr<quant::QuantContext> context_;
  data::Dataset reward_, tune_;
  ModelEvalOptions options_;
};

}  // namespace haq::search
