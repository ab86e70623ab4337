#include "data/dataset.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "data/idx.h"
#include "data/rng.h"
#include "util/error.h"

namespace haq::data {

namespace fs = std::filesystem;
using util::InputError;
using util::IoError;

namespace {

std::string SizesString(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// --- Fashion-MNIST ---

/// dir/stem.gz, else dir/stem; throws naming the Debian package if neither exists.
std::string FindFashionMnistFile(const fs::path& dir, const std::string& stem) {
  const fs::path gz = dir / (stem + ".gz");
  const fs::path plain = dir / stem;
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz.string();
  if (fs::exists(plain, ec)) return plain.string();
  throw InputError(fmt::format(
      "{}: Fashion-MNIST file not found (nor {}); install the Debian package "
      "dataset-fashion-mnist (apt-get install dataset-fashion-mnist), which puts the files in {}",
      gz.string(), plain.string(), kFashionMnistDir));
}

// --- CIFAR-10 ---

constexpr int64_t kCifarRecord = 1 + 3 * 32 * 32;
// CIFAR-10's batch files hold 10,000 records each; a file ten times larger is not
// one of them, and reading it would take memory for nothing (sizes are checked
// before anything is allocated).
constexpr int64_t kCifarMaxRecords = 100000;

}  // namespace

const std::vector<std::string>& FashionMnistClassNames() {
  static const std::vector<std::string> kNames = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                  "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
  return kNames;
}

Dataset LoadFashionMnist(const std::string& dir, bool train) {
  const fs::path base = dir.empty() ? fs::path(kFashionMnistDir) : fs::path(dir);
  const std::string prefix = train ? "train" : "t10k";
  const std::string images_path = FindFashionMnistFile(base, prefix + "-images-idx3-ubyte");
  const std::string labels_path = FindFashionMnistFile(base, prefix + "-labels-idx1-ubyte");

  torch::Tensor images = ReadIdxImages(images_path);
  for (int d = 1; d <= 2; ++d) {
    if (images.size(d) != 28) {
      throw InputError(fmt::format("{}: byte {}: expected 28 {} (Fashion-MNIST images are 28x28), got {}",
                                   images_path, 4 + 4 * d, d == 1 ? "rows" : "columns",
                                   images.size(d)));
    }
  }
  const torch::Tensor raw_labels = ReadIdxLabels(labels_path);
  const int64_t n = images.size(0);
  if (raw_labels.size(0) != n) {
    throw InputError(fmt::format("{}: byte 4: expected {} labels (one per image in {}), got {}",
                                 labels_path, n, images_path, raw_labels.size(0)));
  }
  const uint8_t* l = raw_labels.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (l[i] >= 10) {
      throw InputError(fmt::format("{}: byte {}: expected a label in 0..9, got {} (label {})",
                                   labels_path, 8 + i, l[i], i));
    }
  }

  Dataset d;
  d.name = train ? "fashion-mnist-train" : "fashion-mnist-test";
  d.images = images.view({n, 1, 28, 28});
  d.labels = raw_labels.to(torch::kLong);
  d.num_classes = 10;
  d.class_names = FashionMnistClassNames();
  d.mean = {kFashionMnistMean};
  d.std = {kFashionMnistStd};
  return d;
}

const std::vector<std::string>& Cifar10ClassNames() {
  static const std::vector<std::string> kNames = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                  "dog",      "frog",       "horse", "ship", "truck"};
  return kNames;
}

