// Bad input to the real executable, one case per row of docs/RELIABILITY.md that
// no module test covers: command-line misuse (2 for usage errors CLI11 finds, 1 for
// values haq itself refuses) and unreadable or malformed input files. Each case
// checks the exit status, the exact message, that nothing went to stdout and that
// the directory holds exactly what it held before.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

#include "test_util.h"
#include "train/checkpoint.h"

namespace haq {
namespace {

namespace fs = std::filesystem;

struct BadInput {
  const char* name;
  std::string args;
  int exit_code;
  std::string err;
  std::function<void(const test::TempDir&)> setup = [](const test::TempDir&) {};
};

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

std::string CaseName(const testing::TestParamInfo<BadInput>& p) { return p.param.name; }

class BadInputCliTest : public testing::TestWithParam<BadInput> {};

TEST_P(BadInputCliTest, FailsWithExactMessageAndWritesNothing) {
  test::TempDir dir;
  const auto& c = GetParam();
  c.setup(dir);
  const std::string before = test::ListDir(dir.path());
  const auto r = test::RunHaq(c.args, dir.path());
  EXPECT_EQ(r.exit_code, c.exit_code);
  EXPECT_EQ(r.err, c.err);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(test::ListDir(dir.path()), before);
}

const std::string kUsage = "\nRun with --help for more information.\n";
const std::string kSearch = "search --model mobilenet_v2_fmnist --hw bismo-edge "
                            "--budget latency=0.5 --out r ";
const std::string kCost = "cost --model resnet18 --hw bitfusion ";

// A file of `bytes` bytes that takes no disk space (a hole), for size limits.
std::function<void(const test::TempDir&)> Sparse(const std::string& name, std::uintmax_t bytes) {
  return [=](const test::TempDir& dir) {
    dir.Write(name, "");
    fs::resize_file(dir / name, bytes);
  };
}

std::function<void(const test::TempDir&)> File(const std::string& name, const std::string& text) {
  return [=](const test::TempDir& dir) { dir.Write(name, text); };
}

std::function<void(const test::TempDir&)> Directory(const std::string& name) {
  return [=](const test::TempDir& dir) { fs::create_directory(dir / name); };
}

// YAML nested `depth` block sequences deep.
std::string DeepYaml(int depth) {
  std::string text = "version: 1\nx:\n";
  for (int i = 0; i < depth; ++i) text += std::string(2 * i, ' ') + "- \n";
  return text;
}

const std::string kSpecWithInfiniteClock =
    "version: 1\nname: b\nkind: bismo\nclock_mhz: .inf\nbatch: 1\nbismo:\n  array_rows: 8\n"
    "  array_cols: 4\n  k_slice_bits: 128\n  buffer_words: 2048\n";

// Section 1: the command line.
INSTANTIATE_TEST_SUITE_P(
    Flags, BadInputCliTest,
    testing::Values(
        BadInput{"NoSubcommand", "", 2, "A subcommand is required" + kUsage},
        BadInput{"UnknownSubcommand", "frob --model resnet18", 2,
                 "unknown command 'frob'; expected one of: cost, list, train, eval, quantize, "
                 "search, sensitivity, sweep, report, export, worker" + kUsage},
        BadInput{"UnknownFlag", kCost + "--frob", 2,
                 "The following argument was not expected: --frob" + kUsage},
        BadInput{"RequiredFlagMissing", "cost --hw bitfusion", 2, "--model is required" + kUsage},
        BadInput{"NotANumber", "train --model resnet20_fmnist --batch abc --out t.pt", 2,
                 "--batch: Value abc not in range 1 to 65536" + kUsage},
        BadInput{"BitsWithPolicy", kCost + "--bits 4 --policy p.json", 2,
                 "--policy excludes --bits" + kUsage},
        BadInput{"OutWithResume", kSearch + "--resume r2", 2, "--out excludes --resume" + kUsage},
        BadInput{"BMinAboveBMax", kSearch + "--b-min 6 --b-max 3", 1,
                 "haq: error: --b-min 6 is above --b-max 3\n"},
        BadInput{"ValHoldsEveryTrainingImage", kSearch + "--val 60000", 1,
                 "haq: error: --val: expected fewer than the 60000 training images, got 60000\n"},
        BadInput{"RewardImagesAboveVal", kSearch + "--val 100 --reward-images 200", 1,
                 "haq: error: --reward-images: expected at most the 100 held-out training "
                 "images (--val), got 200\n"},
        BadInput{"TwoBudgetsForDdpg", kSearch + "--budget size=0.3", 1,
                 "haq: error: --budget: 2 budgets need --agent ilp or greedy (the ddpg agent's "
                 "wall enforces one budget); expected one budget, got 'latency=0.5,size=0.3'\n"},
        // Refused before the sensitivity pass or the probes, naming the budget in ms.
        BadInput{"InfeasibleBudgetForIlp",
                 "search --model mobilenet_v2_fmnist --hw bismo-edge --agent ilp --budget "
                 "latency=0.05 --out r",
                 1,
                 "haq: error: budget latency=0.05: infeasible: the cheapest choice in every layer "
                 "costs 0.6395 ms, above the limit 0.15292 ms (4.1819x of it); raise the budget or "
                 "lower --b-min\n"},
        // haq sweep: its budgets come from --budgets, each checked before the
        // directory is made.
        BadInput{"SweepGivenABudget",
                 "sweep --budget latency=0.5 --budgets latency=0.3,0.4 --out s", 1,
                 "haq: error: --budget: a sweep takes its budgets from --budgets "
                 "METRIC=A1,A2,...\n"},
        BadInput{"SweepWithoutBudgets", "sweep --out s", 1,
                 "haq: error: --budgets: expected METRIC=A1,A2,... for a new sweep\n"},
        BadInput{"SweepOfOneBudget", "sweep --budgets latency=0.3 --out s", 1,
                 "haq: error: --budgets: expected at least two amounts for a sweep (one budget "
                 "is a search: haq search --budget), got 'latency=0.3'\n"},
        BadInput{"SweepResumeOfNoSweep", "sweep --resume s", 1,
                 "haq: error: --resume: s: not a sweep directory (no sweep.json; a search run "
                 "resumes with haq search)\n"},
        BadInput{"SweepWithAnInfeasibleBudget",
                 "sweep --model mobilenet_v2_fmnist --hw bismo-edge --budgets latency=0.5,0.05 "
                 "--out s",
                 1,
                 "haq: error: budget latency=0.05: infeasible: the cheapest choice in every layer "
                 "costs 0.6395 ms, above the limit 0.15292 ms (4.1819x of it); raise the budget or "
                 "lower --b-min\n"},
        BadInput{"InfeasibleSecondBudgetOnOtherHardware",
                 "search --model mobilenet_v2_fmnist --hw bismo-edge --agent greedy --budget "
                 "latency=0.5 --budget energy=0.01@bitfusion --out r",
                 1,
                 "haq: error: budget energy=0.01@bitfusion: infeasible: the cheapest choice in "
                 "every layer costs 2.8261 mJ, above the limit 0.0343447 mJ (82.2866x of it); "
                 "raise the budget or lower --b-min\n"},
        BadInput{"Cifar10WithoutDataDir", "eval --model mobilenet_v2_cifar --dataset cifar10", 1,
                 "haq: error: --data-dir: cifar10 needs the directory of its binary version "
                 "(data_batch_1.bin ... test_batch.bin)\n"},
        BadInput{"ReportOfTwoRunsWithoutCompare", "report a b", 1,
                 "haq: error: expected one run directory (or --compare with several), got 2\n"}),
    CaseName);

// Sections 2, 3, 8, 9 and 10: input files and directories given by path.
INSTANTIATE_TEST_SUITE_P(
    Files, BadInputCliTest,
    testing::Values(
        BadInput{"SpecIsADirectory", "cost --model resnet18 --hw d.yaml", 1,
                 "haq: error: d.yaml: cannot read: is a directory\n", Directory("d.yaml")},
        BadInput{"SpecOverOneMiB", "cost --model resnet18 --hw big.yaml", 1,
                 "haq: error: big.yaml: file is 1048577 bytes, more than the limit of 1048576\n",
                 Sparse("big.yaml", (1 << 20) + 1)},
        BadInput{"SpecNestedTooDeep", "cost --model resnet18 --hw deep.yaml", 1,
                 "haq: error: deep.yaml:501:998: malformed YAML: nested deeper than 499 "
                 "levels\n",
                 File("deep.yaml", DeepYaml(1000))},
        BadInput{"SpecInfiniteNumber", "cost --model resnet18 --hw inf.yaml", 1,
                 "haq: error: inf.yaml:4: clock_mhz: expected a number > 0 and <= 1000000, got "
                 "'.inf'\n",
                 File("inf.yaml", kSpecWithInfiniteClock)},
        BadInput{"PolicyOver64MiB", kCost + "--policy huge.json", 1,
                 "haq: error: huge.json: file is 67108865 bytes, more than the limit of "
                 "67108864\n",
                 Sparse("huge.json", (std::uintmax_t{64} << 20) + 1)},
        BadInput{"PolicyLayersNotAList", kCost + "--policy p.json", 1,
                 "haq: error: p.json: layers: expected a list of layers ({\"name\", \"w_bits\", "
                 "\"a_bits\"} objects or [w_bits, a_bits] pairs), got 3\n",
                 File("p.json", "{\"layers\": 3}")},
        BadInput{"PolicyEntryNeitherObjectNorPair", kCost + "--policy p.json", 1,
                 "haq: error: p.json: [0]: expected {\"name\", \"w_bits\", \"a_bits\"} or "
                 "[w_bits, a_bits], got 5\n",
                 File("p.json", "[5]")},
        BadInput{"PolicyNameNotAString", kCost + "--policy p.json", 1,
                 "haq: error: p.json: layers[0].name: expected a string, got 5\n",
                 File("p.json", R"({"layers": [{"name": 5, "w_bits": 4, "a_bits": 4}]})")},
        BadInput{"CheckpointMissing", "cost --model nope.pt --hw bitfusion", 1,
                 "haq: error: nope.pt: cannot read: No such file or directory\n"},
        BadInput{"CheckpointOver4GiB", "eval --model big.pt", 1,
                 "haq: error: big.pt: file is 4294967297 bytes, more than the limit of "
                 "4294967296\n",
                 Sparse("big.pt", (std::uintmax_t{4} << 30) + 1)},
        BadInput{"SearchOutIsAFile", "search --model mobilenet_v2_fmnist --budget latency=0.5 --out f", 1,
                 "haq: error: --out: f exists and is not a directory\n", File("f", "")},
        BadInput{"ReportOfAFile", "report f --out r.html", 1,
                 "haq: error: f: expected a search run directory, got a file\n", File("f", "")}),
    CaseName);

// `haq list models` reads each shipped checkpoint's recorded accuracy; one that is
// not a number is named, not printed as garbage (the checkpoint here stands in for
// a shipped one through $HAQ_MODEL_DIR).
TEST(ListCliTest, ShippedCheckpointWithABadAccuracyIsNamed) {
  test::TempDir dir;
  train::Checkpoint c;
  c.model = "resnet20_fmnist";
  c.meta = {{"test_top1", "x"}};
  train::SaveCheckpoint(c, dir / "resnet20_fmnist.pt");
  ::setenv("HAQ_MODEL_DIR", dir.path().c_str(), 1);
  const auto r = test::RunHaq("list models");
  ::unsetenv("HAQ_MODEL_DIR");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "haq: error: " + (dir / "resnet20_fmnist.pt").string() +
                       ": meta: test_top1: expected a number, got \"x\"\n");
  EXPECT_EQ(test::ListDir(dir.path()), "resnet20_fmnist.pt\n");
}

}  // namespace
}  // namespace haq
