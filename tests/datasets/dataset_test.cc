#include "data/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "datasets/data_files.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::data {
namespace {

namespace fs = std::filesystem;
using test::ErrorOf;
using test::IdxImages;
using test::IdxLabels;
using test::TempDir;
using test::WriteGz;
using test::WriteRaw;
using util::InputError;

std::vector<int64_t> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// ---------------------------------------------------------------- Fashion-MNIST

/// A directory with the four Fashion-MNIST files: 5 training and 3 test images.
struct FashionDir {
  explicit FashionDir(bool gz = true) {
    Put("train-images-idx3-ubyte", IdxImages(5, 28, 28), gz);
    Put("train-labels-idx1-ubyte", IdxLabels({9, 0, 3, 3, 7}), gz);
    Put("t10k-images-idx3-ubyte", IdxImages(3, 28, 28), gz);
    Put("t10k-labels-idx1-ubyte", IdxLabels({1, 2, 8}), gz);
  }
  std::string Put(const std::string& name, const std::string& bytes, bool gz = true) const {
    fs::remove(dir / name);
    fs::remove(dir / (name + ".gz"));
    const fs::path p = gz ? dir / (name + ".gz") : dir / name;
    gz ? WriteGz(p, bytes) : WriteRaw(p, bytes);
    return p.string();
  }
  std::string Path(const std::string& name) const { return (dir / (name + ".gz")).string(); }
  std::string Error(bool train = true) const {
    return ErrorOf<InputError>([&] { LoadFashionMnist(dir.path().string(), train); });
  }
  TempDir dir;
};

void ExpectFashionImages(const Dataset& d, int64_t n) {
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{n, 1, 28, 28}));
  EXPECT_EQ(d.images.scalar_type(), torch::kUInt8);
  auto a = d.images.accessor<uint8_t, 4>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < 28; ++r)
      for (int64_t c = 0; c < 28; ++c) ASSERT_EQ(a[i][0][r][c], test::Pixel(i, r, c)) << i << r << c;
}

TEST(FashionMnistTest, LoadsTrainAndTestSets) {
  const FashionDir f;
  const Dataset train = LoadFashionMnist(f.dir.path().string(), true);
  EXPECT_EQ(train.name, "fashion-mnist-train");
  ExpectFashionImages(train, 5);
  EXPECT_EQ(train.labels.scalar_type(), torch::kLong);
  EXPECT_EQ(ToVector(train.labels), (std::vector<int64_t>{9, 0, 3, 3, 7}));
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.class_names,
            (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                      "Shirt", "Sneaker", "Bag", "Ankle boot"}));
  EXPECT_EQ(train.mean, std::vector<double>{0.2860});
  EXPECT_EQ(train.std, std::vector<double>{0.3530});
  EXPECT_NO_THROW(ValidateDataset(train));

  const Dataset test = LoadFashionMnist(f.dir.path().string(), false);
  EXPECT_EQ(test.name, "fashion-mnist-test");
  ExpectFashionImages(test, 3);
  EXPECT_EQ(ToVector(test.labels), (std::vector<int64_t>{1, 2, 8}));
}

TEST(FashionMnistTest, ReadsUncompressedFilesToo) {
  const FashionDir f(/*gz=*/false);
  const Dataset train = LoadFashionMnist(f.dir.path().string(), true);
  ExpectFashionImages(train, 5);
  EXPECT_EQ(ToVector(train.labels), (std::vector<int64_t>{9, 0, 3, 3, 7}));
}

TEST(FashionMnistTest, DefaultDirectoryIsTheDebianPackages) {
  EXPECT_STREQ(kFashionMnistDir, "/usr/share/datasets/fashion-mnist");
}

