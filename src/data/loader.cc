#include "data/loader.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "data/image_cache.h"
#include "data/image_io.h"
#include "data/rng.h"
#include "util/error.h"

namespace haq::data {

using util::InputError;

namespace {
// Stream tags keep the order and augmentation generators unrelated.
constexpr uint64_t kOrderStream = 0x6f72646572;  // "order"
constexpr uint64_t kAugmentStream = 0x6175676d;  // "augm"
}  // namespace

BatchLoader::BatchLoader(const Dataset& data, const torch::Tensor& indices,
                         LoaderOptions options)
    : opt_(options) {
  ValidateDataset(data);
  const std::string where = "BatchLoader for " + data.name;
  indices_ = CheckedIndices(data, indices, "loader indices");
  if (opt_.batch_size < 1) {
    throw InputError(fmt::format("{}: batch_size: expected at least 1, got {}", where, opt_.batch_size));
  }
  if (opt_.augment.pad_crop < 0) {
    throw InputError(
        fmt::format("{}: augment.pad_crop: expected at least 0, got {}", where, opt_.augment.pad_crop));
  }
  if (opt_.augment.random_resized_crop && opt_.augment.pad_crop > 0) {
    throw InputError(fmt::format("{}: augment: random_resized_crop excludes pad_crop ({})", where,
                                 opt_.augment.pad_crop));
  }
  images_ = data.images.contiguous();
  mapped_ = data.mapped;
  if (data.rows.defined()) rows_ = data.rows.contiguous();
  labels_ = data.labels.contiguous();
  c_ = images_.size(1);
  h_ = images_.size(2);
  w_ = images_.size(3);

  auto size = [&](int64_t want, int64_t stored, const char* field, const char* what) {
    if (want == 0) return stored;
    if (want < stored && !opt_.augment.random_resized_crop) {
      throw InputError(fmt::format("{}: {}: expected 0 (keep) or at least the image {} {}, got {}", where,
                                   field, what, stored, want));
    }
    return want;
  };
  out_h_ = size(opt_.out_height, h_, "out_height", "height");
  out_w_ = size(opt_.out_width, w_, "out_width", "width");
  top_ = (out_h_ - h_) / 2;
  left_ = (out_w_ - w_) / 2;
  out_c_ = opt_.out_channels == 0 ? c_ : opt_.out_channels;
  if (c_ == 1 ? out_c_ < 1 : out_c_ != c_) {
    throw InputError(fmt::format(
        "{}: out_channels: expected 0 (keep) or {}, got {}", where,
        c_ == 1 ? std::string("at least 1 (copies of the one channel)")
                : fmt::format("{} (the images' channels)", c_),
        opt_.out_channels));
  }

  std::vector<float> scale(static_cast<size_t>(c_)), shift(static_cast<size_t>(c_));
  for (size_t i = 0; i < scale.size(); ++i) {
    scale[i] = static_cast<float>(1.0 / (255.0 * data.std[i]));
    shift[i] = static_cast<float>(-data.mean[i] / data.std[i]);
  }
  scale_ = torch::tensor(scale).view({1, c_, 1, 1});
  shift_ = torch::tensor(shift).view({1, c_, 1, 1});
  StartEpoch(0);
}

BatchLoader::BatchLoader(const Dataset& data, LoaderOptions options)
    : BatchLoader(data, torch::arange(data.size(), torch::kLong), options) {}

void BatchLoader::StartEpoch(int64_t epoch) {
  if (epoch < 0) throw InputError(fmt::format("BatchLoader: epoch: expected at least 0, got {}", epoch));
  epoch_ = epoch;
  next_batch_ = 0;
  if (!opt_.shuffle) {
    order_ = indices_;
    return;
  }
  const int64_t* p = indices_.data_ptr<int64_t>();
  std::vector<int64_t> order(p, p + indices_.size(0));
  std::mt19937_64 rng(MixSeed({opt_.seed, static_cast<uint64_t>(epoch), kOrderStream}));
  Shuffle(order, rng);
  order_ = torch::from_blob(order.data(), {static_cast<int64_t>(order.size())}, torch::kLong).clone();
}

void BatchLoader::Seek(int64_t batch) {
  if (batch < 0 || batch > NumBatches()) {
    throw InputError(fmt::format("BatchLoader: Seek: expected a batch in 0..{}, got {}", NumBatches(), batch));
  }
  next_batch_ = batch;
}

int64_t BatchLoader::NumBatches() const {
  const int64_t m = NumExamples();
  return opt_.drop_last ? m / opt_.batch_size : (m + opt_.batch_size - 1) / opt_.batch_size;
}

bool BatchLoader::Next(Batch& batch) {
  if (next_batch_ >= NumBatches()) return false;
  const int64_t start = next_batch_ * opt_.batch_size;
  const int64_t count = std::min(opt_.batch_size, NumExamples() - start);
  const torch::Tensor rows = order_.narrow(0, start, count).clone();
  const int64_t* row = rows.data_ptr<int64_t>();

  // Per-image placement of the stored image on the output canvas, and flips; drawn
  // here, in image order, so they do not depend on the thread count.
  const int64_t pad = opt_.augment.pad_crop;
  std::vector<int64_t> oy(static_cast<size_t>(count), top_), ox(static_cast<size_t>(count), left_);
  std::vector<uint8_t> flip(static_cast<size_t>(count), 0);
  const bool rrc = opt_.augment.random_resized_crop;
  std::vector<CropBox> boxes(rrc ? static_cast<size_t>(count) : 0);
  if (pad > 0 || opt_.augment.hflip || rrc) {
    std::mt19937_64 rng(MixSeed({opt_.seed, static_cast<uint64_t>(epoch_),
                                 static_cast<uint64_t>(next_batch_), kAugmentStream}));
    for (size_t b = 0; b < static_cast<size_t>(count); ++b) {
      if (rrc) boxes[b] = RandomResizedCropBox(h_, w_, rng);
      if (pad > 0) {
        oy[b] += pad - static_cast<int64_t>(UniformBelow(rng, static_cast<uint64_t>(2 * pad + 1)));
        ox[b] += pad - static_cast<int64_t>(UniformBelow(rng, static_cast<uint64_t>(2 * pad + 1)));
      }
      if (opt_.augment.hflip) flip[b] = static_cast<uint8_t>(rng() >> 63);
    }
  }

  // Geometry on uint8: each output row is a zero canvas row with (a window of) one
  // stored row copied in, mirrored when flipping.
  torch::Tensor canvas = torch::zeros({count, c_, out_h_, out_w_}, torch::kUInt8);
  const uint8_t* src = images_.data_ptr<uint8_t>();
  // The stored image of each example: images_[rows_[example]] for a subset.
  const int64_t* stored = rows_.defined() ? rows_.data_ptr<int64_t>() : nullptr;
  uint8_t* dst = canvas.data_ptr<uint8_t>();
  const int64_t in_image = c_ * h_ * w_, out_image = c_ * out_h_ * out_w_;
  at::parallel_for(0, count, rrc ? 1 : 16, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const auto bi = static_cast<size_t>(b);
      const int64_t image = stored ? stored[row[b]] : row[b];
      // A mapped image's pages are released once copied: the resident set stays at
      // a batch's worth whatever the data set's size.
      auto release = [&] {
        if (mapped_) ReleaseMappedPages(src, images_.nbytes(), src + image * in_image, static_cast<size_t>(in_image));
      };
      if (rrc) {
        // The window, resized to the output (single-threaded inside this region).
        const CropBox& box = boxes[bi];
        const torch::Tensor window = images_[image]
                                         .slice(1, box.top, box.top + box.height)
                                         .slice(2, box.left, box.left + box.width);
        torch::Tensor out = Resize(window.contiguous(), out_h_, out_w_);
        if (flip[bi]) out = out.flip({2});
        canvas[b].copy_(out);
        release();
        continue;
      }
      const int64_t y0 = std::max<int64_t>(0, oy[bi]), y1 = std::min(out_h_, oy[bi] + h_);
      const int64_t x0 = std::max<int64_t>(0, ox[bi]), x1 = std::min(out_w_, ox[bi] + w_);
      if (y0 >= y1 || x0 >= x1) continue;
      const uint8_t* img = src + image * in_image;
      uint8_t* out = dst + b * out_image;
      const auto len = static_cast<size_t>(x1 - x0);
      for (int64_t ch = 0; ch < c_; ++ch) {
        for (int64_t y = y0; y < y1; ++y) {
          const uint8_t* s = img + (ch * h_ + y - oy[bi]) * w_ + (x0 - ox[bi]);
          uint8_t* d = out + (ch * out_h_ + y) * out_w_;
          if (flip[bi]) {
            std::reverse_copy(s, s + len, d + (out_w_ - x1));
          } else {
            std::memcpy(d + x0, s, len);
          }
        }
      }
      release();
    }
  });

  // Normalisation, once for the whole batch: x * (1 / (255 std)) - mean / std.
  torch::Tensor images = canvas.to(torch::kFloat).mul_(scale_).add_(shift_);
  if (out_c_ != c_) images = images.expand({count, out_c_, out_h_, out_w_}).contiguous();

  batch.images = std::move(images);
  batch.labels = labels_.index_select(0, rows);
  batch.indices = rows;
  ++next_batch_;
  return true;
}

}  // namespace haq::data
