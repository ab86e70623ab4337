// Decoding and evaluation preprocessing against Pillow, the library torchvision's
// ImageFolder path runs on: tests/data/pil holds image files Pillow wrote and what
// Pillow made of them (tools/golden/pil_images.py, Pillow 9.4.0 of Debian 12).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <random>
#include <tuple>
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

namespace haq::data {
namespace {

// RandomResizedCrop's windows, checked against the bounds the drawing implies: the
// area fraction in [0.08, 1] and the ratio in [3/4, 4/3] before each side was
// rounded by at most half a pixel, inside the image; the same windows for the same
// seed, others for another; the centre fallback for an image no window fits.
TEST(ImageIoTest, RandomResizedCropWindowsStayWithinTheirRangesAndRepeatPerSeed) {
  for (const auto& [h, w] : {std::pair<int64_t, int64_t>{224, 224}, {300, 200}, {37, 90}}) {
    std::mt19937_64 rng(11), again(11), other(12);
    int differ = 0;
    double area_sum = 0;
    const int draws = 2000;
    for (int i = 0; i < draws; ++i) {
      const CropBox b = RandomResizedCropBox(h, w, rng);
      const CropBox c = RandomResizedCropBox(h, w, again);
      const CropBox d = RandomResizedCropBox(h, w, other);
      ASSERT_EQ(std::tie(b.top, b.left, b.height, b.width), std::tie(c.top, c.left, c.height, c.width));
      differ += std::tie(b.top, b.left, b.height, b.width) != std::tie(d.top, d.left, d.height, d.width);
      ASSERT_GE(b.top, 0);
      ASSERT_GE(b.left, 0);
      ASSERT_LE(b.top + b.height, h);
      ASSERT_LE(b.left + b.width, w);
      ASSERT_GT(b.height, 0);
      ASSERT_GT(b.width, 0);
      const double bh = static_cast<double>(b.height), bw = static_cast<double>(b.width);
      const double area = static_cast<double>(h * w);
      ASSERT_GE((bh + 0.5) * (bw + 0.5), 0.08 * area) << bh << "x" << bw;
      ASSERT_GE((bw + 0.5) / (bh - 0.5), 3.0 / 4.0 - 1e-12) << bh << "x" << bw;
      ASSERT_LE((bw - 0.5) / (bh + 0.5), 4.0 / 3.0 + 1e-12) << bh << "x" << bw;
      area_sum += bh * bw / area;
    }
    EXPECT_GT(differ, draws * 9 / 10);
    // Fractions uniform in [0.08, 1] have mean 0.54; windows that do not fit are
    // drawn again, which favours small ones. The mean area fraction of torchvision's
    // algorithm simulated in Python (random.uniform, 20,000 windows): 0.478 on
    // 224x224, 0.389 on 300x200, 0.262 on 37x90 (with 0.9% centre fallbacks).
    const double expected = h == 224 ? 0.478 : h == 300 ? 0.389 : 0.262;
    EXPECT_NEAR(area_sum / draws, expected, 0.02) << h << "x" << w;
  }
  // 4 x 100: no window fits (its height is round(sqrt(area / ratio)) >= round(sqrt(32
  // * 3/4)) = 5 > 4), so the centre crop at ratio 4/3: 4 x round(5.33) = 4 x 5.
  std::mt19937_64 rng(1);
  const CropBox b = RandomResizedCropBox(4, 100, rng);
  EXPECT_EQ(std::tie(b.top, b.left, b.height, b.width), std::make_tuple(int64_t{0}, int64_t{47}, int64_t{4}, int64_t{5}));
}

}  // namespace
}  // namespace haq::data
