#pragma once
/// Image-classification data sets held in memory as uint8 tensors: loaders for
/// Fashion-MNIST (IDX files, as shipped by the Debian package dataset-fashion-mnist)
/// and CIFAR-10 (the binary version), seeded splits and subsets. Batching,
/// augmentation and normalisation live in loader.h.
///
/// Every loader validates what it reads and throws util::InputError with a message
/// that names the file, the byte position, what was expected and what was found
/// ("PATH: byte 4: expected ..., got ..."); util::IoError when the operating system
/// refuses a read.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace haq::data {

/// An image-classification data set: uint8 images in memory or memory-mapped from
/// an image cache (image_cache.h). A subset shares its parent's images and lists
/// the rows it takes, so splits of a large data set cost no copy.
struct Dataset {
  std::string name;                      ///< e.g. "fashion-mnist-train"
  torch::Tensor images;                  ///< uint8 [R, C, H, W], contiguous (may be read-only)
  /// int64 [N]: the set's examples are images[rows[i]]; undefined: all R, in order.
  torch::Tensor rows;
  torch::Tensor labels;                  ///< int64 [N], each in [0, num_classes), example by example
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  ///< num_classes names
  /// Per-channel normalisation of x = pixel / 255: (x - mean[c]) / std[c]; C values each.
  std::vector<double> mean, std;
  /// True when `images` is a read-only file mapping (an image cache): readers then
  /// release the pages they have read (ReleaseMappedPages), so the process's
  /// resident memory does not grow with the data set.
  bool mapped = false;

  int64_t size() const { return rows.defined() ? rows.size(0) : images.defined() ? images.size(0) : 0; }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }
};

// --- Fashion-MNIST ---

/// Where the Debian package dataset-fashion-mnist installs the four IDX files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
/// The 10 Fashion-MNIST classes, in label order.
const std::vector<std::string>& FashionMnistClassNames();
/// Training-set statistics of pixel / 255.
inline constexpr double kFashionMnistMean = 0.2860;
inline constexpr double kFashionMnistStd = 0.3530;

/// Loads Fashion-MNIST from `dir` ("" means kFashionMnistDir): the training set
/// (train-images-idx3-ubyte, train-labels-idx1-ubyte) if `train`, else the test set
/// (t10k-...). Each file is read as NAME.gz, or as plain NAME if there is no .gz.
/// Images are 28x28, one channel: images [N, 1, 28, 28], labels in 0..9.
/// A missing file gives util::InputError naming it and the Debian package
/// dataset-fashion-mnist; invalid files (see ReadIdxImages / ReadIdxLabels, plus
/// images not 28x28, label count unequal to image count, labels above 9) give
/// util::InputError naming file and byte.
Dataset LoadFashionMnist(const std::string& dir, bool train);

// --- CIFAR-10 ---

/// The 10 CIFAR-10 classes, in label order.
const std::vector<std::string>& Cifar10ClassNames();
/// Training-set per-channel (R, G, B) mean and standard deviation of pixel / 255.
inline constexpr double kCifar10Mean[3] = {0.4914, 0.4822, 0.4465};
inline constexpr double kCifar10Std[3] = {0.2470, 0.2435, 0.2616};

/// Loads CIFAR-10 in its binary version from `dir` ("" means the current directory;
/// dir/cifar-10-batches-bin is used if `dir` itself lacks the files): data_batch_1.bin ... data_batch_5.bin, in that
/// order, if `train`, else test_batch.bin. Each file is a sequence of 3073-byte
/// records: a label byte (0..9) then 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
/// each 32x32 row-major). Gives images [N, 3, 32, 32]. Throws util::InputError
/// naming the file for a missing file, an empty file, a size that is not a multiple
/// of 3073, or a label above 9 (with its byte position and record number).
Dataset LoadCifar10(const std::string& dir, bool train);

// --- splits and subsets ---

/// Two disjoint sets of indices into 0..n-1.
struct Split {
  torch::Tensor first;   ///< int64 [first_count]
  torch::Tensor second;  ///< int64 [second_count]
};

/// A seeded shuffle of 0..n-1 (std::mt19937_64 seeded with `seed`, then a
/// Fisher–Yates pass as in rng.h): `first` holds its first `first_count` entries
/// and `second` the next `second_count` (-1: all the rest), both in shuffled order.
/// The result depends on nothing but (n, seed) — not on LibTorch's generator, the
/// thread count or the platform — and `first` does not depend on `second_count`.
/// Throws util::InputError if n < 0, a count is negative (other than
/// second_count = -1) or first_count + second_count > n.
Split SeededSplit(int64_t n, int64_t first_count, int64_t second_count, uint64_t seed);

/// The examples of `data` at `indices` (a 1-D integer tensor, in that order;
/// repeats allowed), sharing its images (the labels and rows are copied). Throws util::InputError for an
/// index outside 0..N-1 or a tensor that is not a 1-D integer tensor.
Dataset Subset(const Dataset& data, const torch::Tensor& indices);

/// The set's images in example order, uint8 [N, C, H, W]: `images` itself for a
/// set without rows, else a gathered copy (for small sets and tests).
torch::Tensor ExampleImages(const Dataset& data);

/// `indices` as a contiguous int64 tensor, after checking that it is a 1-D integer
/// tensor (not bool) whose entries are all in 0..N-1 of `data`. Throws
/// util::InputError "NAME: WHAT[i]: expected an index in 0..N-1, got V".
torch::Tensor CheckedIndices(const Dataset& data, const torch::Tensor& indices,
                             const std::string& what);

/// Checks the invariants of Dataset (shapes, dtypes, label range, C-sized mean and
/// std, num_classes names). Throws util::InputError naming `data.name`.
void ValidateDataset(const Dataset& data);

}  // namespace haq::data
