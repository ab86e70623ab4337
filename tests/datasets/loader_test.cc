#include "data/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "datasets/data_files.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::data {
namespace {

using test::ErrorOf;
using util::InputError;

std::vector<int64_t> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

/// n images of c x h x w; pixel (i, ch, y, x) = (31i + 17ch + 5y + 3x) % 256; label i % 10.
Dataset Synthetic(int64_t n, int64_t c, int64_t h, int64_t w) {
  const auto i = torch::arange(n, torch::kLong).view({n, 1, 1, 1});
  const auto ch = torch::arange(c, torch::kLong).view({1, c, 1, 1});
  const auto y = torch::arange(h, torch::kLong).view({1, 1, h, 1});
  const auto x = torch::arange(w, torch::kLong).view({1, 1, 1, w});
  Dataset d;
  d.name = "synthetic";
  d.images = ((i * 31 + ch * 17 + y * 5 + x * 3) % 256).to(torch::kUInt8).contiguous();
  d.labels = torch::arange(n, torch::kLong) % 10;
  d.num_classes = 10;
  d.class_names = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"};
  const double means[3] = {0.5, 0.4, 0.3}, stds[3] = {0.25, 0.2, 0.3};
  d.mean.assign(means, means + c);
  d.std.assign(stds, stds + c);
  return d;
}

/// (u8 / 255 - mean) / std in double, per channel.
torch::Tensor Reference(const torch::Tensor& u8, const std::vector<double>& mean,
                        const std::vector<double>& std) {
  const auto c = static_cast<int64_t>(mean.size());
  const auto m = torch::tensor(mean, torch::kDouble).view({1, c, 1, 1});
  const auto s = torch::tensor(std, torch::kDouble).view({1, c, 1, 1});
  return (u8.to(torch::kDouble) / 255.0 - m) / s;
}

/// Back to pixel values (exact: the float error is far below 1/2).
torch::Tensor Pixels(const torch::Tensor& images, const std::vector<double>& mean,
                     const std::vector<double>& std) {
  const auto c = static_cast<int64_t>(mean.size());
  const auto m = torch::tensor(mean, torch::kDouble).view({1, c, 1, 1});
  const auto s = torch::tensor(std, torch::kDouble).view({1, c, 1, 1});
  return ((images.to(torch::kDouble) * s + m) * 255.0).round().to(torch::kLong);
}

std::vector<Batch> Epoch(BatchLoader& loader, int64_t epoch) {
  loader.StartEpoch(epoch);
  std::vector<Batch> out;
  for (Batch b; loader.Next(b);) out.push_back(b);
  return out;
}

void ExpectSameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i].indices, b[i].indices)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].labels, b[i].labels)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].images, b[i].images)) << "batch " << i;
  }
}

TEST(BatchLoaderTest, NormalisesPixelValues) {
  Dataset d;
  d.name = "four";
  d.images = torch::tensor({0, 51, 255, 128}, torch::kUInt8).view({1, 1, 2, 2});
  d.labels = torch::tensor({1}, torch::kLong);
  d.num_classes = 2;
  d.class_names = {"a", "b"};
  d.mean = {0.5};
  d.std = {0.25};
  BatchLoader loader(d, LoaderOptions{});
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  EXPECT_EQ(b.images.scalar_type(), torch::kFloat);
  ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{1, 1, 2, 2}));
  const float* p = b.images.data_ptr<float>();
  EXPECT_NEAR(p[0], -2.0, 1e-6);
  EXPECT_NEAR(p[1], -1.2, 1e-6);
  EXPECT_NEAR(p[2], 2.0, 1e-6);
  EXPECT_NEAR(p[3], (128.0 / 255.0 - 0.5) / 0.25, 1e-6);
  EXPECT_EQ(ToVector(b.labels), std::vector<int64_t>{1});
  EXPECT_FALSE(loader.Next(b));
}

TEST(BatchLoaderTest, NormalisesEachChannel) {
  const Dataset d = Synthetic(7, 3, 5, 6);
  BatchLoader loader(d, {.batch_size = 7});
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  EXPECT_TRUE(torch::allclose(b.images.to(torch::kDouble), Reference(d.images, d.mean, d.std), 0, 1e-5));
}

