#pragma once
/// The IDX file format of MNIST and Fashion-MNIST, unsigned-byte variant:
///
///   bytes 0-3    magic number 0x000008NN (0x08 = unsigned byte, NN = dimension count)
///   bytes 4-...  NN sizes, big-endian 32-bit, outermost first
///   then         the product of the sizes in data bytes, C order, and nothing else.
///
/// Files may be gzip-compressed or plain; the reader tells them apart by content.
/// Byte positions in error messages count bytes of the (decompressed) IDX content.
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace haq::data {

/// The most data bytes an IDX file may declare (8 GiB); a header declaring more is
/// refused before anything is allocated.
inline constexpr int64_t kMaxIdxDataBytes = int64_t{1} << 33;

/// Reads an IDX image file (magic 0x00000803): uint8 [N, rows, cols].
/// Throws util::IoError if the file cannot be opened or read, and util::InputError
/// ("PATH: byte B: expected X, got Y") for a wrong magic number, a short header, a
/// size outside 1..2^31-1, a declared size above kMaxIdxDataBytes, data shorter than
/// the header declares, bytes after the data, or corrupt gzip data.
torch::Tensor ReadIdxImages(const std::string& path);

/// Reads an IDX label file (magic 0x00000801): uint8 [N]. Errors as ReadIdxImages.
torch::Tensor ReadIdxLabels(const std::string& path);

}  // namespace haq::data
