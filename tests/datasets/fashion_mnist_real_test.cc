// The real Fashion-MNIST from the Debian package dataset-fashion-mnist, which
// scripts/setup.sh installs: this test is never skipped.
#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/loader.h"

namespace haq::data {
namespace {

void ExpectFashionMnist(const Dataset& d, int64_t n, int64_t per_class) {
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{n, 1, 28, 28}));
  EXPECT_EQ(d.images.scalar_type(), torch::kUInt8);
  ASSERT_EQ(d.labels.sizes(), std::vector<int64_t>{n});
  EXPECT_EQ(d.labels.min().item<int64_t>(), 0);
  EXPECT_EQ(d.labels.max().item<int64_t>(), 9);
  const torch::Tensor counts = torch::bincount(d.labels, {}, 10);
  EXPECT_TRUE(torch::equal(counts, torch::full({10}, per_class, torch::kLong))) << counts;
  EXPECT_EQ(d.images.min().item<int>(), 0);
  EXPECT_EQ(d.images.max().item<int>(), 255);
  EXPECT_NO_THROW(ValidateDataset(d));
}

TEST(FashionMnistRealTest, DebianPackageTrainAndTestSets) {
  const Dataset train = LoadFashionMnist("", true);
  EXPECT_EQ(train.name, "fashion-mnist-train");
  ExpectFashionMnist(train, 60000, 6000);
  // The published labels begin 9 (ankle boot), 0, 0, 3, 0.
  EXPECT_TRUE(torch::equal(train.labels.narrow(0, 0, 5), torch::tensor({9, 0, 0, 3, 0}, torch::kLong)));
  // The normalisation constants are the training set's statistics.
  const torch::Tensor x = train.images.to(torch::kDouble) / 255.0;
  EXPECT_NEAR(x.mean().item<double>(), kFashionMnistMean, 5e-4);
  EXPECT_NEAR(x.std().item<double>(), kFashionMnistStd, 5e-4);

  const Dataset test = LoadFashionMnist(kFashionMnistDir, false);
  EXPECT_EQ(test.name, "fashion-mnist-test");
  ExpectFashionMnist(test, 10000, 1000);

  // One epoch of the benchmark protocol's batches over the test set.
  BatchLoader loader(test, {.batch_size = 1000, .out_channels = 3, .out_height = 32, .out_width = 32});
  int64_t images = 0;
  for (Batch b; loader.Next(b);) {
    ASSERT_EQ(b.images.sizes(), (std::vector<int64_t>{1000, 3, 32, 32}));
    images += b.images.size(0);
  }
  EXPECT_EQ(images, 10000);
}

}  // namespace
}  // namespace haq::data
