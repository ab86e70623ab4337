// Every command that takes a dataset reads an image folder as it reads the same
// images from IDX files: 700 Fashion-MNIST training and 300 test images are written
// both as IDX files and as PNG class folders (in the same order: by label, then by
// index, which is the folder listing's order), and quantize, export's calibration
// and a search give the same results on both.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <regex>

#include "data/dataset.h"
#include "datasets/data_files.h"
#include "graph/torch_style_mobilenet.h"
#include "test_util.h"
#include "util/file.h"

namespace haq {
namespace {

namespace fs = std::filesystem;

/// The first `n` images of `d` sorted by label (stably), written as IDX files
/// PREFIX-images-idx3-ubyte / PREFIX-labels-idx1-ubyte in `idx_dir` and as PNG files
/// `folder`/classK/NNNNN.png.
void WriteBoth(const data::Dataset& d, int64_t n, const fs::path& idx_dir, const std::string& prefix,
               const fs::path& folder) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return d.labels[a].item<int64_t>() < d.labels[b].item<int64_t>();
  });
  std::string pixels;
  std::vector<uint8_t> labels;
  for (size_t k = 0; k < order.size(); ++k) {
    const int64_t i = order[k];
    const torch::Tensor img = d.images[i][0].contiguous();
    pixels.append(reinterpret_cast<const char*>(img.data_ptr<uint8_t>()), 28 * 28);
    const auto label = d.labels[i].item<int64_t>();
    labels.push_back(static_cast<uint8_t>(label));
    const fs::path p = folder / fmt::format("class{}", label) / fmt::format("{:05}.png", k);
    fs::create_directories(p.parent_path());
    ASSERT_TRUE(cv::imwrite(p.string(), cv::Mat(28, 28, CV_8UC1, img.data_ptr<uint8_t>())));
  }
  fs::create_directories(idx_dir);
  test::WriteRaw(idx_dir / (prefix + "-images-idx3-ubyte"),
                 test::IdxBytes(0x803, {static_cast<uint32_t>(n), 28, 28}, pixels));
  test::WriteRaw(idx_dir / (prefix + "-labels-idx1-ubyte"), test::IdxLabels(labels));
}

class ImageFolderCliTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    WriteBoth(data::LoadFashionMnist("", true), 700, *dir_ / "idx", "train", *dir_ / "png" / "train");
    WriteBoth(data::LoadFashionMnist("", false), 300, *dir_ / "idx", "t10k", *dir_ / "png" / "val");
  }
  static void TearDownTestSuite() { delete dir_; }
  /// The dataset flags of the IDX copy and of the PNG folder.
  static std::string Idx() { return fmt::format("--data-dir {} --val 200", (*dir_ / "idx").string()); }
  static std::string Png() {
    return fmt::format("--dataset imagefolder --data-dir {} --cache {} --val 200", (*dir_ / "png").string(),
                       (*dir_ / "cache").string());
  }
  static test::TempDir* dir_;
};
test::TempDir* ImageFolderCliTest::dir_ = nullptr;

std::string Line(const std::string& out, const std::string& re) {
  std::smatch m;
  return std::regex_search(out, m, std::regex(re)) ? m[0].str() : "(no match in: " + out + ")";
}

// Calibration on held-out training images, a fine-tune on the rest, the test set.
TEST_F(ImageFolderCliTest, QuantizeAndExportGiveWhatTheIdxFilesGive) {
  const std::string q = "quantize --model mobilenet_v2_fmnist --bits 4 --finetune-steps 3 --out ";
  const auto a = test::RunHaq(q + (*dir_ / "a.pt").string() + " " + Idx());
  const auto b = test::RunHaq(q + (*dir_ / "b.pt").string() + " " + Png());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(Line(b.out, "test top-1 .*"), Line(a.out, "test top-1 .*"));
  EXPECT_NE(b.out.find("(300 images)"), std::string::npos) << b.out;

  const std::string e = "export --model mobilenet_v2_fmnist --bits 3 --out ";
  const auto ea = test::RunHaq(e + (*dir_ / "a.onnx").string() + " " + Idx());
  const auto eb = test::RunHaq(e + (*dir_ / "b.onnx").string() + " " + Png());
  ASSERT_EQ(ea.exit_code, 0) << ea.err;
  ASSERT_EQ(eb.exit_code, 0) << eb.err;
  EXPECT_EQ(util::ReadFile(*dir_ / "a.onnx"), util::ReadFile(*dir_ / "b.onnx"));
}

// A whole search: seeded splits of train/ for the reward, fine-tune and
// calibration images, val/ for the final comparison.
TEST_F(ImageFolderCliTest, ASearchRunsAsOnTheIdxFiles) {
  const std::string s =
      "search --model mobilenet_v2_fmnist --hw bismo-edge --budget latency=0.6 --agent random --episodes 3 "
      "--finetune-steps 2 --reward-images 100 --final-finetune-steps 2 --seed 3 --out ";
  const auto a = test::RunHaq(s + (*dir_ / "run_a").string() + " " + Idx());
  const auto b = test::RunHaq(s + (*dir_ / "run_b").string() + " " + Png());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(test::SearchRunOutcome(*dir_ / "run_b"), test::SearchRunOutcome(*dir_ / "run_a"));
}

TEST_F(ImageFolderCliTest, BadFlagsAreNamed) {
  const auto r = test::RunHaq("eval --model mobilenet_v2_fmnist --dataset imagefolder --data-dir " +
                              (*dir_ / "png").string() + " --classes 11");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "haq: error: --classes: expected a count in 1..10 (the classes in " +
                       (*dir_ / "png" / "train").string() + "), got 11\n");
  const auto m = test::RunHaq("eval --model mobilenet_v2_fmnist --dataset imagefolder");
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_EQ(m.err,
            "haq: error: --data-dir: imagefolder needs the folder holding train/ and val/ (one subfolder per class)\n");
}

}  // namespace
}  // namespace haq

