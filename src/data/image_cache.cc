#include "data/image_cache.h"

#include <ATen/Parallel.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>
#include <zlib.h>

#include <opencv2/core/utility.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include "data/image_io.h"
#include "util/error.h"
#include "util/file.h"
#include "util/progress.h"

namespace haq::data {

namespace fs = std::filesystem;
using util::InputError;
using util::IoError;

namespace {

// Layout (little-endian, as every x86-64 machine writes it):
//   [0, 8)    magic "HAQIMG01"
//   [8, 16)   u64 key length K
//   [16, 16+K) the key (text, see CacheKey)
//   then      u64 N, C, H, W, u64 CRC-32 of the payload
//   padding   to a multiple of 64 bytes: the payload's offset
//   payload   int64 labels [N], then uint8 images [N, C, H, W]
constexpr char kMagic[8] = {'H', 'A', 'Q', 'I', 'M', 'G', '0', '1'};
constexpr uint64_t kAlign = 64;
// Bumped whenever decoding or preprocessing changes what a cache holds.
constexpr int kTransformVersion = 1;

std::string CacheKey(const ImageFolderListing& l, const ImageGeometry& g) {
  std::string key = fmt::format(
      "haq image cache\ntransform eval v{}: decode (OpenCV), {} channel(s), resize shorter side to {} "
      "(bilinear, antialiased) unless already {}x{}, centre crop {}x{}\nroot {}\nclasses {}\n",
      kTransformVersion, g.channels, EvalResizeSize(g.height, g.width), g.height, g.width, g.height, g.width,
      fs::absolute(l.root).lexically_normal().string(), l.class_names.size());
  for (const std::string& c : l.class_names) key.append(c).append("\n");
  key += fmt::format("images {}\n", l.files.size());
  for (const ImageFile& f : l.files) key += fmt::format("{}\t{}\t{}\t{}\n", f.path, f.bytes, f.mtime_ns, f.label);
  return key;
}

uint32_t Crc(const void* data, uint64_t bytes, uint32_t crc = 0) {
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(bytes)));
}

struct Header {
  uint64_t n = 0, c = 0, h = 0, w = 0, crc = 0;
};

uint64_t PayloadOffset(uint64_t key_len) {
  const uint64_t end = 16 + key_len + 5 * 8;
  return (end + kAlign - 1) / kAlign * kAlign;
}

/// A read-only mapping of a whole file, unmapped when the last tensor over it goes.
struct Mapping {
  void* base = MAP_FAILED;
  size_t bytes = 0;
  ~Mapping() {
    if (base != MAP_FAILED) ::munmap(base, bytes);
  }
  const unsigned char* data() const { return static_cast<const unsigned char*>(base); }
};

/// Why `file` cannot serve `key` at geometry `g` ("" when it can), and the payload
/// tensors if it can.
std::string Validate(const fs::path& file, const std::string& key, const ImageGeometry& g,
                     const std::shared_ptr<Mapping>& map, CachedImages& out) {
  const unsigned char* p = map->data();
  const uint64_t size = map->bytes;
  if (size < 16 || std::memcmp(p, kMagic, 8) != 0) return "not a haq image cache (bad magic)";
  uint64_t key_len = 0;
  std::memcpy(&key_len, p + 8, 8);
  if (key_len > size || PayloadOffset(key_len) > size) return "truncated header";
  if (key_len != key.size() || std::memcmp(p + 16, key.data(), key.size()) != 0) {
    return "made from other images, classes or preprocessing";
  }
  Header h;
  std::memcpy(&h, p + 16 + key_len, sizeof h);
  const uint64_t image_bytes = static_cast<uint64_t>(g.channels * g.height * g.width);
  if (h.c != static_cast<uint64_t>(g.channels) || h.h != static_cast<uint64_t>(g.height) ||
      h.w != static_cast<uint64_t>(g.width)) {
    return "another image size";
  }
  const uint64_t offset = PayloadOffset(key_len);
  if (h.n > size) return "bad image count";
  const uint64_t payload = h.n * 8 + h.n * image_bytes;
  if (size != offset + payload) {
    return fmt::format("{} bytes where {} were expected (truncated or overwritten)", size, offset + payload);
  }
  // Checksummed a chunk at a time, each chunk's pages released once read, so
  // validating a cache larger than memory leaves the process's resident set small.
  constexpr uint64_t kChunk = uint64_t{64} << 20;
  uint32_t crc = 0;
  for (uint64_t at = 0; at < payload; at += kChunk) {
    const uint64_t len = std::min(kChunk, payload - at);
    crc = Crc(p + offset + at, len, crc);
    ReleaseMappedPages(p, size, p + offset + at, len);
  }
  if (crc != h.crc) return "checksum mismatch (the file was damaged)";
  const auto n64 = static_cast<int64_t>(h.n);
  out.labels = torch::empty({n64}, torch::kInt64);
  std::memcpy(out.labels.data_ptr<int64_t>(), p + offset, h.n * 8);
  std::shared_ptr<Mapping> keep = map;
  out.images = torch::from_blob(const_cast<unsigned char*>(p + offset + h.n * 8),
                                {n64, g.channels, g.height, g.width}, [keep](void*) {}, torch::kUInt8);
  out.file = file;
  return "";
}

