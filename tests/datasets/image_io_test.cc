// Decoding and evaluation preprocessing against Pillow, the library torchvision's
// ImageFolder path runs on: tests/data/pil holds image files Pillow wrote and what
// Pillow made of them (tools/golden/pil_images.py, Pillow 9.4.0 of Debian 12).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>
#include <string>

#include "data/image_io.h"
#include "test_util.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::data {
namespace {

/// A raw golden array ("C H W\n" then the samples), as int32 [C, H, W].
torch::Tensor Golden(const std::string& name) {
  const std::string bytes = util::ReadFile(test::DataPath("pil/" + name));
  const size_t eol = bytes.find('\n');
  std::istringstream head(bytes.substr(0, eol));
  int64_t c = 0, h = 0, w = 0;
  head >> c >> h >> w;
  const bool wide = name.ends_with(".u16");
  const int64_t n = c * h * w;
  EXPECT_EQ(bytes.size(), eol + 1 + static_cast<size_t>(n) * (wide ? 2 : 1)) << name;
  torch::Tensor t = torch::empty({c, h, w}, torch::kInt32);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + eol + 1);
  for (int64_t i = 0; i < n; ++i) {
    t.data_ptr<int32_t>()[i] = wide ? p[2 * i] | (p[2 * i + 1] << 8) : p[i];
  }
  return t;
}

int64_t MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1 << 20;
  return (a.to(torch::kInt32) - b.to(torch::kInt32)).abs().max().item<int32_t>();
}

std::string File(const std::string& name) { return test::DataPath("pil/" + name).string(); }

// PNG, BMP, palette, grey+alpha and RGBA decode to exactly what Pillow's
// convert("RGB") gives; JPEG too, both decoders being Debian's libjpeg-turbo with
// its default (islow) DCT.
TEST(ImageIoTest, DecodesToExactlyWhatPillowGivesAsRgb) {
  for (const std::string stem :
       {"rgb_photo", "grey_tall", "rgba", "palette", "grey_alpha", "photo", "grey", "small_rgb", "exact56"}) {
    SCOPED_TRACE(stem);
    const std::string ext = stem == "photo" || stem == "grey" ? ".jpg" : stem == "small_rgb" ? ".bmp" : ".png";
    EXPECT_EQ(MaxDiff(DecodeImage(File(stem + ext), 3), Golden(stem + ".rgb.u8")), 0);
  }
}

// A 1-channel model's images: grey stays grey, exactly; colour becomes luma
// (ITU-R 601-2) within 1 of Pillow's convert("L") (fixed-point rounding differs).
TEST(ImageIoTest, DecodesToGreyAsPillowsLumaWithinOne) {
  for (const std::string stem : {"grey_tall", "grey_alpha", "grey"}) {
    const std::string ext = stem == "grey" ? ".jpg" : ".png";
    EXPECT_EQ(MaxDiff(DecodeImage(File(stem + ext), 1), Golden(stem + ".l.u8")), 0) << stem;
  }
  for (const std::string stem : {"rgb_photo", "rgba", "palette", "photo", "small_rgb"}) {
    const std::string ext = stem == "photo" ? ".jpg" : stem == "small_rgb" ? ".bmp" : ".png";
    EXPECT_LE(MaxDiff(DecodeImage(File(stem + ext), 1), Golden(stem + ".l.u8")), 1) << stem;
  }
}

// 16-bit samples scale to 8 bits as round(v / 257), where Pillow would clip them.
TEST(ImageIoTest, SixteenBitSamplesScaleToEightBits) {
  const torch::Tensor raw = Golden("grey16.u16").to(torch::kFloat64);
  const torch::Tensor expected = (raw / 257.0).round().to(torch::kInt32);
  EXPECT_EQ(MaxDiff(DecodeImage(File("grey16.png"), 1), expected), 0);
  EXPECT_EQ(MaxDiff(DecodeImage(File("grey16.png"), 3), expected.expand({3, -1, -1})), 0);
}

