#pragma once
// Writers of small IDX and CIFAR-10 files for the data-set tests.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace haq::test {

/// Big-endian 32-bit.
inline std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

/// An IDX file: magic, sizes, data.
inline std::string IdxBytes(uint32_t magic, const std::vector<uint32_t>& dims, const std::string& data) {
  std::string s = Be32(magic);
  for (const uint32_t d : dims) s += Be32(d);
  return s + data;
}

/// Pixel (i, r, c) of the synthetic image sets: distinct-looking, all byte values.
inline uint8_t Pixel(int64_t i, int64_t r, int64_t c) {
  return static_cast<uint8_t>((i * 37 + r * 11 + c * 3) % 256);
}

/// An IDX images file of n images of rows x cols with pixels Pixel(i, r, c).
inline std::string IdxImages(uint32_t n, uint32_t rows, uint32_t cols) {
  std::string data;
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < cols; ++c) data += static_cast<char>(Pixel(i, r, c));
  return IdxBytes(0x803, {n, rows, cols}, data);
}

inline std::string IdxLabels(const std::vector<uint8_t>& labels) {
  return IdxBytes(0x801, {static_cast<uint32_t>(labels.size())},
                  std::string(labels.begin(), labels.end()));
}

inline void WriteRaw(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline std::string ReadRaw(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Writes `bytes` gzip-compressed.
inline void WriteGz(const std::filesystem::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + p.string());
  size_t done = 0;
  while (done < bytes.size()) {
    const auto n = static_cast<unsigned>(std::min<size_t>(bytes.size() - done, 1u << 30));
    if (gzwrite(f, bytes.data() + done, n) != static_cast<int>(n)) {
      gzclose(f);
      throw std::runtime_error("gzwrite failed on " + p.string());
    }
    done += n;
  }
  if (gzclose(f) != Z_OK) throw std::runtime_error("gzclose failed on " + p.string());
}

/// A CIFAR-10 record: label byte then 3072 pixels (k + seed) % 256.
inline std::string CifarRecord(uint8_t label, int seed) {
  std::string r(1, static_cast<char>(label));
  for (int k = 0; k < 3072; ++k) r += static_cast<char>((k + seed) % 256);
  return r;
}

}  // namespace haq::test
