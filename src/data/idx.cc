#include "data/idx.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "util/error.h"

namespace haq::data {

namespace {

using util::InputError;
using util::IoError;

/// Sequential reader of a plain or gzip-compressed file (zlib's gz* API detects
/// which), counting delivered bytes for error positions.
class ContentReader {
 public:
  explicit ContentReader(const std::string& path) : path_(path) {
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw IoError(fmt::format("{}: cannot read: {}", path,
                                errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(file_, 1 << 18);
  }
  ~ContentReader() { gzclose(file_); }
  ContentReader(const ContentReader&) = delete;
  ContentReader& operator=(const ContentReader&) = delete;

  /// Reads up to `n` bytes into `dst`; fewer only at the end of the content (which
  /// includes a gzip stream cut short: see cut_short()).
  int64_t Read(void* dst, int64_t n) {
    auto* out = static_cast<char*>(dst);
    int64_t got = 0;
    while (got < n) {
      const auto chunk = static_cast<unsigned>(std::min<int64_t>(n - got, int64_t{1} << 30));
      const int r = gzread(file_, out + got, chunk);
      if (r < 0) Fail(pos_ + got);
      if (r == 0) break;
      got += r;
    }
    pos_ += got;
    return got;
  }

  /// Bytes of content delivered so far.
  int64_t pos() const { return pos_; }
  /// Whether the file is gzip-compressed (rather than read as is).
  bool compressed() const { return gzdirect(file_) == 0; }
  /// Whether the gzip stream ended early (no CRC/length trailer).
  bool cut_short() const {
    int errnum = Z_OK;
    gzerror(file_, &errnum);
    return errnum == Z_BUF_ERROR;
  }

 private:
  [[noreturn]] void Fail(int64_t pos) const {
    int errnum = Z_OK;
    const char* msg = gzerror(file_, &errnum);
    if (errnum == Z_ERRNO) {
      throw IoError(fmt::format("{}: read failed: {}", path_, std::strerror(errno)));
    }
    std::string why = msg != nullptr ? msg : "unknown zlib error";
    if (why.rfind(path_ + ": ", 0) == 0) why.erase(0, path_.size() + 2);  // zlib prefixes the path
    throw InputError(
        fmt::format("{}: byte {}: expected valid gzip data, got a corrupt stream ({})", path_, pos, why));
  }

  std::string path_;
  gzFile file_ = nullptr;
  int64_t pos_ = 0;
};

std::string Bytes(int64_t n) { return fmt::format("{} byte{}", n, n == 1 ? "" : "s"); }

uint32_t BigEndian32(const unsigned char* b) {
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
}

struct IdxKind {
  const char* name;                         ///< for the magic-number message
  std::vector<const char*> dim_names;       ///< one per dimension
};

std::string Describe(const IdxKind& kind, const std::vector<int64_t>& dims) {
  if (dims.size() == 3) return fmt::format("{} images of {}x{}", dims[0], dims[1], dims[2]);
  return fmt::format("{} {}", dims[0], kind.name);
}

torch::Tensor ReadIdx(const std::string& path, const IdxKind& kind) {
  ContentReader in(path);
  const auto ndims = static_cast<int64_t>(kind.dim_names.size());
  const uint32_t want_magic = 0x00000800u | static_cast<uint32_t>(ndims);

  std::array<unsigned char, 4> word{};
  if (const int64_t got = in.Read(word.data(), 4); got < 4) {
    throw InputError(fmt::format(
        "{}: byte 0: expected IDX magic number 0x{:08x} ({}: unsigned bytes, {} dimension{}), got {}",
        path, want_magic, kind.name, ndims, ndims == 1 ? "" : "s",
        got == 0 ? std::string("an empty file") : "end of file after " + Bytes(got)));
  }
  const uint32_t magic = BigEndian32(word.data());
  if (magic != want_magic) {
    throw InputError(fmt::format(
        "{}: byte 0: expected IDX magic number 0x{:08x} ({}: unsigned bytes, {} dimension{}), "
        "got 0x{:08x}",
        path, want_magic, kind.name, ndims, ndims == 1 ? "" : "s", magic));
  }

  std::vector<int64_t> dims;
  for (int64_t i = 0; i < ndims; ++i) {
    const int64_t at = 4 + 4 * i;
    const char* what = kind.dim_names[static_cast<size_t>(i)];
    if (const int64_t got = in.Read(word.data(), 4); got < 4) {
      throw InputError(fmt::format("{}: byte {}: expected {} (4 bytes), got end of file after {}",
                                   path, at, what, Bytes(got)));
    }
    const uint32_t v = BigEndian32(word.data());
    if (v == 0 || v > 0x7fffffffu) {
      throw InputError(
          fmt::format("{}: byte {}: expected {} between 1 and 2147483647, got {}", path, at, what, v));
    }
    dims.push_back(v);
  }
  const int64_t header = 4 + 4 * ndims;

  // Guard the size before allocating anything.
  int64_t total = 1;
  for (const int64_t d : dims) {
    if (d > kMaxIdxDataBytes / total) {
      std::string sizes;
      for (const int64_t s : dims) sizes += (sizes.empty() ? "" : " x ") + std::to_string(s);
      throw InputError(fmt::format("{}: byte 4: expected at most {} data bytes, got sizes {}", path,
                                   kMaxIdxDataBytes, sizes));
    }
    total *= d;
  }
  auto truncated = [&](int64_t got) {
    return InputError(fmt::format("{}: byte {}: expected {} data bytes ({}), got end of file after {}",
                                  path, header + got, total, Describe(kind, dims), got));
  };

  // A plain file's size is known: check it before allocating. A compressed one
  // grows its buffer as data arrives, so a lying header cannot allocate much more
  // than the file really holds.
  int64_t capacity = std::min<int64_t>(total, int64_t{1} << 26);
  if (!in.compressed()) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) {
      const int64_t avail = static_cast<int64_t>(size) - header;
      if (avail < total) throw truncated(std::max<int64_t>(avail, 0));
      capacity = total;
    }
  }
  std::unique_ptr<uint8_t[]> buf(new uint8_t[static_cast<size_t>(capacity)]);
  int64_t have = 0;
  while (have < total) {
    if (have == capacity) {
      const int64_t bigger = std::min(total, capacity * 2);
      std::unique_ptr<uint8_t[]> grown(new uint8_t[static_cast<size_t>(bigger)]);
      std::memcpy(grown.get(), buf.get(), static_cast<size_t>(have));
      buf = std::move(grown);
      capacity = bigger;
    }
    const int64_t got = in.Read(buf.get() + have, capacity - have);
    have += got;
    if (have < capacity) break;  // end of content
  }
  if (have < total) throw truncated(have);