// torchvision's Resize on PIL images: shrinking (antialiased) and enlarging, within
// 1 of Pillow everywhere (Pillow's coefficients are fixed-point, ATen's float), and
// equal nearly everywhere. Measured on AMD EPYC under ATen's default, AVX2 and
// AVX-512 kernels alike: 99.99% equal shrinking 131x97 to 64, 99.86% shrinking
// 150x200 to 23, 93.12-93.13% enlarging 33x20 to 45 (bilinear enlargement rounds more
// pixels near a half); the bounds below sit under those.
TEST(ImageIoTest, ResizesAsPillowWithinOne) {
  struct Case {
    const char* stem;
    int size;
    double min_equal;
  };
  for (const Case& c : {Case{"resize_down", 64, 0.999}, Case{"resize_far", 23, 0.995}, Case{"resize_up", 45, 0.92}}) {
    SCOPED_TRACE(c.stem);
    const torch::Tensor in = Golden(std::string(c.stem) + ".in.u8").to(torch::kUInt8);
    const torch::Tensor expected = Golden(std::string(c.stem) + ".out" + std::to_string(c.size) + ".u8");
    const torch::Tensor got = ResizeShorterSide(in, c.size);
    EXPECT_LE(MaxDiff(got, expected), 1);
    const double equal = (got.to(torch::kInt32) == expected).to(torch::kFloat64).mean().item<double>();
    EXPECT_GE(equal, c.min_equal);
  }
}

// The whole evaluation transform (Resize(round(N / 0.875)), CenterCrop(N)) on the
// decoded files, at 224 and at 56, within 1 of Pillow; an image already N x N is
// returned untouched.
TEST(ImageIoTest, EvalTransformMatchesTorchvisionOnPillowWithinOne) {
  EXPECT_LE(MaxDiff(EvalTransform(DecodeImage(File("rgb_photo.png"), 3), 224, 224), Golden("rgb_photo.eval224.u8")),
            1);
  for (const std::string stem : {"grey_tall", "rgba", "palette", "grey_alpha", "photo", "grey"}) {
    const std::string ext = stem == "photo" || stem == "grey" ? ".jpg" : ".png";
    EXPECT_LE(MaxDiff(EvalTransform(DecodeImage(File(stem + ext), 3), 56, 56), Golden(stem + ".eval56.u8")), 1)
        << stem;
  }
  const torch::Tensor exact = DecodeImage(File("exact56.png"), 3);
  EXPECT_TRUE(torch::equal(EvalTransform(exact, 56, 56), exact));
  EXPECT_EQ(MaxDiff(exact, Golden("exact56.eval56.u8")), 0);
}

// CenterCrop's window by hand: offsets round((H - h) / 2) with halves to even.
TEST(ImageIoTest, CenterCropRoundsHalvesToEvenAsPython) {
  const torch::Tensor img = torch::arange(1 * 7 * 9, torch::kInt64).reshape({1, 7, 9}).to(torch::kUInt8);
  // (7 - 4) / 2 = 1.5 -> 2; (9 - 4) / 2 = 2.5 -> 2.
  EXPECT_EQ(CenterCrop(img, 4, 4)[0][0][0].item<int>(), 2 * 9 + 2);
  // (7 - 2) / 2 = 2.5 -> 2; (9 - 6) / 2 = 1.5 -> 2.
  EXPECT_EQ(CenterCrop(img, 2, 6)[0][0][0].item<int>(), 2 * 9 + 2);
  // (7 - 5) / 2 = 1; (9 - 3) / 2 = 3.
  EXPECT_EQ(CenterCrop(img, 5, 3)[0][0][0].item<int>(), 1 * 9 + 3);
  EXPECT_EQ(test::InputErrorOf([&] { CenterCrop(img, 8, 4); }),
            "centre crop: expected an image of at least 8x4, got 7x9");
  EXPECT_EQ(EvalResizeSize(224, 224), 256);
  EXPECT_EQ(EvalResizeSize(28, 28), 32);
}

TEST(ImageIoTest, FilesThatAreNotImagesAreRefusedWithTheirNameAndFirstBytes) {
  test::TempDir dir;
  const auto text = dir.Write("notes.png", "hello, world");
  EXPECT_EQ(test::InputErrorOf([&] { DecodeImage(text.string(), 3); }),
            text.string() +
                ": expected a JPEG, PNG, BMP, PPM/PGM, TIFF or WebP image, got 12 bytes starting 68 65 6c 6c 6f 2c 20 77");
  const auto empty = dir.Write("empty.jpg", "");
  EXPECT_EQ(test::InputErrorOf([&] { DecodeImage(empty.string(), 3); }),
            empty.string() + ": expected a JPEG, PNG, BMP, PPM/PGM, TIFF or WebP image, got 0 bytes starting (empty)");
  // A PNG cut short.
  const std::string png = util::ReadFile(File("palette.png"));
  const auto cut = dir.Write("cut.png", png.substr(0, 60));
  EXPECT_TRUE(test::InputErrorOf([&] { DecodeImage(cut.string(), 3); }).starts_with(cut.string() + ": "));
  EXPECT_EQ(test::InputErrorOf([&] { DecodeImage(File("palette.png"), 2); }),
            File("palette.png") + ": images can be read for 1- or 3-channel models, not 2-channel");
}

}  // namespace
}  // namespace haq::data