TEST(BatchLoaderTest, EveryIndexExactlyOncePerEpoch) {
  const Dataset d = Synthetic(50, 3, 4, 4);
  const torch::Tensor indices = SeededSplit(50, 23, -1, 3).first;
  BatchLoader loader(d, indices, {.batch_size = 5, .shuffle = true, .seed = 11});
  EXPECT_EQ(loader.NumExamples(), 23);
  EXPECT_EQ(loader.NumBatches(), 5);
  std::vector<int64_t> expected = ToVector(indices);
  std::sort(expected.begin(), expected.end());
  std::vector<std::vector<int64_t>> orders;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    const std::vector<Batch> batches = Epoch(loader, epoch);
    ASSERT_EQ(batches.size(), 5u);
    std::vector<int64_t> seen;
    for (size_t i = 0; i < batches.size(); ++i) {
      const Batch& b = batches[i];
      const int64_t n = i < 4 ? 5 : 3;
      ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{n, 3, 4, 4}));
      ASSERT_EQ(b.labels.sizes(), std::vector<int64_t>{n});
      // Images and labels are those of the batch's dataset rows.
      EXPECT_TRUE(torch::equal(b.labels, d.labels.index_select(0, b.indices)));
      EXPECT_TRUE(torch::allclose(b.images.to(torch::kDouble),
                                  Reference(d.images.index_select(0, b.indices), d.mean, d.std), 0, 1e-5));
      const auto v = ToVector(b.indices);
      seen.insert(seen.end(), v.begin(), v.end());
    }
    orders.push_back(seen);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, expected) << "epoch " << epoch;
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_NE(orders[1], orders[2]);
}

TEST(BatchLoaderTest, WithoutShuffleKeepsTheGivenOrder) {
  const Dataset d = Synthetic(10, 1, 3, 3);
  const torch::Tensor indices = torch::tensor({9, 2, 5, 2, 0}, torch::kLong);
  BatchLoader loader(d, indices, {.batch_size = 2});
  for (int64_t epoch : {0, 4}) {
    std::vector<int64_t> seen;
    for (const Batch& b : Epoch(loader, epoch)) {
      const auto v = ToVector(b.indices);
      seen.insert(seen.end(), v.begin(), v.end());
    }
    EXPECT_EQ(seen, (std::vector<int64_t>{9, 2, 5, 2, 0}));
  }
}

TEST(BatchLoaderTest, DropLast) {
  const Dataset d = Synthetic(23, 1, 2, 2);
  BatchLoader loader(d, {.batch_size = 5, .shuffle = true, .seed = 2, .drop_last = true});
  EXPECT_EQ(loader.NumBatches(), 4);
  std::set<int64_t> seen;
  for (const Batch& b : Epoch(loader, 0)) {
    EXPECT_EQ(b.indices.size(0), 5);
    for (const int64_t i : ToVector(b.indices)) seen.insert(i);
  }
  EXPECT_EQ(seen.size(), 20u);
  BatchLoader exact(d, torch::arange(20), {.batch_size = 5, .drop_last = true});
  EXPECT_EQ(exact.NumBatches(), 4);
}

TEST(BatchLoaderTest, SameSeedSameBatches) {
  const Dataset d = Synthetic(40, 3, 6, 6);
  const LoaderOptions o{.batch_size = 8, .shuffle = true, .seed = 5, .augment = {.pad_crop = 2, .hflip = true}};
  BatchLoader a(d, o), b(d, o);
  for (int64_t epoch = 0; epoch < 2; ++epoch) ExpectSameBatches(Epoch(a, epoch), Epoch(b, epoch));
  // Re-running an epoch reproduces it; other epochs and seeds differ.
  ExpectSameBatches(Epoch(a, 1), Epoch(b, 1));
  EXPECT_FALSE(torch::equal(Epoch(a, 0)[0].indices, Epoch(a, 1)[0].indices));
  LoaderOptions other = o;
  other.seed = 6;
  BatchLoader c(d, other);
  EXPECT_FALSE(torch::equal(Epoch(a, 0)[0].indices, Epoch(c, 0)[0].indices));
  // Augmentation alone (no shuffle) is also reproducible and differs by epoch.
  LoaderOptions fixed = o;
  fixed.shuffle = false;
  BatchLoader e(d, fixed), f(d, fixed);
  ExpectSameBatches(Epoch(e, 3), Epoch(f, 3));
  EXPECT_FALSE(torch::equal(Epoch(e, 3)[0].images, Epoch(e, 4)[0].images));
}

