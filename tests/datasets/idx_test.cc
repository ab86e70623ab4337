#include "data/idx.h"

#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "datasets/data_files.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::data {
namespace {

using test::ErrorOf;
using test::IdxBytes;
using test::IdxImages;
using test::IdxLabels;
using test::TempDir;
using test::WriteGz;
using test::WriteRaw;
namespace fs = std::filesystem;
using util::InputError;

torch::Tensor ExpectedImages(int64_t n, int64_t rows, int64_t cols) {
  torch::Tensor t = torch::empty({n, rows, cols}, torch::kUInt8);
  auto a = t.accessor<uint8_t, 3>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) a[i][r][c] = test::Pixel(i, r, c);
  return t;
}

std::string ImagesError(const std::string& path) {
  return ErrorOf<InputError>([&] { ReadIdxImages(path); });
}
std::string LabelsError(const std::string& path) {
  return ErrorOf<InputError>([&] { ReadIdxLabels(path); });
}

class IdxTest : public ::testing::TestWithParam<bool> {
 protected:
  /// Writes `bytes` as NAME (plain) or NAME.gz, per the test parameter.
  std::string Write(const std::string& name, const std::string& bytes) {
    if (GetParam()) {
      const auto p = dir_ / (name + ".gz");
      WriteGz(p, bytes);
      return p.string();
    }
    const auto p = dir_ / name;
    WriteRaw(p, bytes);
    return p.string();
  }
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(PlainAndGzip, IdxTest, ::testing::Values(false, true),
                         [](const auto& param_info) { return param_info.param ? "gzip" : "plain"; });

TEST_P(IdxTest, ImagesRoundTrip) {
  const std::string p = Write("img", IdxImages(3, 4, 5));
  const torch::Tensor t = ReadIdxImages(p);
  EXPECT_EQ(t.scalar_type(), torch::kUInt8);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(torch::equal(t, ExpectedImages(3, 4, 5)));
}

TEST_P(IdxTest, LabelsRoundTrip) {
  const std::string p = Write("lbl", IdxLabels({7, 0, 9, 255}));
  const torch::Tensor t = ReadIdxLabels(p);
  EXPECT_EQ(t.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(t, torch::tensor({7, 0, 9, 255}, torch::kUInt8)));
}

TEST_P(IdxTest, WrongMagicNumber) {
  // A label file where images are expected, a float IDX file, and junk.
  std::string p = Write("a", IdxLabels({1, 2}));
  EXPECT_EQ(ImagesError(p), p + ": byte 0: expected IDX magic number 0x00000803 (images: unsigned "
                                "bytes, 3 dimensions), got 0x00000801");
  p = Write("b", IdxBytes(0x0d01, {1}, "abcd"));
  EXPECT_EQ(LabelsError(p), p + ": byte 0: expected IDX magic number 0x00000801 (labels: unsigned "
                                "bytes, 1 dimension), got 0x00000d01");
  p = Write("c", "GIF89a, not an IDX file");
  EXPECT_EQ(LabelsError(p), p + ": byte 0: expected IDX magic number 0x00000801 (labels: unsigned "
                                "bytes, 1 dimension), got 0x47494638");
}

TEST_P(IdxTest, TruncatedHeader) {
  std::string p = Write("empty", "");
  EXPECT_EQ(LabelsError(p), p + ": byte 0: expected IDX magic number 0x00000801 (labels: unsigned "
                                "bytes, 1 dimension), got an empty file");
  p = Write("short_magic", std::string("\0\0", 2));
  EXPECT_EQ(ImagesError(p), p + ": byte 0: expected IDX magic number 0x00000803 (images: unsigned "
                                "bytes, 3 dimensions), got end of file after 2 bytes");
  p = Write("two_dims", IdxBytes(0x803, {3, 4}, ""));
  EXPECT_EQ(ImagesError(p), p + ": byte 12: expected number of columns (4 bytes), got end of file after 0 bytes");
  p = Write("half_dim", IdxBytes(0x803, {3}, std::string("\0\0\0", 3)));
  EXPECT_EQ(ImagesError(p), p + ": byte 8: expected number of rows (4 bytes), got end of file after 3 bytes");
  p = Write("labels_no_count", IdxBytes(0x801, {}, "\x01"));
  EXPECT_EQ(LabelsError(p), p + ": byte 4: expected number of labels (4 bytes), got end of file after 1 byte");
}

TEST_P(IdxTest, WrongDimensionSizes) {
  std::string p = Write("zero_rows", IdxBytes(0x803, {3, 0, 5}, ""));
  EXPECT_EQ(ImagesError(p), p + ": byte 8: expected number of rows between 1 and 2147483647, got 0");
  p = Write("no_labels", IdxBytes(0x801, {0}, ""));
  EXPECT_EQ(LabelsError(p), p + ": byte 4: expected number of labels between 1 and 2147483647, got 0");
  p = Write("negative", IdxBytes(0x803, {0x80000000u, 1, 1}, ""));
  EXPECT_EQ(ImagesError(p),
            p + ": byte 4: expected number of images between 1 and 2147483647, got 2147483648");
}

TEST_P(IdxTest, HugeDeclaredSizeIsRefusedBeforeAllocating) {
  // 10^15 bytes declared; the reader must refuse without trying to allocate them.
  const std::string p = Write("huge", IdxBytes(0x803, {100000, 100000, 100000}, "xyz"));
  EXPECT_EQ(ImagesError(p), p + ": byte 4: expected at most 8589934592 data bytes, got sizes "
                                "100000 x 100000 x 100000");
  // Within the limit but far beyond the data: a truncation error, not a 2 GiB buffer.
  const std::string q = Write("big", IdxBytes(0x803, {2000000000, 1, 1}, "xyz"));
  EXPECT_EQ(ImagesError(q), q + ": byte 19: expected 2000000000 data bytes (2000000000 images of "
                                "1x1), got end of file after 3");
}

TEST_P(IdxTest, TruncatedData) {
  std::string bytes = IdxImages(3, 4, 5);
  bytes.resize(bytes.size() - 10);
  const std::string p = Write("img", bytes);
  EXPECT_EQ(ImagesError(p),
            p + ": byte 66: expected 60 data bytes (3 images of 4x5), got end of file after 50");
  const std::string q = Write("lbl", IdxBytes(0x801, {4}, "\x01\x02"));
  EXPECT_EQ(LabelsError(q), q + ": byte 10: expected 4 data bytes (4 labels), got end of file after 2");
}

TEST_P(IdxTest, TrailingGarbage) {
  std::string p = Write("img", IdxImages(3, 4, 5) + "abc");
  EXPECT_EQ(ImagesError(p), p + ": byte 76: expected end of file after 60 data bytes (3 images of "
                                "4x5), got 3 more bytes");
  p = Write("lbl", IdxLabels({1, 2}) + std::string(1, '\0'));
  EXPECT_EQ(LabelsError(p),
            p + ": byte 10: expected end of file after 2 data bytes (2 labels), got 1 more byte");
}

TEST(IdxGzipTest, LargeFileGrowsItsBuffer) {
  // More than the 64 MiB first buffer of a compressed read.
  TempDir dir;
  const uint32_t n = 70, rows = 1000, cols = 1000;
  std::string data(static_cast<size_t>(n) * rows * cols, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  const auto p = dir / "big.gz";
  WriteGz(p, IdxBytes(0x803, {n, rows, cols}, data));
  const torch::Tensor t = ReadIdxImages(p.string());
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{n, rows, cols}));
  EXPECT_EQ(std::memcmp(t.data_ptr<uint8_t>(), data.data(), data.size()), 0);
}