TEST(FashionMnistTest, MissingFilesNameTheFileAndThePackage) {
  const TempDir empty;
  const std::string d = empty.path().string();
  EXPECT_EQ(ErrorOf<InputError>([&] { LoadFashionMnist(d, true); }),
            d + "/train-images-idx3-ubyte.gz: Fashion-MNIST file not found (nor " + d +
                "/train-images-idx3-ubyte); install the Debian package dataset-fashion-mnist "
                "(apt-get install dataset-fashion-mnist), which puts the files in "
                "/usr/share/datasets/fashion-mnist");

  const FashionDir f;
  fs::remove(f.dir / "t10k-labels-idx1-ubyte.gz");
  const std::string fd = f.dir.path().string();
  EXPECT_EQ(f.Error(/*train=*/false),
            fd + "/t10k-labels-idx1-ubyte.gz: Fashion-MNIST file not found (nor " + fd +
                "/t10k-labels-idx1-ubyte); install the Debian package dataset-fashion-mnist "
                "(apt-get install dataset-fashion-mnist), which puts the files in "
                "/usr/share/datasets/fashion-mnist");
  EXPECT_NO_THROW(LoadFashionMnist(fd, true));
}

TEST(FashionMnistTest, ImagesMustBe28x28) {
  const FashionDir f;
  std::string p = f.Put("train-images-idx3-ubyte", IdxImages(5, 32, 32));
  EXPECT_EQ(f.Error(), p + ": byte 8: expected 28 rows (Fashion-MNIST images are 28x28), got 32");
  p = f.Put("train-images-idx3-ubyte", IdxImages(5, 28, 30));
  EXPECT_EQ(f.Error(), p + ": byte 12: expected 28 columns (Fashion-MNIST images are 28x28), got 30");
}

TEST(FashionMnistTest, LabelCountMustMatchImageCount) {
  const FashionDir f;
  const std::string p = f.Put("train-labels-idx1-ubyte", IdxLabels({1, 2, 3, 4}));
  EXPECT_EQ(f.Error(), p + ": byte 4: expected 5 labels (one per image in " +
                           f.Path("train-images-idx3-ubyte") + "), got 4");
}

TEST(FashionMnistTest, LabelsMustBeBelow10) {
  const FashionDir f;
  const std::string p = f.Put("train-labels-idx1-ubyte", IdxLabels({1, 2, 10, 3, 4}));
  EXPECT_EQ(f.Error(), p + ": byte 10: expected a label in 0..9, got 10 (label 2)");
}

TEST(FashionMnistTest, CorruptFileErrorsPassThrough) {
  const FashionDir f;
  const std::string p = f.Put("t10k-images-idx3-ubyte", IdxLabels({1, 2}));
  EXPECT_EQ(f.Error(false), p + ": byte 0: expected IDX magic number 0x00000803 (images: unsigned "
                                "bytes, 3 dimensions), got 0x00000801");
}

// ---------------------------------------------------------------- CIFAR-10

/// data_batch_1..5 with 2 records each (file f, record r: label (2f + r) % 10, pixel
/// seed 7f + 3r), test_batch with 3 (labels 9, 4, 0, seeds 100 + r).
struct CifarDir {
  explicit CifarDir(const std::string& sub = "") : base(sub.empty() ? dir.path() : dir.path() / sub) {
    fs::create_directories(base);
    for (int f = 1; f <= 5; ++f) {
      std::string bytes;
      for (int r = 0; r < 2; ++r) bytes += test::CifarRecord(static_cast<uint8_t>((2 * f + r) % 10), 7 * f + 3 * r);
      WriteRaw(base / ("data_batch_" + std::to_string(f) + ".bin"), bytes);
    }
    const uint8_t test_labels[3] = {9, 4, 0};
    std::string bytes;
    for (int r = 0; r < 3; ++r) bytes += test::CifarRecord(test_labels[r], 100 + r);
    WriteRaw(base / "test_batch.bin", bytes);
  }
  std::string Error(bool train = true) const {
    return ErrorOf<InputError>([&] { LoadCifar10(dir.path().string(), train); });
  }
  TempDir dir;
  fs::path base;
};

void ExpectCifarImage(const Dataset& d, int64_t i, int seed) {
  const torch::Tensor img = d.images[i].contiguous();
  const uint8_t* p = img.data_ptr<uint8_t>();
  // Channel-major: red plane, green plane, blue plane, each 32 rows of 32.
  for (int k = 0; k < 3072; ++k) ASSERT_EQ(p[k], (k + seed) % 256) << "image " << i << " byte " << k;
  EXPECT_EQ(d.images[i][1][2][3].item<int>(), (1024 + 2 * 32 + 3 + seed) % 256);
}