TEST(BatchLoaderTest, SeekResumesAnEpoch) {
  const Dataset d = Synthetic(40, 3, 6, 6);
  const LoaderOptions o{.batch_size = 6, .shuffle = true, .seed = 9, .augment = {.pad_crop = 1, .hflip = true}};
  BatchLoader full(d, o);
  const std::vector<Batch> all = Epoch(full, 2);
  ASSERT_EQ(all.size(), 7u);
  BatchLoader resumed(d, o);
  resumed.StartEpoch(2);
  resumed.Seek(4);
  EXPECT_EQ(resumed.position(), 4);
  std::vector<Batch> rest;
  for (Batch b; resumed.Next(b);) rest.push_back(b);
  ExpectSameBatches(rest, std::vector<Batch>(all.begin() + 4, all.end()));
  resumed.Seek(7);
  Batch b;
  EXPECT_FALSE(resumed.Next(b));
}

TEST(BatchLoaderTest, IndependentOfTheThreadCount) {
  const Dataset d = Synthetic(300, 3, 8, 8);
  const LoaderOptions o{.batch_size = 100, .shuffle = true, .seed = 3, .augment = {.pad_crop = 3, .hflip = true}};
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  BatchLoader one(d, o);
  const std::vector<Batch> a = Epoch(one, 1);
  at::set_num_threads(std::max(2, threads));
  BatchLoader many(d, o);
  const std::vector<Batch> b = Epoch(many, 1);
  at::set_num_threads(threads);
  ExpectSameBatches(a, b);
}

TEST(BatchLoaderTest, PadsTo32x32AndCopiesTheChannelAsInTheBenchmarkProtocol) {
  // "each 28x28 image padded by 2 pixels of 0 on every side to 32x32, scaled
  // x = (p/255 - mean)/std, channel copied to 3 channels"
  Dataset d = Synthetic(4, 1, 28, 28);
  d.mean = {0.2860};
  d.std = {0.3530};
  BatchLoader loader(d, {.batch_size = 4, .out_channels = 3, .out_height = 32, .out_width = 32});
  EXPECT_EQ(loader.OutputShape(), (std::vector<int64_t>{3, 32, 32}));
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{4, 3, 32, 32}));
  EXPECT_TRUE(b.images.is_contiguous());
  const torch::Tensor padded = torch::constant_pad_nd(d.images, {2, 2, 2, 2}, 0);
  const torch::Tensor expected = Reference(padded, d.mean, d.std).expand({4, 3, 32, 32});
  EXPECT_TRUE(torch::allclose(b.images.to(torch::kDouble), expected, 0, 1e-5));
  EXPECT_NEAR(b.images[2][1][0][31].item<float>(), -0.2860 / 0.3530, 1e-6);
  EXPECT_NEAR(b.images[3][2][2][2].item<float>(), (d.images[3][0][0][0].item<int>() / 255.0 - 0.2860) / 0.3530,
              1e-6);
}

TEST(BatchLoaderTest, OddPaddingPutsTheExtraPixelBottomRight) {
  const Dataset d = Synthetic(2, 2, 5, 5);
  BatchLoader loader(d, {.batch_size = 2, .out_height = 8, .out_width = 6});
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{2, 2, 8, 6}));
  const torch::Tensor padded = torch::constant_pad_nd(d.images, {0, 1, 1, 2}, 0);  // left, right, top, bottom
  EXPECT_TRUE(torch::equal(Pixels(b.images, d.mean, d.std), padded.to(torch::kLong)));
}