TEST(IdxGzipTest, CorruptStream) {
  TempDir dir;
  const auto p = dir / "img.gz";
  WriteGz(p, IdxImages(3, 4, 5));
  std::string gz = test::ReadRaw(p);
  gz[gz.size() - 8] = static_cast<char>(gz[gz.size() - 8] ^ 0xff);  // the CRC-32
  WriteRaw(p, gz);
  EXPECT_EQ(ImagesError(p.string()),
            p.string() + ": byte 0: expected valid gzip data, got a corrupt stream (incorrect data check)");
}

TEST(IdxGzipTest, CutGzipFile) {
  TempDir dir;
  const auto p = dir / "img.gz";
  WriteGz(p, IdxImages(3, 4, 5));
  const std::string gz = test::ReadRaw(p);
  // Without its 8-byte trailer every data byte arrives, but the file is still cut.
  WriteRaw(p, gz.substr(0, gz.size() - 8));
  EXPECT_EQ(ImagesError(p.string()),
            p.string() + ": byte 76: expected the end of the gzip stream (CRC and length), got end of "
                         "file (the .gz file is truncated)");
  // Cut in the middle of the compressed data: some data bytes are missing.
  WriteRaw(p, gz.substr(0, gz.size() / 2));
  const std::string message = ImagesError(p.string());
  EXPECT_TRUE(std::regex_match(message, std::regex(".*img\\.gz: byte [0-9]+: expected 60 data bytes "
                                                   "\\(3 images of 4x5\\), got end of file after [0-9]+")))
      << message;
}

TEST(IdxFileTest, DirectoryIsAnIoError) {
  TempDir dir;
  for (const char* name : {"images.gz", "images"}) {
    const fs::path p = dir / name;
    fs::create_directory(p);
    EXPECT_EQ(ErrorOf<util::IoError>([&] { ReadIdxImages(p.string()); }),
              p.string() + ": read failed: Is a directory")
        << name;
  }
}

TEST(IdxFileTest, MissingFile) {
  TempDir dir;
  const std::string p = (dir / "nope.gz").string();
  EXPECT_EQ(ErrorOf<util::IoError>([&] { ReadIdxImages(p); }),
            p + ": cannot read: No such file or directory");
}

}  // namespace
}  // namespace haq::data