std::shared_ptr<Mapping> MapFile(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) throw IoError(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  struct stat st {};
  auto m = std::make_shared<Mapping>();
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError(fmt::format("{}: cannot read its size: {}", file.string(), std::strerror(err)));
  }
  m->bytes = static_cast<size_t>(st.st_size);
  if (m->bytes > 0) {
    m->base = ::mmap(nullptr, m->bytes, PROT_READ, MAP_SHARED, fd, 0);
  }
  const int err = errno;
  ::close(fd);
  if (m->bytes > 0 && m->base == MAP_FAILED) {
    throw IoError(fmt::format("{}: cannot map it into memory: {}", file.string(), std::strerror(err)));
  }
  return m;
}

/// Writes `bytes` at `offset` of `out`'s temp file (pwrite: safe from several threads).
void WriteAt(util::AtomicFile& out, const void* data, uint64_t bytes, uint64_t offset) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(out.fd(), p, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) out.Fail(n == 0 ? EIO : errno, "write failed: ");
    p += n;
    bytes -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

/// Decodes and preprocesses every image of `l` into a new cache file at `file`.
/// Each image is written where it belongs as soon as it is ready (no image is held
/// longer), so memory stays at a few images per thread whatever the folder's size.
void Build(const ImageFolderListing& l, const ImageGeometry& g, const std::string& key, const fs::path& file,
           std::FILE* progress) {
  const uint64_t n = l.files.size();
  const uint64_t image_bytes = static_cast<uint64_t>(g.channels * g.height * g.width);
  const uint64_t offset = PayloadOffset(key.size());
  util::AtomicFile out(file);

  std::vector<int64_t> labels(n);
  for (uint64_t i = 0; i < n; ++i) labels[i] = l.files[i].label;
  WriteAt(out, labels.data(), n * 8, offset);
  std::vector<uint32_t> crcs(n);  // of each image, combined in order below

  util::Progress bar(progress, fmt::format("caching {} images of {}", n, l.root.string()),
                     static_cast<int64_t>(n), "img");
  std::atomic<int64_t> done{0};
  std::mutex error_mutex;
  int64_t error_index = std::numeric_limits<int64_t>::max();
  std::string error;
  const uint64_t images_at = offset + n * 8;
  // OpenCV's own thread pool (cvtColor splits a photo over every core) is turned off
  // while the images are spread over LibTorch's threads: both at once oversubscribe
  // the cores.
  const int cv_threads = cv::getNumThreads();
  cv::setNumThreads(0);
  struct RestoreCvThreads {
    int n;
    ~RestoreCvThreads() { cv::setNumThreads(n); }
  } restore{cv_threads};
  // One image per iteration on LibTorch's intra-op threads; each writes only its own
  // slot, so the file is the same at every thread count. ATen calls inside run
  // single-threaded (nested parallel regions run inline).
  at::parallel_for(0, static_cast<int64_t>(n), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto k = static_cast<size_t>(i);
      try {
        const fs::path path = l.root / l.files[k].path;
        const torch::Tensor img = EvalTransform(DecodeImage(path.string(), g.channels), g.height, g.width);
        crcs[k] = Crc(img.data_ptr<uint8_t>(), image_bytes);
        WriteAt(out, img.data_ptr<uint8_t>(), image_bytes, images_at + static_cast<uint64_t>(i) * image_bytes);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error = e.what();
        }
      }
      const int64_t now = ++done;
      if (at::get_thread_num() == 0) bar.Update(now);
    }
  });
  if (error_index != std::numeric_limits<int64_t>::max()) throw InputError(error);

  uint32_t crc = Crc(labels.data(), n * 8);
  for (uint32_t c : crcs) crc = static_cast<uint32_t>(crc32_combine(crc, c, static_cast<z_off_t>(image_bytes)));
  std::string header(offset, '\0');
  std::memcpy(header.data(), kMagic, 8);
  const uint64_t key_len = key.size();
  std::memcpy(header.data() + 8, &key_len, 8);
  std::memcpy(header.data() + 16, key.data(), key.size());
  const Header h{n, static_cast<uint64_t>(g.channels), static_cast<uint64_t>(g.height),
                 static_cast<uint64_t>(g.width), crc};
  std::memcpy(header.data() + 16 + key_len, &h, sizeof h);
  WriteAt(out, header.data(), header.size(), 0);
  out.Commit();
  bar.Finish();
}

}  // namespace