/// Which (dy, dx, flip) reproduce `out` from `img` padded by `pad`: crop at (dy, dx), then flip.
std::vector<std::tuple<int64_t, int64_t, bool>> Explanations(const torch::Tensor& out, const torch::Tensor& img,
                                                            int64_t pad) {
  const int64_t h = img.size(1), w = img.size(2);
  const torch::Tensor padded = torch::constant_pad_nd(img, {pad, pad, pad, pad}, 0).to(torch::kLong);
  std::vector<std::tuple<int64_t, int64_t, bool>> found;
  for (int64_t dy = 0; dy <= 2 * pad; ++dy)
    for (int64_t dx = 0; dx <= 2 * pad; ++dx)
      for (bool flip : {false, true}) {
        torch::Tensor crop = padded.narrow(1, dy, h).narrow(2, dx, w);
        if (flip) crop = crop.flip({2});
        if (torch::equal(crop, out)) found.emplace_back(dy, dx, flip);
      }
  return found;
}

TEST(BatchLoaderTest, RandomCropIsAShiftWithZeroFill) {
  // One distinctive 2-channel 4x4 image (pixels 1..32: no zeros), 400 times.
  Dataset d = Synthetic(1, 2, 4, 4);
  d.images = torch::arange(1, 33, torch::kLong).to(torch::kUInt8).view({1, 2, 4, 4});
  BatchLoader loader(d, torch::zeros({400}, torch::kLong), {.batch_size = 400, .augment = {.pad_crop = 1}});
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{400, 2, 4, 4}));
  const torch::Tensor px = Pixels(b.images, d.mean, d.std);
  std::set<std::pair<int64_t, int64_t>> shifts;
  for (int64_t i = 0; i < 400; ++i) {
    const auto found = Explanations(px[i], d.images[0], 1);
    ASSERT_EQ(found.size(), 1u) << "image " << i << ":\n" << px[i];
    EXPECT_FALSE(std::get<2>(found[0]));
    shifts.emplace(std::get<0>(found[0]), std::get<1>(found[0]));
  }
  EXPECT_EQ(shifts.size(), 9u);  // every offset in 0..2 x 0..2 occurs
}

TEST(BatchLoaderTest, HorizontalFlipMirrorsRows) {
  Dataset d = Synthetic(1, 3, 3, 5);
  d.images = torch::arange(1, 46, torch::kLong).to(torch::kUInt8).view({1, 3, 3, 5});
  BatchLoader loader(d, torch::zeros({100}, torch::kLong), {.batch_size = 100, .augment = {.hflip = true}});
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  const torch::Tensor px = Pixels(b.images, d.mean, d.std);
  const torch::Tensor img = d.images[0].to(torch::kLong), mirrored = img.flip({2});
  int64_t flips = 0;
  for (int64_t i = 0; i < 100; ++i) {
    const bool same = torch::equal(px[i], img), flipped = torch::equal(px[i], mirrored);
    ASSERT_TRUE(same || flipped) << "image " << i;
    flips += flipped;
  }
  EXPECT_GT(flips, 25);
  EXPECT_LT(flips, 75);
}

TEST(BatchLoaderTest, CropThenFlip) {
  // A 1-channel 3x3 image of distinct nonzero pixels, pad_crop 1 and flips, 3 channels
  // out: every output is explained by exactly one of the 3 x 3 offsets x 2 flips.
  Dataset d = Synthetic(1, 1, 3, 3);
  d.images = torch::arange(1, 10, torch::kLong).to(torch::kUInt8).view({1, 1, 3, 3});
  BatchLoader loader(d, torch::zeros({300}, torch::kLong),
                     {.batch_size = 300, .augment = {.pad_crop = 1, .hflip = true}, .out_channels = 3});
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{300, 3, 3, 3}));
  std::set<std::tuple<int64_t, int64_t, bool>> seen;
  for (int64_t i = 0; i < 300; ++i) {
    EXPECT_TRUE(torch::equal(b.images[i][0], b.images[i][2]));
    const torch::Tensor px = Pixels(b.images[i].narrow(0, 0, 1).unsqueeze(0), d.mean, d.std)[0];
    const auto found = Explanations(px, d.images[0], 1);
    ASSERT_EQ(found.size(), 1u) << "image " << i << ":\n" << px;
    seen.insert(found[0]);
  }
  EXPECT_EQ(seen.size(), 18u);
}

