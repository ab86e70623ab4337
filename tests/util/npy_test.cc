// util::EncodeNpy / DecodeNpy: the round trip, headers of every format version NumPy
// writes, and each malformed file with its exact message (docs/RELIABILITY.md,
// section 12). The golden table itself is read in cli/cost_cli_test.cc.
#include "util/npy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

namespace haq {
namespace {

// A .npy file by hand: magic, version, header length (2 bytes for version 1, 4 for
// 2 and 3), the header text and then `data` (raw bytes).
std::string Npy(int major, const std::string& header, const std::string& data = "",
                int64_t declared_length = -1) {
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  const auto len = static_cast<uint32_t>(declared_length >= 0 ? declared_length
                                                               : static_cast<int64_t>(header.size()));
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string Header(const std::string& shape, const std::string& descr = "<i8",
                   const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': (" + shape + "), }\n";
}

std::string Int64s(std::vector<int64_t> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
}

std::string DecodeError(const std::string& bytes) {
  return test::InputErrorOf([&] { util::DecodeNpy(bytes, "t.npy"); });
}

TEST(NpyTest, RoundTripsAndReadsEveryHeaderVersion) {
  for (const util::NpyInt64& a :
       {util::NpyInt64{{3}, {1, -2, 3}}, util::NpyInt64{{2, 3}, {0, 1, 2, 3, 4, int64_t{1} << 40}},
        util::NpyInt64{{0}, {}}}) {
    const std::string bytes = util::EncodeNpy(a);
    EXPECT_EQ((bytes.find('\n') + 1) % 64, 0u) << "data aligned to 64 bytes";
    const util::NpyInt64 b = util::DecodeNpy(bytes, "t.npy");
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.data, a.data);
  }
  for (int major : {1, 2, 3}) {
    const util::NpyInt64 a = util::DecodeNpy(Npy(major, Header("2,"), Int64s({7, -7})), "t.npy");
    EXPECT_EQ(a.shape, std::vector<int64_t>{2}) << major;
    EXPECT_EQ(a.data, (std::vector<int64_t>{7, -7})) << major;
  }
}

TEST(NpyTest, MalformedFilesHaveExactMessages) {
  const std::string prefix = "t.npy: not a valid .npy int64 array: ";
  struct Case {
    const char* name;
    std::string bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"wrong magic", std::string("\x92NUMPY\x01\x00\x02\x00{}", 12), "missing the \\x93NUMPY magic"},
      {"shorter than the magic", std::string("\x93NUMPY", 6), "missing the \\x93NUMPY magic"},
      {"version 4", Npy(4, Header("1,"), Int64s({1})), "unsupported format version 4"},
      {"version 2 cut in the length", Npy(2, "").substr(0, 11), "truncated header"},
      {"header longer than the file", Npy(1, Header("1,"), "", 400), "truncated header"},
      {"float64", Npy(1, Header("1,", "<f8"), Int64s({1})),
       "expected dtype '<i8' (little-endian int64), header is " + Header("1,", "<f8")},
      {"big-endian", Npy(1, Header("1,", ">i8"), Int64s({1})),
       "expected dtype '<i8' (little-endian int64), header is " + Header("1,", ">i8")},
      {"Fortran order", Npy(1, Header("2, 2", "<i8", "True"), Int64s({1, 2, 3, 4})),
       "expected C order (fortran_order False)"},
      {"no shape", Npy(1, "{'descr': '<i8', 'fortran_order': False, }\n"),
       "no shape in header {'descr': '<i8', 'fortran_order': False, }\n"},
      {"13-digit dimension", Npy(1, Header("1234567890123,")),
       "dimension too large: 1234567890123"},
      {"2^32 + 65536 elements", Npy(1, Header("65536, 65537")), "more than 2^32 elements"},
      // 2^25 x 2^39 = 2^64 wraps int64 to 0: the product is overflow-checked.
      {"product overflowing int64", Npy(1, Header("33554432, 549755813888")),
       "more than 2^32 elements"},
      {"data one element short", Npy(1, Header("2,"), Int64s({1})),
       "expected 16 data bytes for shape (2,), got 8"},
      {"data one byte long", Npy(1, Header("1,"), Int64s({1}) + "x"),
       "expected 8 data bytes for shape (1,), got 9"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeError(c.bytes), prefix + c.message) << c.name;
  }
}

TEST(NpyTest, ReadNpyNamesTheFile) {
  test::TempDir dir;
  const auto path = dir.Write("table.npy", "not numpy");
  EXPECT_EQ(test::InputErrorOf([&] { util::ReadNpy(path); }),
            path.string() + ": not a valid .npy int64 array: missing the \\x93NUMPY magic");
}

}  // namespace
}  // namespace haq
