#pragma once
/// Training and evaluation loops for graph Networks.
#include <cstdio>
#include <functional>

#include "data/dataset.h"
#include "data/loader.h"
#include "graph/network.h"
#include "train/sgd.h"

namespace haq::train {

struct EvalResult {
  double top1 = 0.0;  ///< percent
  double top5 = 0.0;  ///< percent
  double loss = 0.0;  ///< mean cross-entropy
  int64_t images = 0;
  double seconds = 0.0;
  double ImagesPerSecond() const { return seconds > 0 ? static_cast<double>(images) / seconds : 0.0; }
};

/// Evaluates `net` in inference mode over one epoch of `loader`. `hook` (optional)
/// applies e.g. fake quantization. `progress` may be nullptr.
EvalResult Evaluate(const graph::Network& net, data::BatchLoader& loader,
                    graph::LayerHook* hook = nullptr, std::FILE* progress = nullptr);

struct TrainOptions {
  int64_t epochs = 10;
  double lr = 0.1;
  double warmup_epochs = 1.0;
  double label_smoothing = 0.0;
};

struct EpochReport {
  int64_t epoch = 0;  ///< 1-based, the epoch just finished
  double lr = 0.0;    ///< at the end of the epoch
  double train_loss = 0.0;
  double train_top1 = 0.0;
  EvalResult val;     ///< empty (images == 0) without a validation loader
  double seconds = 0.0;
  double images_per_second = 0.0;
};

/// Trains epochs start_epoch+1 .. options.epochs (start_epoch > 0 resumes), with a
/// cosine learning-rate schedule stepped per batch. After each epoch it evaluates
/// on `val` (if given) and calls `on_epoch`, where the caller saves a checkpoint.
void Train(graph::Network& net, Sgd& optimizer, data::BatchLoader& train, data::BatchLoader* val,
           const TrainOptions& options, int64_t start_epoch,
           const std::function<void(const EpochReport&)>& on_epoch, std::FILE* progress);

}  // namespace haq::train