TEST(BatchLoaderTest, CropAndFlipAfterOutputPadding) {
  // The 3x3 image centred on a 5x5 canvas, then shifted by up to 2 and flipped.
  Dataset d = Synthetic(1, 1, 3, 3);
  d.images = torch::arange(1, 10, torch::kLong).to(torch::kUInt8).view({1, 1, 3, 3});
  BatchLoader loader(d, torch::zeros({300}, torch::kLong),
                     {.batch_size = 300,
                      .augment = {.pad_crop = 2, .hflip = true},
                      .out_height = 5,
                      .out_width = 5});
  Batch b;
  ASSERT_TRUE(loader.Next(b));
  ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{300, 1, 5, 5}));
  const torch::Tensor canvas = torch::constant_pad_nd(d.images[0], {1, 1, 1, 1}, 0);
  const torch::Tensor px = Pixels(b.images, d.mean, d.std);
  std::set<std::vector<int64_t>> distinct;
  for (int64_t i = 0; i < 300; ++i) {
    ASSERT_FALSE(Explanations(px[i], canvas, 2).empty()) << "image " << i << ":\n" << px[i];
    distinct.insert(ToVector(px[i].flatten()));
  }
  EXPECT_GT(distinct.size(), 40u);  // 50 (offset, flip) pairs, a few alike
}

TEST(BatchLoaderTest, EmptyIndicesAndTheEndOfAnEpoch) {
  const Dataset d = Synthetic(3, 1, 2, 2);
  BatchLoader empty(d, torch::empty({0}, torch::kLong), {});
  EXPECT_EQ(empty.NumBatches(), 0);
  Batch b;
  EXPECT_FALSE(empty.Next(b));
  EXPECT_FALSE(b.images.defined());

  BatchLoader loader(d, {.batch_size = 2});
  EXPECT_EQ(loader.NumBatches(), 2);
  EXPECT_TRUE(loader.Next(b));
  EXPECT_TRUE(loader.Next(b));
  const torch::Tensor last = b.indices;
  EXPECT_FALSE(loader.Next(b));
  EXPECT_FALSE(loader.Next(b));
  EXPECT_TRUE(torch::equal(b.indices, last));  // untouched
  EXPECT_EQ(ToVector(last), std::vector<int64_t>{2});
}

TEST(BatchLoaderTest, OptionsAreChecked) {
  const Dataset d = Synthetic(5, 3, 28, 28);
  auto err = [&](const LoaderOptions& o, torch::Tensor idx = torch::arange(5)) {
    return ErrorOf<InputError>([&] { BatchLoader l(d, idx, o); });
  };
  EXPECT_EQ(err({.batch_size = 0}), "BatchLoader for synthetic: batch_size: expected at least 1, got 0");
  EXPECT_EQ(err({.augment = {.pad_crop = -1}}),
            "BatchLoader for synthetic: augment.pad_crop: expected at least 0, got -1");
  EXPECT_EQ(err({.out_height = 20}),
            "BatchLoader for synthetic: out_height: expected 0 (keep) or at least the image height 28, got 20");
  EXPECT_EQ(err({.out_width = 27}),
            "BatchLoader for synthetic: out_width: expected 0 (keep) or at least the image width 28, got 27");
  EXPECT_EQ(err({.out_channels = 1}),
            "BatchLoader for synthetic: out_channels: expected 0 (keep) or 3 (the images' channels), got 1");
  EXPECT_EQ(err({}, torch::tensor({0, 5})), "synthetic: loader indices[1]: expected an index in 0..4, got 5");
  const Dataset gray = Synthetic(5, 1, 4, 4);
  EXPECT_EQ(ErrorOf<InputError>([&] { BatchLoader l(gray, {.out_channels = -3}); }),
            "BatchLoader for synthetic: out_channels: expected 0 (keep) or at least 1 (copies of the one "
            "channel), got -3");
  Dataset bad = Synthetic(5, 3, 4, 4);
  bad.std.pop_back();
  EXPECT_EQ(ErrorOf<InputError>([&] { BatchLoader l(bad, {}); }),
            "synthetic: mean, std: expected 3 each (one per channel), got 3 and 2");
  BatchLoader loader(d, {.batch_size = 2});
  EXPECT_EQ(ErrorOf<InputError>([&] { loader.Seek(4); }), "BatchLoader: Seek: expected a batch in 0..3, got 4");
  EXPECT_EQ(ErrorOf<InputError>([&] { loader.StartEpoch(-1); }),
            "BatchLoader: epoch: expected at least 0, got -1");
}

}  // namespace
}  // namespace haq::data