TEST(Cifar10Test, LoadsTrainingBatchesInOrder) {
  const CifarDir c;
  const Dataset d = LoadCifar10(c.dir.path().string(), true);
  EXPECT_EQ(d.name, "cifar10-train");
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{10, 3, 32, 32}));
  EXPECT_EQ(d.images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(ToVector(d.labels), (std::vector<int64_t>{2, 3, 4, 5, 6, 7, 8, 9, 0, 1}));
  for (int f = 1; f <= 5; ++f)
    for (int r = 0; r < 2; ++r) ExpectCifarImage(d, 2 * (f - 1) + r, 7 * f + 3 * r);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer",
                                                     "dog", "frog", "horse", "ship", "truck"}));
  EXPECT_EQ(d.mean, (std::vector<double>{0.4914, 0.4822, 0.4465}));
  EXPECT_EQ(d.std, (std::vector<double>{0.2470, 0.2435, 0.2616}));
  EXPECT_NO_THROW(ValidateDataset(d));
}

TEST(Cifar10Test, LoadsTestBatch) {
  const CifarDir c;
  const Dataset d = LoadCifar10(c.dir.path().string(), false);
  EXPECT_EQ(d.name, "cifar10-test");
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_EQ(ToVector(d.labels), (std::vector<int64_t>{9, 4, 0}));
  for (int r = 0; r < 3; ++r) ExpectCifarImage(d, r, 100 + r);
}

TEST(Cifar10Test, FindsTheArchivesSubdirectory) {
  const CifarDir c("cifar-10-batches-bin");
  EXPECT_EQ(LoadCifar10(c.dir.path().string(), true).size(), 10);
  EXPECT_EQ(LoadCifar10(c.dir.path().string(), false).size(), 3);
}

TEST(Cifar10Test, MissingFileIsNamed) {
  const CifarDir c;
  fs::remove(c.base / "data_batch_3.bin");
  const std::string d = c.dir.path().string();
  EXPECT_EQ(c.Error(), d + "/data_batch_3.bin: CIFAR-10 file not found; expected the binary version of "
                           "CIFAR-10 (data_batch_1.bin ... data_batch_5.bin and test_batch.bin, as in "
                           "cifar-10-batches-bin) in " + d);
  fs::remove(c.base / "test_batch.bin");
  EXPECT_EQ(c.Error(false), d + "/test_batch.bin: CIFAR-10 file not found; expected the binary version "
                                "of CIFAR-10 (data_batch_1.bin ... data_batch_5.bin and test_batch.bin, "
                                "as in cifar-10-batches-bin) in " + d);
}

TEST(Cifar10Test, ABatchFileThatIsADirectoryIsNamed) {
  const CifarDir c;
  const fs::path p = c.base / "test_batch.bin";
  fs::remove(p);
  fs::create_directory(p);
  EXPECT_EQ(ErrorOf<util::IoError>([&] { LoadCifar10(c.dir.path().string(), false); }),
            p.string() + ": cannot read: Is a directory");
}

TEST(Cifar10Test, SizeMustBeAWholeNumberOfRecords) {
  const CifarDir c;
  const fs::path p = c.base / "data_batch_2.bin";
  WriteRaw(p, test::CifarRecord(1, 0) + test::CifarRecord(2, 0) + "12345");
  EXPECT_EQ(c.Error(), p.string() + ": byte 6146: expected a whole number of 3073-byte records (1 label "
                                    "byte, 3072 pixel bytes), got 6151 bytes (2 records and 5 bytes over)");
  WriteRaw(p, test::CifarRecord(1, 0).substr(0, 3000));
  EXPECT_EQ(c.Error(), p.string() + ": byte 0: expected a whole number of 3073-byte records (1 label "
                                    "byte, 3072 pixel bytes), got 3000 bytes (0 records and 3000 bytes over)");
  WriteRaw(p, "");
  EXPECT_EQ(c.Error(), p.string() + ": byte 0: expected 3073-byte records (1 label byte, 3072 pixel "
                                    "bytes), got an empty file");
}