Dataset LoadCifar10(const std::string& dir, bool train) {
  std::vector<std::string> names;
  if (train) {
    for (int i = 1; i <= 5; ++i) names.push_back(fmt::format("data_batch_{}.bin", i));
  } else {
    names.push_back("test_batch.bin");
  }
  fs::path base = dir.empty() ? fs::path(".") : fs::path(dir);
  std::error_code ec;
  if (!fs::exists(base / names[0], ec) && fs::exists(base / "cifar-10-batches-bin" / names[0], ec)) {
    base /= "cifar-10-batches-bin";
  }

  // Check every file's presence and size before allocating.
  std::vector<std::string> paths;
  std::vector<int64_t> records;
  int64_t total = 0;
  for (const std::string& name : names) {
    const fs::path p = base / name;
    if (!fs::exists(p, ec)) {
      throw InputError(fmt::format(
          "{}: CIFAR-10 file not found; expected the binary version of CIFAR-10 "
          "(data_batch_1.bin ... data_batch_5.bin and test_batch.bin, as in cifar-10-batches-bin) in {}",
          p.string(), base.string()));
    }
    const auto size = fs::file_size(p, ec);
    if (ec) throw IoError(fmt::format("{}: cannot read: {}", p.string(), ec.message()));
    const auto bytes = static_cast<int64_t>(size);
    if (bytes == 0) {
      throw InputError(fmt::format(
          "{}: byte 0: expected 3073-byte records (1 label byte, 3072 pixel bytes), got an empty file",
          p.string()));
    }
    if (bytes % kCifarRecord != 0) {
      throw InputError(fmt::format(
          "{}: byte {}: expected a whole number of 3073-byte records (1 label byte, 3072 pixel "
          "bytes), got {} bytes ({} records and {} bytes over)",
          p.string(), bytes - bytes % kCifarRecord, bytes, bytes / kCifarRecord,
          bytes % kCifarRecord));
    }
    if (bytes / kCifarRecord > kCifarMaxRecords) {
      throw InputError(fmt::format(
          "{}: expected at most {} records of 3073 bytes (a CIFAR-10 batch file holds 10000), "
          "got {} bytes ({} records)",
          p.string(), kCifarMaxRecords, bytes, bytes / kCifarRecord));
    }
    paths.push_back(p.string());
    records.push_back(bytes / kCifarRecord);
    total += bytes / kCifarRecord;
  }

  torch::Tensor raw = torch::empty({total, kCifarRecord}, torch::kUInt8);
  auto* out = reinterpret_cast<char*>(raw.data_ptr<uint8_t>());
  for (size_t f = 0; f < paths.size(); ++f) {
    const int64_t bytes = records[f] * kCifarRecord;
    std::ifstream in(paths[f], std::ios::binary);
    if (!in) throw IoError(fmt::format("{}: cannot read: {}", paths[f], std::strerror(errno)));
    in.read(out, bytes);
    if (in.gcount() != bytes) {
      throw IoError(fmt::format("{}: read failed after {} of {} bytes (file changed while reading?)",
                                paths[f], in.gcount(), bytes));
    }
    for (int64_t r = 0; r < records[f]; ++r) {
      const auto label = static_cast<uint8_t>(out[r * kCifarRecord]);
      if (label >= 10) {
        throw InputError(fmt::format("{}: byte {}: expected a label in 0..9, got {} (record {})",
                                     paths[f], r * kCifarRecord, label, r));
      }
    }
    out += bytes;
  }

  Dataset d;
  d.name = train ? "cifar10-train" : "cifar10-test";
  d.images = raw.narrow(1, 1, kCifarRecord - 1).contiguous().view({total, 3, 32, 32});
  d.labels = raw.select(1, 0).to(torch::kLong);
  d.num_classes = 10;
  d.class_names = Cifar10ClassNames();
  d.mean.assign(std::begin(kCifar10Mean), std::end(kCifar10Mean));
  d.std.assign(std::begin(kCifar10Std), std::end(kCifar10Std));
  return d;
}

Split SeededSplit(int64_t n, int64_t first_count, int64_t second_count, uint64_t seed) {
  if (n < 0) throw InputError(fmt::format("SeededSplit: expected n >= 0, got {}", n));
  if (first_count < 0) {
    throw InputError(fmt::format("SeededSplit: expected first_count >= 0, got {}", first_count));
  }
  if (second_count < -1) {
    throw InputError(fmt::format("SeededSplit: expected second_count >= 0 or -1 (the rest), got {}",
                                 second_count));
  }
  if (first_count > n) {
    throw InputError(fmt::format("SeededSplit: expected first_count <= n = {}, got {}", n, first_count));
  }
  if (second_count == -1) second_count = n - first_count;
  if (second_count > n - first_count) {
    throw InputError(fmt::format("SeededSplit: expected first_count + second_count <= n = {}, got {} + {} = {}",
                                 n, first_count, second_count, first_count + second_count));
  }
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  std::mt19937_64 rng(seed);
  Shuffle(perm, rng);
  const auto all = torch::from_blob(perm.data(), {n}, torch::kLong);
  return Split{all.narrow(0, 0, first_count).clone(),
               all.narrow(0, first_count, second_count).clone()};
}