namespace haq::data {
namespace {

// A subset shares its parent's images through its rows; batches over it are those
// over a data set holding copies of the same images, with augmentation.
TEST(LoaderTest, ASubsetGivesTheBatchesOfACopyOfItsImages) {
  const Dataset d = Synthetic(40, 3, 6, 5);
  const Dataset s = Subset(Subset(d, torch::arange(39, -1, -2, torch::kLong)), torch::arange(3, 20, torch::kLong));
  Dataset copy = s;
  copy.images = ExampleImages(s).contiguous();
  copy.rows = torch::Tensor();
  const LoaderOptions o{.batch_size = 4, .shuffle = true, .seed = 5, .augment = {.pad_crop = 1, .hflip = true}};
  BatchLoader a(s, o), b(copy, o);
  ExpectSameBatches(Epoch(a, 2), Epoch(b, 2));
  EXPECT_EQ(s.images.data_ptr(), d.images.data_ptr());
}

}  // namespace
}  // namespace haq::data

namespace haq::data {
namespace {

// RandomResizedCrop with flips: the batches depend on (seed, epoch, batch) only,
// not on the thread count, also when resumed with Seek; a one-colour image stays
// that colour; the output is the size asked for.
TEST(LoaderTest, RandomResizedCropBatchesAreTheSameAtEveryThreadCount) {
  const Dataset d = Synthetic(20, 3, 12, 10);
  const LoaderOptions o{.batch_size = 6, .shuffle = true, .seed = 9,
                        .augment = {.hflip = true, .random_resized_crop = true}, .out_height = 8, .out_width = 8};
  const int threads = torch::get_num_threads();
  std::vector<std::vector<Batch>> runs;
  for (int t : {1, 2, 4}) {
    torch::set_num_threads(t);
    BatchLoader loader(d, o);
    runs.push_back(Epoch(loader, 3));
  }
  torch::set_num_threads(threads);
  ExpectSameBatches(runs[0], runs[1]);
  ExpectSameBatches(runs[0], runs[2]);
  ASSERT_EQ(runs[0][0].images.sizes(), (std::vector<int64_t>{6, 3, 8, 8}));
  BatchLoader seek(d, o);
  seek.StartEpoch(3);
  seek.Seek(2);
  Batch b;
  ASSERT_TRUE(seek.Next(b));
  EXPECT_TRUE(torch::equal(b.images, runs[0][2].images));
  // Other epochs crop elsewhere.
  BatchLoader other(d, o);
  EXPECT_FALSE(torch::equal(Epoch(other, 4)[0].images, runs[0][0].images));

  Dataset flat = d;
  flat.images = torch::full({20, 3, 12, 10}, 77, torch::kUInt8);
  BatchLoader f(flat, o);
  f.Next(b);
  EXPECT_TRUE(torch::equal(Pixels(b.images, flat.mean, flat.std), torch::full({6, 3, 8, 8}, 77, torch::kLong)));

  const LoaderOptions bad{.augment = {.pad_crop = 2, .random_resized_crop = true}};
  EXPECT_EQ(test::InputErrorOf([&] { BatchLoader(d, bad); }),
            "BatchLoader for synthetic: augment: random_resized_crop excludes pad_crop (2)");
}

}  // namespace
}  // namespace haq::data