// A batch file far larger than CIFAR-10's (10,000 records) is refused from its size
// alone: a sparse file, so nothing is written to disk or read.
TEST(Cifar10Test, AFileOfMoreThan100000RecordsIsRefusedBeforeReading) {
  const CifarDir c;
  const fs::path p = c.base / "data_batch_3.bin";
  WriteRaw(p, "");
  fs::resize_file(p, 100001u * 3073u);
  EXPECT_EQ(c.Error(), p.string() + ": expected at most 100000 records of 3073 bytes (a CIFAR-10 "
                                    "batch file holds 10000), got 307303073 bytes (100001 records)");
  fs::resize_file(p, std::uintmax_t{3073} << 24);  // 51.6 GB, more than this machine's memory
  EXPECT_EQ(c.Error(), p.string() + ": expected at most 100000 records of 3073 bytes (a CIFAR-10 "
                                    "batch file holds 10000), got 51556384768 bytes (16777216 records)");
}

TEST(Cifar10Test, LabelsMustBeBelow10) {
  const CifarDir c;
  const fs::path p = c.base / "data_batch_4.bin";
  WriteRaw(p, test::CifarRecord(3, 0) + test::CifarRecord(10, 0));
  EXPECT_EQ(c.Error(), p.string() + ": byte 3073: expected a label in 0..9, got 10 (record 1)");
}

// ---------------------------------------------------------------- splits

TEST(SeededSplitTest, IsAPinnedFunctionOfTheSeed) {
  // mt19937_64 and our Fisher–Yates are fully specified: these values hold on every
  // platform and library version.
  const Split s = SeededSplit(10, 4, 3, 42);
  EXPECT_EQ(ToVector(s.first), (std::vector<int64_t>{1, 7, 9, 0}));
  EXPECT_EQ(ToVector(s.second), (std::vector<int64_t>{3, 8, 4}));
}

TEST(SeededSplitTest, DeterministicAndIndependentOfGlobalState) {
  const Split a = SeededSplit(1000, 700, 300, 7);
  torch::manual_seed(12345);
  (void)torch::rand({100});
  std::srand(99);
  (void)SeededSplit(50, 10, -1, 8);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const Split b = SeededSplit(1000, 700, 300, 7);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a.first, b.first));
  EXPECT_TRUE(torch::equal(a.second, b.second));
  EXPECT_EQ(a.first.scalar_type(), torch::kLong);
  const Split c = SeededSplit(1000, 700, 300, 8);
  EXPECT_FALSE(torch::equal(a.first, c.first));
}