void ReleaseMappedPages(const void* region, size_t region_bytes, const void* data, size_t bytes) {
  if (bytes == 0) return;
  // Reading a page of a file mapping makes the kernel map the cached pages of the
  // aligned window around it too ("fault-around", 64 KiB by default), so the
  // window is released, not just the pages read; clamped to the region's pages.
  constexpr uintptr_t kFaultAround = 64 * 1024;
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto lo = reinterpret_cast<uintptr_t>(region) / page * page;
  const auto hi = (reinterpret_cast<uintptr_t>(region) + region_bytes + page - 1) / page * page;
  const auto begin = std::max(lo, reinterpret_cast<uintptr_t>(data) / kFaultAround * kFaultAround);
  const auto end =
      std::min(hi, (reinterpret_cast<uintptr_t>(data) + bytes + kFaultAround - 1) / kFaultAround * kFaultAround);
  // Advice only: a failure leaves the pages mapped, which costs memory, not results.
  if (begin < end) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

namespace {
fs::path CachePath(const ImageFolderListing& listing, const ImageGeometry& g, const fs::path& dir,
                   const std::string& key) {
  const std::string split = listing.root.filename().string();
  return dir / fmt::format("{}-{}x{}x{}-{:08x}.haqimg", split.empty() ? "images" : split, g.channels, g.height,
                           g.width, Crc(key.data(), key.size()));
}
}  // namespace

fs::path ImageCachePath(const ImageFolderListing& listing, const ImageGeometry& g, const fs::path& dir) {
  return CachePath(listing, g, dir, CacheKey(listing, g));
}

CachedImages OpenImageCache(const ImageFolderListing& listing, const ImageGeometry& g,
                            const ImageCacheOptions& options) {
  if (g.channels < 1 || g.height < 1 || g.width < 1) {
    throw InputError(fmt::format("image cache: expected a positive geometry, got {}x{}x{}", g.channels, g.height,
                                 g.width));
  }
  const std::string key = CacheKey(listing, g);
  const fs::path file = CachePath(listing, g, options.dir, key);
  std::error_code ec;
  CachedImages out;
  if (fs::exists(file, ec)) {
    const std::string why = Validate(file, key, g, MapFile(file), out);
    if (why.empty()) return out;
    if (options.progress) fmt::print(options.progress, "image cache {}: {}; rebuilding it\n", file.string(), why);
  }
  fs::create_directories(options.dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the image cache folder: {}", options.dir.string(), ec.message()));
  Build(listing, g, key, file, options.progress);
  const std::string why = Validate(file, key, g, MapFile(file), out);
  if (!why.empty()) throw IoError(fmt::format("{}: the image cache just written does not read back: {}", file.string(), why));
  out.built = true;
  return out;
}

}  // namespace haq::data