torch::Tensor CheckedIndices(const Dataset& data, const torch::Tensor& indices,
                             const std::string& what) {
  if (!indices.defined() || indices.dim() != 1 ||
      !at::isIntegralType(indices.scalar_type(), /*includeBool=*/false)) {
    throw InputError(fmt::format(
        "{}: {}: expected a 1-D integer tensor, got {}", data.name, what,
        indices.defined()
            ? fmt::format("{} {}", std::string(c10::toString(indices.scalar_type())), SizesString(indices))
            : std::string("an undefined tensor")));
  }
  torch::Tensor idx = indices.to(torch::kLong).contiguous();
  const int64_t n = data.size();
  const int64_t* p = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < idx.size(0); ++i) {
    if (p[i] < 0 || p[i] >= n) {
      throw InputError(fmt::format("{}: {}[{}]: expected an index in 0..{}, got {}", data.name, what, i,
                                   n - 1, p[i]));
    }
  }
  return idx;
}

Dataset Subset(const Dataset& data, const torch::Tensor& indices) {
  const torch::Tensor idx = CheckedIndices(data, indices, "subset indices");
  Dataset out = data;
  out.rows = data.rows.defined() ? data.rows.index_select(0, idx) : idx.clone();
  out.labels = data.labels.index_select(0, idx);
  return out;
}

torch::Tensor ExampleImages(const Dataset& data) {
  return data.rows.defined() ? data.images.index_select(0, data.rows) : data.images;
}

void ValidateDataset(const Dataset& data) {
  const std::string& name = data.name;
  if (!data.images.defined() || data.images.scalar_type() != torch::kUInt8 || data.images.dim() != 4) {
    throw InputError(fmt::format(
        "{}: images: expected a uint8 tensor [N, C, H, W], got {}", name,
        data.images.defined() ? fmt::format("{} {}", std::string(c10::toString(data.images.scalar_type())),
                                            SizesString(data.images))
                              : std::string("an undefined tensor")));
  }
  if (data.rows.defined()) {
    const int64_t r = data.images.size(0);
    if (data.rows.scalar_type() != torch::kLong || data.rows.dim() != 1) {
      throw InputError(fmt::format("{}: rows: expected an int64 tensor [N], got {} {}", name,
                                   std::string(c10::toString(data.rows.scalar_type())), SizesString(data.rows)));
    }
    if (data.rows.numel() > 0 && (data.rows.min().item<int64_t>() < 0 || data.rows.max().item<int64_t>() >= r)) {
      throw InputError(fmt::format("{}: rows: expected indices in 0..{} (the images), got {}..{}", name, r - 1,
                                   data.rows.min().item<int64_t>(), data.rows.max().item<int64_t>()));
    }
  }
  const int64_t n = data.size();
  if (!data.labels.defined() || data.labels.scalar_type() != torch::kLong || data.labels.dim() != 1 ||
      data.labels.size(0) != n) {
    throw InputError(fmt::format(
        "{}: labels: expected an int64 tensor [{}], got {}", name, n,
        data.labels.defined() ? fmt::format("{} {}", std::string(c10::toString(data.labels.scalar_type())),
                                            SizesString(data.labels))
                              : std::string("an undefined tensor")));
  }
  if (data.num_classes < 1) {
    throw InputError(fmt::format("{}: num_classes: expected at least 1, got {}", name, data.num_classes));
  }
  if (static_cast<int64_t>(data.class_names.size()) != data.num_classes) {
    throw InputError(fmt::format("{}: class_names: expected {} names (num_classes), got {}", name,
                                 data.num_classes, data.class_names.size()));
  }
  const int64_t c = data.images.size(1);
  if (static_cast<int64_t>(data.mean.size()) != c || static_cast<int64_t>(data.std.size()) != c) {
    throw InputError(fmt::format("{}: mean, std: expected {} each (one per channel), got {} and {}",
                                 name, c, data.mean.size(), data.std.size()));
  }
  for (size_t i = 0; i < data.std.size(); ++i) {
    if (!(data.std[i] > 0)) {
      throw InputError(fmt::format("{}: std[{}]: expected a positive value, got {}", name, i, data.std[i]));
    }
  }
  if (n > 0) {
    const int64_t lo = data.labels.min().item<int64_t>();
    const int64_t hi = data.labels.max().item<int64_t>();
    if (lo < 0 || hi >= data.num_classes) {
      const torch::Tensor bad = ((data.labels < 0) | (data.labels >= data.num_classes)).nonzero();
      const int64_t i = bad[0][0].item<int64_t>();
      throw InputError(fmt::format("{}: labels[{}]: expected a label in 0..{}, got {}", name, i,
                                   data.num_classes - 1, data.labels[i].item<int64_t>()));
    }
  }
}

}  // namespace haq::data