namespace haq {
namespace {

/// A 224-px image folder of JPEGs of assorted sizes (2 classes; 6 train, 2 val images each).
class ImageFolder224CliTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    std::mt19937_64 rng(7);
    for (const auto& [split, n] : {std::pair{"train", 6}, std::pair{"val", 2}}) {
      for (const std::string cls : {"ant", "bee"}) {
        for (int i = 0; i < n; ++i) {
          const int h = 230 + static_cast<int>(rng() % 150), w = 230 + static_cast<int>(rng() % 150);
          cv::Mat m(h, w, CV_8UC3);
          cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
          const fs::path p = *dir_ / "f" / split / cls / fmt::format("{}.jpg", i);
          fs::create_directories(p.parent_path());
          ASSERT_TRUE(cv::imwrite(p.string(), m));
        }
      }
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string Data() {
    return fmt::format("--dataset imagefolder --data-dir {} --cache {} --val 4", (*dir_ / "f").string(),
                       (*dir_ / "cache").string());
  }
  static test::TempDir* dir_;
};
test::TempDir* ImageFolder224CliTest::dir_ = nullptr;

// The 224-px models of the zoo (fresh weights) through eval, quantize with a
// fine-tune, export (calibrated on the folder), an ONNX file, and a search, on JPEGs
// of other sizes.
TEST_F(ImageFolder224CliTest, ZooModelsRunEveryCommandOnAFolderOfJpegs) {
  const auto e = test::RunHaq("eval --model resnet18 " + Data());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("(4 images)"), std::string::npos) << e.out;
  // The cache holds val/ at the model's 3x224x224.
  EXPECT_NE(test::ListDir(*dir_ / "cache").find("val-3x224x224-"), std::string::npos) << test::ListDir(*dir_ / "cache");

  const std::string q = (*dir_ / "q.pt").string();
  const auto qz = test::RunHaq("quantize --model mobilenet_v2 --bits 4 --finetune-steps 2 --out " + q + " " + Data());
  ASSERT_EQ(qz.exit_code, 0) << qz.err;
  const auto qe = test::RunHaq("eval --model " + q + " " + Data());
  ASSERT_EQ(qe.exit_code, 0) << qe.err;
  EXPECT_EQ(Line(qe.out, "top-1 [0-9.]+%  top-5 [0-9.]+%"), Line(qz.out, "top-1 [0-9.]+%  top-5 [0-9.]+%"));

  // The quantized model exported with calibration from the folder; a full-precision
  // export (an ONNX file) evaluated on it as the zoo model is.
  const auto ex = test::RunHaq("export --model " + q + " --out " + (*dir_ / "q.onnx").string() + " " + Data());
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  const std::string fp = (*dir_ / "fp.onnx").string();
  ASSERT_EQ(test::RunHaq("export --model resnet18 --out " + fp + " " + Data()).exit_code, 0);
  const auto oe = test::RunHaq("eval --model " + fp + " " + Data());
  ASSERT_EQ(oe.exit_code, 0) << oe.err;
  EXPECT_EQ(Line(oe.out, "top-1 [0-9.]+%  top-5 [0-9.]+%"), Line(e.out, "top-1 [0-9.]+%  top-5 [0-9.]+%"));

  const auto s = test::RunHaq(
      "search --model mobilenet_v2 --hw bismo-edge --budget latency=0.6 --agent random --episodes 2 "
      "--finetune-steps 1 --reward-images 4 --tune-images 8 --calib-batches 1 --final-finetune-steps 1 --out " +
      (*dir_ / "run").string() + " " + Data());
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(fs::exists(*dir_ / "run" / "summary.json"));
}

// A file laid out as torch.onnx exports torchvision's MobileNet-V2 (batch norm
// folded, ReLU6 as Clip with initializer bounds, the flattening chain) through eval,
// quantize with a fine-tune, and a search on the folder: the quantized checkpoint
// evaluates to the accuracy quantize reported.
TEST_F(ImageFolder224CliTest, AFileLaidOutAsTorchOnnxExportsRunsEveryCommand) {
  const fs::path model = *dir_ / "torch_mobilenet_v2.onnx";
  {
    std::ofstream out(model, std::ios::binary);
    out << test::TorchStyleExport().Build();
  }
  const std::string m = model.string();
  const auto e = test::RunHaq("eval --model " + m + " " + Data());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("(4 images)"), std::string::npos) << e.out;
  const std::string q = (*dir_ / "torch_q.pt").string();
  const auto qz = test::RunHaq("quantize --model " + m + " --bits 4 --finetune-steps 2 --out " + q + " " + Data());
  ASSERT_EQ(qz.exit_code, 0) << qz.err;
  const auto qe = test::RunHaq("eval --model " + q + " " + Data());
  ASSERT_EQ(qe.exit_code, 0) << qe.err;
  EXPECT_EQ(Line(qe.out, "top-1 [0-9.]+%  top-5 [0-9.]+%"), Line(qz.out, "top-1 [0-9.]+%  top-5 [0-9.]+%"));
  const auto s = test::RunHaq(
      "search --model " + m + " --hw bismo-edge --budget latency=0.6 --agent random --episodes 2 "
      "--finetune-steps 1 --reward-images 4 --tune-images 8 --calib-batches 1 --final-finetune-steps 1 --out " +
      (*dir_ / "torch_run").string() + " " + Data());
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(fs::exists(*dir_ / "torch_run" / "summary.json"));
}

}  // namespace
}  // namespace haq
