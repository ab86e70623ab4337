#include "search/evaluator.h"

#include "train/trainer.h"

namespace haq::search {

ModelEvaluator::ModelEvaluator(const graph::Network& net,
                               std::shared_ptr<quant::QuantContext> context, data::Dataset reward,
                               data::Dataset tune, ModelEvalOptions options)
    : net_(net), context_(std::move(context)), reward_(std::move(reward)), tune_(std::move(tune)),
      options_(options) {}

namespace {
data::BatchLoader Loader(const data::Dataset& d, int64_t batch, bool shuffle, uint64_t seed,
                         data::Augment augment = {}) {
  data::LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  o.seed = seed;
  o.augment = augment;
  return data::BatchLoader(d, o);
}
}  // namespace

EvalOutcome ModelEvaluator::operator()(const hw::Policy& policy) {
  EvalOutcome out;
  data::BatchLoader tune = Loader(tune_, options_.finetune_batch, true, options_.seed, options_.finetune_augment);
  train::QuantizedModel q = train::ApplyPolicy(net_, context_, policy,
                                               options_.finetune.steps > 0 ? &tune : nullptr,
                                               options_.finetune);
  out.finetune_seconds = q.finetune.seconds;
  data::BatchLoader reward = Loader(reward_, options_.eval_batch, false, 0);
  const train::EvalResult r = train::Evaluate(*q.net, reward, q.hook.get());
  out.accuracy = r.top1;
  out.eval_seconds = r.seconds;
  return out;
}

double ModelEvaluator::FullPrecisionAccuracy() {
  data::BatchLoader reward = Loader(reward_, options_.eval_batch, false, 0);
  return train::Evaluate(net_, reward).top1;
}

}  // namespace haq::search