  // Nothing may follow the data.
  int64_t extra = 0;
  std::vector<char> sink(1 << 16);
  for (int64_t got; (got = in.Read(sink.data(), static_cast<int64_t>(sink.size()))) > 0;) {
    extra += got;
  }
  if (extra > 0) {
    throw InputError(fmt::format("{}: byte {}: expected end of file after {} data bytes ({}), got {} more byte{}",
                                 path, header + total, total, Describe(kind, dims), extra,
                                 extra == 1 ? "" : "s"));
  }
  if (in.compressed() && in.cut_short()) {
    throw InputError(fmt::format(
        "{}: byte {}: expected the end of the gzip stream (CRC and length), got end of file "
        "(the .gz file is truncated)",
        path, in.pos()));
  }

  torch::Tensor out = torch::from_blob(
      buf.get(), dims, [](void* p) { delete[] static_cast<uint8_t*>(p); },
      torch::TensorOptions().dtype(torch::kUInt8));
  buf.release();  // now owned by the tensor
  return out;
}

}  // namespace

torch::Tensor ReadIdxImages(const std::string& path) {
  static const IdxKind kImages{"images", {"number of images", "number of rows", "number of columns"}};
  return ReadIdx(path, kImages);
}

torch::Tensor ReadIdxLabels(const std::string& path) {
  static const IdxKind kLabels{"labels", {"number of labels"}};
  return ReadIdx(path, kLabels);
}

}  // namespace haq::data
