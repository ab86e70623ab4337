#pragma once
/// Batches for training and evaluation: a seeded, resumable order over a set of
/// examples, optional augmentation (random crop after zero padding, random
/// horizontal flip), optional output geometry (zero padding to a larger size,
/// replicating one channel to several) and per-channel normalisation.
///
/// Reproducibility: all randomness comes from std::mt19937_64 generators seeded from
/// (seed, epoch) for the order and (seed, epoch, batch number) for augmentation,
/// drawn on the calling thread (see rng.h). A batch is therefore a function of
/// (data, indices, options, epoch, batch number) alone: the same on every run, at
/// every thread count, and whether the epoch was run from its start or resumed with
/// Seek.
#include <torch/torch.h>

#include <cstdint>
#include <random>

#include "data/dataset.h"

namespace haq::data {

/// Training-time augmentation, applied per image after the output geometry.
struct Augment {
  /// Pad each side with pad_crop zero pixels, then crop a random window of the
  /// image's size (each offset uniform in 0..2*pad_crop): a random shift by up to
  /// pad_crop pixels with zero fill. 0 = off.
  int64_t pad_crop = 0;
  /// Mirror left-right with probability 1/2 (after the crop).
  bool hflip = false;
  /// torchvision's RandomResizedCrop: a window drawn by RandomResizedCropBox on the
  /// stored image, resized to the output size (image_io.h's Resize). Excludes
  /// pad_crop; the output size may be anything (default: the stored size).
  bool random_resized_crop = false;
};

struct LoaderOptions {
  int64_t batch_size = 128;  ///< at least 1
  /// Visit the indices in a fresh seeded order each epoch (else in the given order).
  bool shuffle = false;
  uint64_t seed = 0;
  Augment augment{};
  /// Leave out the last batch of an epoch if it is smaller than batch_size.
  bool drop_last = false;
  /// Output geometry; 0 keeps the dataset's. A larger height/width centres the image
  /// on a canvas of pixel value 0 (extra odd pixel at the bottom/right), before
  /// augmentation and normalisation. out_channels > 1 on a 1-channel dataset copies
  /// the normalised channel; otherwise it must equal the dataset's channel count.
  int64_t out_channels = 0;
  int64_t out_height = 0;
  int64_t out_width = 0;
};

/// One batch.
struct Batch {
  torch::Tensor images;   ///< float32 [B, C, H, W]: (pixel / 255 - mean[c]) / std[c]
  torch::Tensor labels;   ///< int64 [B]
  torch::Tensor indices;  ///< int64 [B]: the dataset rows of the batch, in order
};

/// Iterates over `indices` of a data set in batches, epoch by epoch:
///
///   BatchLoader loader(train, split.first, {.batch_size = 128, .shuffle = true, .seed = 1});
///   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
///     loader.StartEpoch(epoch);
///     for (Batch b; loader.Next(b);) { ... }
///   }
///
/// Each epoch yields every index exactly once (drop_last: all but the last
/// NumExamples() % batch_size, which differ between epochs when shuffling).
/// The loader keeps its own handles to the data set's tensors. It is not
/// thread-safe: one loader per consumer (batch assembly itself uses LibTorch's
/// intra-op threads, with results independent of their number).
class BatchLoader {
 public:
  /// Throws util::InputError for an invalid data set (ValidateDataset), indices that
  /// are not a 1-D integer tensor within 0..N-1, batch_size < 1, pad_crop < 0, an
  /// output size smaller than the images, or an impossible channel count.
  BatchLoader(const Dataset& data, const torch::Tensor& indices, LoaderOptions options);
  /// Over all examples of `data`, 0..N-1.
  BatchLoader(const Dataset& data, LoaderOptions options);

  /// Starts epoch `epoch` (>= 0) at its first batch: the order is reshuffled from
  /// (seed, epoch) when shuffling. The constructor starts epoch 0.
  void StartEpoch(int64_t epoch);
  /// Moves to batch `batch` (0..NumBatches()) of the current epoch, e.g. to resume
  /// an interrupted epoch; the batches that follow are those a full run would give.
  void Seek(int64_t batch);
  /// Fills `batch` with the next batch and returns true, or returns false at the end
  /// of the epoch (leaving `batch` untouched).
  bool Next(Batch& batch);

  /// Batches per epoch.
  int64_t NumBatches() const;
  /// Examples in `indices`.
  int64_t NumExamples() const { return order_.size(0); }
  int64_t epoch() const { return epoch_; }
  /// The batch the next call to Next returns.
  int64_t position() const { return next_batch_; }
  /// Shape of one output image: {C, H, W}.
  std::vector<int64_t> OutputShape() const { return {out_c_, out_h_, out_w_}; }

 private:
  torch::Tensor images_;   // uint8 [R, C, H, W], contiguous
  torch::Tensor rows_;     // int64 [N]: example -> stored image (undefined: the same)
  bool mapped_ = false;    // images_ is a file mapping: release what has been read
  torch::Tensor labels_;   // int64 [N]
  torch::Tensor indices_;  // int64 [M], as given
  torch::Tensor order_;    // int64 [M], this epoch's order
  torch::Tensor scale_;    // float [1, C, 1, 1]: 1 / (255 std)
  torch::Tensor shift_;    // float [1, C, 1, 1]: -mean / std
  LoaderOptions opt_;
  int64_t c_ = 0, h_ = 0, w_ = 0;          // stored image
  int64_t out_c_ = 0, out_h_ = 0, out_w_ = 0;
  int64_t top_ = 0, left_ = 0;              // stored image's place on the output canvas
  int64_t epoch_ = 0;
  int64_t next_batch_ = 0;
};

}  // namespace haq::data