TEST(SeededSplitTest, DisjointAndComplete) {
  const Split s = SeededSplit(1000, 600, -1, 3);
  ASSERT_EQ(s.first.size(0), 600);
  ASSERT_EQ(s.second.size(0), 400);
  std::vector<int64_t> all = ToVector(s.first);
  const std::vector<int64_t> second = ToVector(s.second);
  all.insert(all.end(), second.begin(), second.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(1000);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
  // Shuffled, not merely 0..599.
  EXPECT_NE(ToVector(s.first), std::vector<int64_t>(expected.begin(), expected.begin() + 600));
}

TEST(SeededSplitTest, SecondCountTakesAPrefixOfTheRest) {
  const Split rest = SeededSplit(100, 30, -1, 5);
  const Split some = SeededSplit(100, 30, 10, 5);
  EXPECT_TRUE(torch::equal(rest.first, some.first));
  EXPECT_TRUE(torch::equal(rest.second.narrow(0, 0, 10), some.second));
  const Split none = SeededSplit(100, 0, 0, 5);
  EXPECT_EQ(none.first.size(0), 0);
  EXPECT_EQ(none.second.size(0), 0);
  const Split empty = SeededSplit(0, 0, -1, 5);
  EXPECT_EQ(empty.first.size(0) + empty.second.size(0), 0);
}

TEST(SeededSplitTest, CountsAreChecked) {
  auto err = [](int64_t n, int64_t a, int64_t b) {
    return ErrorOf<InputError>([&] { SeededSplit(n, a, b, 0); });
  };
  EXPECT_EQ(err(10, 6, 5), "SeededSplit: expected first_count + second_count <= n = 10, got 6 + 5 = 11");
  EXPECT_EQ(err(10, 11, -1), "SeededSplit: expected first_count <= n = 10, got 11");
  EXPECT_EQ(err(10, -1, 2), "SeededSplit: expected first_count >= 0, got -1");
  EXPECT_EQ(err(10, 1, -2), "SeededSplit: expected second_count >= 0 or -1 (the rest), got -2");
  EXPECT_EQ(err(-1, 0, 0), "SeededSplit: expected n >= 0, got -1");
}

// ---------------------------------------------------------------- subsets

Dataset Tiny() {
  Dataset d;
  d.name = "tiny";
  d.images = torch::arange(4 * 2 * 2, torch::kUInt8).view({4, 1, 2, 2});
  d.labels = torch::tensor({0, 1, 2, 0}, torch::kLong);
  d.num_classes = 3;
  d.class_names = {"a", "b", "c"};
  d.mean = {0.5};
  d.std = {0.25};
  return d;
}

TEST(SubsetTest, TakesRowsInOrder) {
  const Dataset d = Tiny();
  const Dataset s = Subset(d, torch::tensor({3, 1, 3}, torch::kInt));
  ASSERT_EQ(s.size(), 3);
  const torch::Tensor images = ExampleImages(s);
  EXPECT_TRUE(torch::equal(images[0], d.images[3]));
  EXPECT_TRUE(torch::equal(images[1], d.images[1]));
  EXPECT_TRUE(torch::equal(images[2], d.images[3]));
  EXPECT_EQ(ToVector(s.labels), (std::vector<int64_t>{0, 1, 0}));
  // The images are shared, not copied; a subset of a subset composes the rows.
  EXPECT_EQ(s.images.data_ptr(), d.images.data_ptr());
  const Dataset ss = Subset(s, torch::tensor({2, 1}, torch::kLong));
  EXPECT_EQ(ToVector(ss.rows), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(ToVector(ss.labels), (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(torch::equal(ExampleImages(ss), torch::stack({d.images[3], d.images[1]})));
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.class_names, d.class_names);
  EXPECT_EQ(s.mean, d.mean);
  EXPECT_EQ(s.std, d.std);
  EXPECT_EQ(s.num_classes, 3);
  EXPECT_NO_THROW(ValidateDataset(s));
  EXPECT_EQ(Subset(d, torch::empty({0}, torch::kLong)).size(), 0);
}

TEST(SubsetTest, IndicesAreChecked) {
  const Dataset d = Tiny();
  auto err = [&](const torch::Tensor& i) { return ErrorOf<InputError>([&] { Subset(d, i); }); };
  EXPECT_EQ(err(torch::tensor({0, 4})), "tiny: subset indices[1]: expected an index in 0..3, got 4");
  EXPECT_EQ(err(torch::tensor({-1})), "tiny: subset indices[0]: expected an index in 0..3, got -1");
  EXPECT_EQ(err(torch::tensor({0.5f})), "tiny: subset indices: expected a 1-D integer tensor, got Float [1]");
  EXPECT_EQ(err(torch::zeros({2, 2}, torch::kLong)),
            "tiny: subset indices: expected a 1-D integer tensor, got Long [2, 2]");
  EXPECT_EQ(err(torch::Tensor()), "tiny: subset indices: expected a 1-D integer tensor, got an undefined tensor");
}

TEST(ValidateDatasetTest, NamesWhatIsWrong) {
  auto err = [](const Dataset& d) { return ErrorOf<InputError>([&] { ValidateDataset(d); }); };
  Dataset d = Tiny();
  d.images = d.images.to(torch::kFloat);
  EXPECT_EQ(err(d), "tiny: images: expected a uint8 tensor [N, C, H, W], got Float [4, 1, 2, 2]");
  d = Tiny();
  d.labels = d.labels.narrow(0, 0, 3);
  EXPECT_EQ(err(d), "tiny: labels: expected an int64 tensor [4], got Long [3]");
  d = Tiny();
  d.labels[2] = 3;
  EXPECT_EQ(err(d), "tiny: labels[2]: expected a label in 0..2, got 3");
  d = Tiny();
  d.mean = {0.1, 0.2, 0.3};
  EXPECT_EQ(err(d), "tiny: mean, std: expected 1 each (one per channel), got 3 and 1");
  d = Tiny();
  d.std = {0.0};
  EXPECT_EQ(err(d), "tiny: std[0]: expected a positive value, got 0");
  d = Tiny();
  d.class_names.pop_back();
  EXPECT_EQ(err(d), "tiny: class_names: expected 3 names (num_classes), got 2");
}

}  // namespace
}  // namespace haq::data
