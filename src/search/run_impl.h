#pragma once
/// The torch side of RunWiring, for run.cc and final_stage.cc only: never include
/// it from a header.
#include <memory>
#include <optional>

#include "data/dataset.h"
#include "data/options.h"
#include "hw/spec.h"
#include "quant/context.h"
#include "search/evaluator.h"
#include "search/run.h"
#include "train/model_io.h"

namespace haq::search {

struct RunWiring::Impl {
  RunSettings settings;
  hw::HardwareSpec spec;
  train::LoadedModel model;
  std::vector<hw::LayerShape> layers;
  data::SplitData split;  ///< the training split (fine-tunes) and the held-out images
  data::Dataset reward;   ///< the first --reward-images held-out images
  data::Dataset tune;     ///< the first --tune-images of the training split
  data::Dataset test_set;
  data::Dataset test;  ///< the first --test-images of test_set (all when 0)
  hw::CostTable table;
  std::unique_ptr<QuantEnv> env;
  /// The environments of the second and later budgets (ParseBudgets).
  std::vector<std::unique_ptr<QuantEnv>> more_envs;
  std::shared_ptr<quant::QuantContext> context;  ///< calibrated with the run's seed
  std::unique_ptr<ModelEvaluator> evaluator;
  std::optional<double> fp_accuracy;
  BatchEvaluator batch;  ///< the workers' (UseBatchEvaluator), or unset

  /// A context calibrated on the tuning images in the order of `seed` (the run's,
  /// or one of --final-seeds); k-means weights seeded with it too.
  std::shared_ptr<quant::QuantContext> MakeContext(uint64_t seed) const;
};

}  // namespace haq::search
