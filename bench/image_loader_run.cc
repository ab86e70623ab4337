// The image-folder path at 224 px: how fast images come from JPEG files (decode,
// resize, centre crop: the cache's build) and from the cache (batches of 64 as a
// fine-tune reads them), and how much memory the process needs doing either.
//
//   build/bench/image_loader_run make DIR N       writes N JPEGs (photo-like, sizes
//                                                 as ImageNet's: 300..500 x 300..500)
//                                                 into DIR/train/c0..c9 and 10 into DIR/val
//   build/bench/image_loader_run build DIR CACHE  builds the cache of DIR/train at
//                                                 3x224x224 (images/s from JPEG)
//   build/bench/image_loader_run read DIR CACHE [EPOCHS]
//                                                 opens the cache, reads every image in
//                                                 shuffled batches of 64 (images/s)
//
// Threads: OMP_NUM_THREADS (LibTorch's intra-op threads). Each command prints one
// line "what N images S s R images/s T threads" and, from getrusage and
// /proc/self/status, the process's peak resident memory and its anonymous part
// (validation and the loader release the cache's file-backed pages once read).
// bench/image_loader.sh runs them side by side.
#include <fmt/format.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>

#include "data/image_cache.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "data/options.h"

namespace {

using namespace haq;
namespace fs = std::filesystem;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// "VmHWM" and "RssAnon" of /proc/self/status in MiB.
std::string Memory() {
  std::ifstream in("/proc/self/status");
  std::string line, hwm = "?", anon = "?";
  while (std::getline(in, line)) {
    auto value = [&](const std::string& key) {
      return fmt::format("{:.0f}", std::stod(line.substr(key.size())) / 1024.0);
    };
    if (line.starts_with("VmHWM:")) hwm = value("VmHWM:");
    if (line.starts_with("RssAnon:")) anon = value("RssAnon:");
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return fmt::format("peak resident {:.0f} MiB (VmHWM {} MiB), anonymous now {} MiB",
                     static_cast<double>(ru.ru_maxrss) / 1024.0, hwm, anon);
}

/// A photo-like JPEG: smooth colour fields with noise (compresses as photos do).
void WriteJpeg(const fs::path& path, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> side(300, 500), shift(0, 255);
  const int h = side(rng), w = side(rng);
  const int a = shift(rng), b = shift(rng), c = shift(rng);
  cv::Mat m(h, w, CV_8UC3);
  std::normal_distribution<double> noise(0.0, 10.0);
  for (int y = 0; y < h; ++y) {
    auto* row = m.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      row[3 * x] = cv::saturate_cast<uint8_t>((x + a) % 256 + noise(rng));
      row[3 * x + 1] = cv::saturate_cast<uint8_t>((y + b) % 256 + noise(rng));
      row[3 * x + 2] = cv::saturate_cast<uint8_t>((x + y + c) % 256 + noise(rng));
    }
  }
  cv::imwrite(path.string(), m, {cv::IMWRITE_JPEG_QUALITY, 90});
}

int Make(const fs::path& dir, int64_t n) {
  std::mt19937_64 rng(2026);
  for (const auto& [split, count] : {std::pair{"train", n}, std::pair{"val", int64_t{10}}}) {
    for (int64_t i = 0; i < count; ++i) {
      const fs::path p = dir / split / fmt::format("c{}", i % 10) / fmt::format("{:07}.jpg", i);
      fs::create_directories(p.parent_path());
      WriteJpeg(p, rng);
    }
  }
  fmt::print("wrote {} + 10 JPEGs under {}\n", n, dir.string());
  return 0;
}

data::ImageFolderListing Listing(const fs::path& dir) {
  return data::ListImageFolder(dir, "train", data::ImageFolderClasses(dir, {}));
}

const data::ImageGeometry k224{3, 224, 224};

int Build(const fs::path& dir, const fs::path& cache) {
  const data::ImageFolderListing l = Listing(dir);
  fs::remove_all(cache);
  const auto t0 = std::chrono::steady_clock::now();
  const data::CachedImages c = data::OpenImageCache(l, k224, {cache, nullptr});
  const double s = Seconds(t0);
  fmt::print("from JPEG {} images {:.2f} s {:.1f} images/s {} threads; {}\n", c.images.size(0), s,
             static_cast<double>(c.images.size(0)) / s, torch::get_num_threads(), Memory());
  return 0;
}

int Read(const fs::path& dir, const fs::path& cache, int64_t epochs) {
  const data::ImageFolderListing l = Listing(dir);
  const auto t_open = std::chrono::steady_clock::now();
  const data::CachedImages c = data::OpenImageCache(l, k224, {cache, nullptr});
  const double open_s = Seconds(t_open);
  if (c.built) fmt::print("note: the cache was built now; run 'build' first to time reading alone\n");
  data::Dataset d;
  d.name = "bench";
  d.images = c.images;
  d.mapped = true;  // as LoadDataset marks a cache: the loader releases what it read
  d.labels = c.labels;
  d.num_classes = 10;
  for (int k = 0; k < 10; ++k) d.class_names.push_back(fmt::format("c{}", k));
  d.mean = {0.485, 0.456, 0.406};
  d.std = {0.229, 0.224, 0.225};
  data::BatchLoader loader(d, {.batch_size = 64, .shuffle = true, .seed = 1});
  const auto t0 = std::chrono::steady_clock::now();
  int64_t images = 0;
  double checksum = 0;
  for (int64_t e = 0; e < epochs; ++e) {
    loader.StartEpoch(e);
    for (data::Batch b; loader.Next(b);) {
      images += b.labels.size(0);
      checksum += b.images[0][0][0][0].item<float>();
    }
  }
  const double s = Seconds(t0);
  fmt::print("from cache {} images {:.2f} s {:.1f} images/s {} threads (open and check {:.2f} s, checksum {:.3f}); {}\n",
             images, s, static_cast<double>(images) / s, torch::get_num_threads(), open_s, checksum, Memory());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "make" && argc == 4) return Make(argv[2], std::stoll(argv[3]));
    if (cmd == "build" && argc == 4) return Build(argv[2], argv[3]);
    if (cmd == "read" && (argc == 4 || argc == 5)) return Read(argv[2], argv[3], argc == 5 ? std::stoll(argv[4]) : 1);
    fmt::print(stderr, "usage: image_loader_run make DIR N | build DIR CACHE | read DIR CACHE [EPOCHS]\n");
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
