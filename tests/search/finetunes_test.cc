// search::FineTuneRecords (final_finetunes.jsonl): what is found under which key,
// the file after adds and merges, and malformed lines named by file and line.
#include "search/finetunes.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "util/file.h"

namespace haq::search {
namespace {

using json = nlohmann::json;

hw::Policy Bits(int w0, int a0, int w1, int a1) {
  hw::Policy p;
  p.layers = {{"conv1", w0, a0}, {"fc", w1, a1}};
  return p;
}

FineTuneRecord Record(const hw::Policy& p, uint64_t seed, double reward, double test) {
  FineTuneRecord r;
  r.bits = PolicyBits(p);
  r.seed = seed;
  r.reward_top1 = reward;
  r.test_top1 = test;
  r.seconds = 1.5;
  return r;
}

TEST(FineTuneKeyTest, KeepsEverySettingThatDecidesAFineTuneAndNoOther) {
  RunSettings a;
  RunSettings b = a;
  b.budget = "energy=0.3";
  b.episodes = a.episodes + 7;
  b.restarts = 2;
  b.final_candidates = 5;
  b.final_seeds = 4;
  b.image_cache = "/elsewhere";  // where the preprocessed images are kept, not what they are
  EXPECT_EQ(FineTuneKey(a), FineTuneKey(b));
  const json every = a.ToJson();
  EXPECT_EQ(FineTuneKey(a).size(), every.size() - 6);
  b = a;
  b.finetune_augment = "crop-flip";
  EXPECT_NE(FineTuneKey(a), FineTuneKey(b));
  b = a;
  b.final_finetune_lr = a.final_finetune_lr * 2;
  EXPECT_NE(FineTuneKey(a), FineTuneKey(b));
  b = a;
  b.test_images = 123;
  EXPECT_NE(FineTuneKey(a), FineTuneKey(b));
}

TEST(FineTuneRecordsTest, FindsAPolicyAndSeedUnderItsKeyOnlyAndReadsBackWhatItWrote) {
  test::TempDir dir;
  const auto file = dir / "final_finetunes.jsonl";
  RunSettings s;
  RunSettings other = s;
  other.final_finetune_steps = 7;
  {
    FineTuneRecords r(file, FineTuneKey(s));
    EXPECT_FALSE(r.Find(Bits(4, 4, 8, 8), 0));
    r.Add(Record(Bits(4, 4, 8, 8), 0, 81.5, 80.25));
    r.Add(Record(Bits(4, 4, 8, 8), 1, 82.5, 79.75));
    FineTuneRecords o(file, FineTuneKey(other));
    o.Add(Record(Bits(4, 4, 8, 8), 0, 10.0, 11.0));
  }
  const FineTuneRecords r(file, FineTuneKey(s));
  ASSERT_EQ(r.records().size(), 3u);
  const auto found = r.Find(Bits(4, 4, 8, 8), 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->reward_top1, 82.5);
  EXPECT_EQ(found->test_top1, 79.75);
  EXPECT_EQ(found->seconds, 1.5);
  EXPECT_EQ(r.Find(Bits(4, 4, 8, 8), 0)->test_top1, 80.25);  // not the other key's
  EXPECT_FALSE(r.Find(Bits(4, 4, 8, 8), 2));
  EXPECT_FALSE(r.Find(Bits(4, 3, 8, 8), 0));
}

TEST(FineTuneRecordsTest, MergeAddsOnlyTheRecordsAFileLacks) {
  test::TempDir dir;
  RunSettings s;
  FineTuneRecords a(dir / "a.jsonl", FineTuneKey(s));
  a.Add(Record(Bits(4, 4, 8, 8), 0, 81.5, 80.25));
  FineTuneRecords b(dir / "b.jsonl", FineTuneKey(s));
  b.Add(Record(Bits(4, 4, 8, 8), 0, 81.5, 80.25));
  b.Add(Record(Bits(3, 4, 8, 8), 0, 71.5, 70.25));
  a.Merge(b);
  a.Merge(b);
  EXPECT_EQ(a.records().size(), 2u);
  EXPECT_EQ(FineTuneRecords(dir / "a.jsonl", FineTuneKey(s)).Find(Bits(3, 4, 8, 8), 0)->test_top1, 70.25);
  FineTuneRecords c(dir / "c.jsonl", FineTuneKey(s));
  c.Merge(FineTuneRecords(dir / "absent.jsonl", FineTuneKey(s)));
  EXPECT_FALSE(std::filesystem::exists(dir / "c.jsonl"));  // nothing added, nothing written
}

TEST(FineTuneRecordsTest, AMalformedLineIsNamedByFileLineAndField) {
  test::TempDir dir;
  const std::string good =
      R"({"key": {}, "bits": [[4, 4], [8, 8]], "seed": 0, "reward_top1": 81.5, "test_top1": 80.0, "seconds": 1.0})";
  auto error_of = [&](const std::string& second_line) {
    const auto file = dir.Write("f.jsonl", good + "\n" + second_line + "\n");
    return test::InputErrorOf([&] { FineTuneRecords(file, json::object()); });
  };
  const std::string where = (dir / "f.jsonl").string() + ":2: ";
  EXPECT_EQ(error_of(R"({"key": {}, "bits": [[4, 4]], "seed": 0, "reward_top1": 101, "test_top1": 80, "seconds": 1})"),
            where + "reward_top1: expected a percentage 0..100, got 101");
  EXPECT_EQ(error_of(R"({"key": {}, "bits": [[4, "a"]], "seed": 0, "reward_top1": 1, "test_top1": 80, "seconds": 1})"),
            where + "bits[0]: expected [w_bits, a_bits] integers, got [4,\"a\"]");
  EXPECT_EQ(error_of(R"({"key": 3, "bits": [[4, 4]], "seed": 0, "reward_top1": 1, "test_top1": 80, "seconds": 1})"),
            where + "key: expected an object of run settings, got 3");
  EXPECT_EQ(error_of(R"({"key": {}, "bits": [[4, 4]], "seed": -1, "reward_top1": 1, "test_top1": 80, "seconds": 1})"),
            where + "seed: expected a seed >= 0, got -1");
  EXPECT_EQ(error_of(R"({"key": {}, "bits": [[4, 4]], "seed": 0, "reward_top1": 1, "seconds": 1})"),
            where + "missing field 'test_top1'");
}

}  // namespace
}  // namespace haq::search
