#include "util/npy.h"

#include <fmt/format.h>

#include <cstring>
#include <regex>

#include "util/error.h"
#include "util/file.h"

namespace haq::util {

namespace {
constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
}  // namespace

std::string EncodeNpy(const NpyInt64& a) {
  std::string shape;
  for (size_t i = 0; i < a.shape.size(); ++i) {
    if (i) shape += ", ";
    shape += std::to_string(a.shape[i]);
  }
  if (a.shape.size() == 1) shape += ",";  // a 1-tuple, as Python writes it
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Pad with spaces so that magic + version + length + header is a multiple of 64.
  const size_t unpadded = kMagicLen + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  const auto len = static_cast<uint16_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += header;
  const size_t offset = out.size();
  out.resize(offset + a.data.size() * sizeof(int64_t));
  // (an empty vector's data() may be null, which memcpy must not get even for 0 bytes)
  if (!a.data.empty()) {
    std::memcpy(out.data() + offset, a.data.data(), a.data.size() * sizeof(int64_t));
  }
  return out;
}

NpyInt64 DecodeNpy(const std::string& bytes, const std::string& source) {
  auto fail = [&](const std::string& what) -> NpyInt64 {
    throw InputError(fmt::format("{}: not a valid .npy int64 array: {}", source, what));
  };
  if (bytes.size() < 10 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0) {
    return fail("missing the \\x93NUMPY magic");
  }
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return fail("truncated header");
    for (int i = 3; i >= 0; --i) header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
    header_start = 12;
  } else {
    return fail(fmt::format("unsupported format version {}", major));
  }
  if (header_start + header_len > bytes.size()) return fail("truncated header");
  const std::string header = bytes.substr(header_start, header_len);
  if (header.find("'descr': '<i8'") == std::string::npos) {
    return fail("expected dtype '<i8' (little-endian int64), header is " + header);
  }
  if (header.find("'fortran_order': False") == std::string::npos) {
    return fail("expected C order (fortran_order False)");
  }
  std::smatch m;
  static const std::regex kShape(R"('shape': \(([0-9, ]*)\))");
  if (!std::regex_search(header, m, kShape)) return fail("no shape in header " + header);
  NpyInt64 a;
  const std::string dims = m[1];
  int64_t count = 1;
  static const std::regex kDim("[0-9]+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), kDim); it != std::sregex_iterator();
       ++it) {
    const std::string d = it->str();
    if (d.size() > 12) return fail("dimension too large: " + d);
    a.shape.push_back(std::stoll(d));
    if (__builtin_mul_overflow(count, a.shape.back(), &count) || count > (int64_t{1} << 32)) {
      return fail("more than 2^32 elements");
    }
  }
  const size_t data_start = header_start + header_len;
  const size_t want = static_cast<size_t>(count) * sizeof(int64_t);
  if (bytes.size() - data_start != want) {
    return fail(fmt::format("expected {} data bytes for shape ({}), got {}", want, dims,
                            bytes.size() - data_start));
  }
  a.data.resize(static_cast<size_t>(count));
  if (want > 0) std::memcpy(a.data.data(), bytes.data() + data_start, want);
  return a;
}

NpyInt64 ReadNpy(const std::filesystem::path& path) {
  return DecodeNpy(ReadFile(path), path.string());
}

void WriteNpyAtomic(const std::filesystem::path& path, const NpyInt64& array) {
  WriteFileAtomic(path, EncodeNpy(array));
}

}  // namespace haq::util
