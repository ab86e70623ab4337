#pragma once
/// NumPy .npy (format 1.0) reading and writing of little-endian int64 arrays, the
/// layout of HAQ's released latency table.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace haq::util {

struct NpyInt64 {
  std::vector<int64_t> shape;
  std::vector<int64_t> data;  ///< C order
};

/// The bytes of a .npy file holding `array`.
std::string EncodeNpy(const NpyInt64& array);
/// Parses .npy bytes; only '<i8' C-order arrays. Throws InputError naming `source`.
NpyInt64 DecodeNpy(const std::string& bytes, const std::string& source);

NpyInt64 ReadNpy(const std::filesystem::path& path);
void WriteNpyAtomic(const std::filesystem::path& path, const NpyInt64& array);

}  // namespace haq::util
