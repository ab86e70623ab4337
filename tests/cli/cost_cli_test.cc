// `haq cost` and `haq list` end to end: the golden table through the CLI, and bad
// input with exact messages and exit codes.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "util/file.h"
#include "util/npy.h"

namespace haq {
namespace {

using test::RunHaq;

TEST(CostCliTest, ReproducesHaqCloudTableThroughTheCli) {
  test::TempDir dir;
  const auto r = RunHaq("cost --model mobilenet_v2 --hw bismo-cloud --batch 16 --table cloud.npy",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The written file is byte-for-byte a NumPy array equal to HAQ's table.
  const auto ours = util::ReadNpy(dir / "cloud.npy");
  const auto golden = util::ReadNpy(test::DataPath("haq_qmobilenetv2_cloud_latency_table.npy"));
  EXPECT_EQ(ours.shape, golden.shape);
  EXPECT_EQ(ours.data, golden.data);
  EXPECT_NE(r.out.find("total: 39,624,933 cycles, 186.033 ms"), std::string::npos) << r.out;
  EXPECT_EQ(test::ListDir(dir.path()), "cloud.npy\n");  // no temp files left behind
}

TEST(CostCliTest, CsvTableHasOneRowPerLayerAndBitPair) {
  test::TempDir dir;
  const auto r = RunHaq("cost --model resnet18 --hw bitfusion --bits 4 --table t.csv", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir / "t.csv");
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header,
            "layer_index,layer,kind,w_bits,a_bits,cycles,seconds,compute_cycles,bound,energy_pj,"
            "energy_compute_pj,energy_weight_buffer_pj,energy_input_buffer_pj,"
            "energy_output_buffer_pj,energy_dram_pj,dram_read_bits,dram_write_bits,weight_bits,"
            "weight_bytes");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 21 * 64);
}

TEST(CostCliTest, PolicyFileDrivesTheBits) {
  test::TempDir dir;
  // HAQ list form: 53 layers, first input unquantized; cost counts it as 8 bits.
  std::string list = "[[8,-1]";
  for (int i = 1; i < 53; ++i) list += ",[4,4]";
  list += "]";
  dir.Write("p.json", list);
  const auto r = RunHaq("cost --model mobilenet_v2 --hw bismo-cloud --policy p.json", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  0  features.0.0             conv      3x3 s2 3->32 224x224          8  -"),
            std::string::npos)
      << r.out;
}

struct BadCase {
  const char* name;
  std::string args;
  int exit_code;
  std::string err;
};

// Keeps gtest from dumping the struct's bytes into test names.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class CostCliBadInput : public testing::TestWithParam<BadCase> {};

TEST_P(CostCliBadInput, FailsWithExactMessage) {
  test::TempDir dir;
  dir.Write("short.json", "[[8,8],[8,8]]");
  dir.Write("bad.yaml", "version: 1\nname: x\nkind: bismo\nclock_mhz: 100\nbatch: 1\nbismo:\n  array_rows: 0\n");
  const auto& c = GetParam();
  const auto r = RunHaq(c.args, dir.path());
  EXPECT_EQ(r.exit_code, c.exit_code);
  EXPECT_EQ(r.err, c.err);
  // Nothing written on failure (the inputs only).
  EXPECT_EQ(test::ListDir(dir.path()), "bad.yaml\nshort.json\n");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CostCliBadInput,
    testing::Values(
        BadCase{"UnknownModel", "cost --model resnet51 --hw bitfusion --table t.csv", 1,
                "haq: error: unknown model 'resnet51' (did you mean 'resnet50'?); give a zoo name "
                "(mobilenet_v1, mobilenet_v2, mobilenet_v2_cifar, mobilenet_v2_fmnist, resnet18, resnet20_fmnist, "
                "resnet50), a checkpoint (.pt) or an ONNX file (.onnx)\n"},
        BadCase{"UnknownHardware", "cost --model resnet50 --hw bitfuson --table t.csv", 1,
                "haq: error: unknown hardware 'bitfuson' (did you mean 'bitfusion'?); built-in: "
                "bismo-cloud, bismo-edge, bitfusion (or give a .yaml file)\n"},
        BadCase{"BadSpecFile", "cost --model resnet50 --hw bad.yaml --table t.csv", 1,
                "haq: error: bad.yaml:7: bismo.array_rows: expected an integer in 1..4096, got 0\n"},
        BadCase{"MissingSpecFile", "cost --model resnet50 --hw none.yaml", 1,
                "haq: error: none.yaml: cannot read: No such file or directory\n"},
        BadCase{"PolicyLayerCount", "cost --model mobilenet_v2 --hw bismo-edge --policy short.json --table t.csv", 1,
                "haq: error: short.json: expected 53 layers (one per quantizable layer of "
                "mobilenet_v2), got 2\n"},
        BadCase{"MissingPolicy", "cost --model mobilenet_v2 --hw bismo-edge --policy nope.json", 1,
                "haq: error: nope.json: cannot read: No such file or directory\n"},
        BadCase{"BitsOutOfRange", "cost --model mobilenet_v2 --hw bismo-edge --bits 9", 2,
                "--bits: Value 9 not in range 1 to 8\nRun with --help for more information.\n"},
        BadCase{"TableExtension", "cost --model mobilenet_v2 --hw bismo-edge --table t.txt", 1,
                "haq: error: t.txt: table file: expected a .csv or .npy extension, got '.txt'\n"},
        BadCase{"TableDirectoryMissing", "cost --model mobilenet_v2 --hw bismo-edge --table no/t.npy", 1,
                "haq: error: no/t.npy: cannot write: No such file or directory\n"},
        BadCase{"BadInputSize", "cost --model resnet50 --hw bitfusion --input 224", 1,
                "haq: error: --input: expected HEIGHTxWIDTH such as 224x224, got '224'\n"},
        BadCase{"ListWhat", "list gpus", 2,
                "what: gpus not in {models,hw}\nRun with --help for more information.\n"}),
    [](const testing::TestParamInfo<BadCase>& param_info) { return param_info.param.name; });

TEST(ListCliTest, ListsBuiltins) {
  const auto models = RunHaq("list models");
  ASSERT_EQ(models.exit_code, 0);
  EXPECT_NE(models.out.find("mobilenet_v2         53 quantizable layers"), std::string::npos)
      << models.out;
  EXPECT_NE(models.out.find("resnet20_fmnist      22 quantizable layers"), std::string::npos)
      << models.out;
  const auto hw = RunHaq("list hw");
  ASSERT_EQ(hw.exit_code, 0);
  EXPECT_NE(hw.out.find("bismo-edge   bismo         200 MHz  batch 1"), std::string::npos) << hw.out;
  const auto show = RunHaq("list hw --show bitfusion");
  EXPECT_NE(show.out.find("dram_bits_per_cycle: 192"), std::string::npos);
}

}  // namespace
}  // namespace haq
