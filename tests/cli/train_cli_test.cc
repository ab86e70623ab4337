// `haq train` and `haq eval` end to end on a small slice of Fashion-MNIST.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "train/checkpoint.h"

namespace haq {
namespace {

using test::RunHaq;

const char* kQuick = "train --model resnet20_fmnist --subset 256 --val 256 --batch 64 --out t.pt";

double ParseTop1(const std::string& out, const std::string& prefix) {
  std::smatch m;
  const std::regex re(prefix + R"(([0-9]+\.[0-9]+)%)");
  if (!std::regex_search(out, m, re)) return -1;
  return std::stod(m[1]);
}

TEST(TrainCliTest, TrainsCheckpointsResumesAndEvaluates) {
  test::TempDir dir;
  const auto first = RunHaq(std::string(kQuick) + " --epochs 1", dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("epoch 1/1: train loss"), std::string::npos) << first.out;
  const double test_top1 = ParseTop1(first.out, "test top-1 ");
  ASSERT_GT(test_top1, 0) << first.out;
  const train::Checkpoint c = train::LoadCheckpoint(dir / "t.pt");
  EXPECT_EQ(c.model, "resnet20_fmnist");
  EXPECT_EQ(c.meta["epoch"], 1);
  EXPECT_EQ(c.meta["recipe"]["subset"], 256);
  EXPECT_EQ(c.meta["history"].size(), 1u);
  EXPECT_NEAR(c.meta["test_top1"].get<double>(), test_top1, 0.005);

  // `haq eval` on the checkpoint measures the same test accuracy.
  const auto eval = RunHaq("eval --model t.pt", dir.path());
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_NEAR(ParseTop1(eval.out, "top-1 "), test_top1, 0.005) << eval.out;

  // An existing checkpoint is never overwritten by accident.
  const auto again = RunHaq(std::string(kQuick) + " --epochs 1", dir.path());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err,
            "haq: error: t.pt: already exists; pass --resume to continue it, or choose another "
            "--out\n");
  // Resuming with another recipe is refused, naming the difference.
  const auto other = RunHaq(std::string(kQuick) + " --epochs 1 --lr 0.05 --resume", dir.path());
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.err,
            "haq: error: t.pt: --resume: the checkpoint was trained with lr = 0.1, these flags "
            "give 0.05; rerun with the same flags or choose another --out\n");
  // The same recipe resumes (here: nothing left to train, the test set is re-measured).
  const auto resumed = RunHaq(std::string(kQuick) + " --epochs 1 --resume", dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("resuming t.pt after epoch 1"), std::string::npos) << resumed.out;
  EXPECT_NEAR(ParseTop1(resumed.out, "test top-1 "), test_top1, 0.005);

  // A checkpoint whose training record is damaged: exact messages, nothing trained.
  struct Damage {
    const char* field;
    nlohmann::json value;
    std::string message;
  };
  const std::vector<Damage> damages = {
      {"epoch", "3", "haq: error: t.pt: meta: epoch: expected an integer, got \"3\"\n"},
      {"epoch", 1.5, "haq: error: t.pt: meta: epoch: expected an integer, got 1.5\n"},
      {"epoch", -1, "haq: error: t.pt: meta: epoch: expected at least 0, got -1\n"},
      {"history", 7, "haq: error: t.pt: meta: history: expected an array, got 7\n"},
  };
  for (const auto& d : damages) {
    train::Checkpoint bad = train::LoadCheckpoint(dir / "t.pt");
    bad.meta[d.field] = d.value;
    train::SaveCheckpoint(bad, dir / "t.pt");
    const auto r = RunHaq(std::string(kQuick) + " --epochs 1 --resume", dir.path());
    EXPECT_EQ(r.exit_code, 1) << d.field;
    EXPECT_EQ(r.err, d.message);
    bad.meta = c.meta;
    train::SaveCheckpoint(bad, dir / "t.pt");
  }
  train::Checkpoint bad = train::LoadCheckpoint(dir / "t.pt");
  bad.meta["recipe"] = "fast";
  train::SaveCheckpoint(bad, dir / "t.pt");
  const auto recipe = RunHaq(std::string(kQuick) + " --epochs 1 --resume", dir.path());
  EXPECT_EQ(recipe.exit_code, 1);
  EXPECT_EQ(recipe.err, "haq: error: t.pt: meta: recipe: expected an object, got \"fast\"\n");
}

TEST(TrainCliTest, UnwritableOutIsReportedBeforeTraining) {
  test::TempDir dir;
  const auto r = RunHaq(
      "train --model resnet20_fmnist --epochs 1 --out missing/t.pt", dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("haq: error: missing/t.pt: cannot write: ", 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");  // no "training ..." line: it stopped before loading data
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(EvalCliTest, ModelAndDataMustAgree) {
  const auto r = RunHaq("eval --model mobilenet_v2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "haq: error: model 'mobilenet_v2' takes 3x224x224 input, but fashion-mnist-test has "
            "1x28x28 images\n");
}

TEST(EvalCliTest, MissingDatasetNamesThePackage) {
  test::TempDir dir;
  const auto r = RunHaq("eval --model resnet20_fmnist --data-dir " + dir.path().string());
  EXPECT_EQ(r.exit_code, 1);
  const std::string d = dir.path().string();
  EXPECT_EQ(r.err, "haq: error: " + d + "/t10k-images-idx3-ubyte.gz: Fashion-MNIST file not found (nor " +
                       d + "/t10k-images-idx3-ubyte); install the Debian package "
                           "dataset-fashion-mnist (apt-get install dataset-fashion-mnist), which "
                           "puts the files in /usr/share/datasets/fashion-mnist\n");
}

}  // namespace
}  // namespace haq
