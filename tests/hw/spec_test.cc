// Hardware spec parsing: built-ins, and every kind of bad input with its exact message.
#include "hw/spec.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "util/error.h"

namespace haq::hw {
namespace {

const char* kBismo = R"(version: 1
name: my-bismo
kind: bismo
clock_mhz: 150
batch: 4
bismo:
  array_rows: 8
  array_cols: 4
  k_slice_bits: 128
  buffer_words: 2048
)";

std::string ParseError(const std::string& yaml) {
  try {
    ParseHardwareSpec(yaml, "spec.yaml");
  } catch (const util::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  if (pos == std::string::npos) throw std::runtime_error("test bug: '" + from + "' not found");
  return s.replace(pos, from.size(), to);
}

TEST(SpecTest, ParsesAUserSpec) {
  const HardwareSpec s = ParseHardwareSpec(kBismo, "spec.yaml");
  EXPECT_EQ(s.name, "my-bismo");
  EXPECT_EQ(s.kind, "bismo");
  EXPECT_DOUBLE_EQ(s.clock_hz, 150e6);
  EXPECT_EQ(s.batch, 4);
  const auto& c = std::get<BismoConfig>(s.config);
  EXPECT_EQ(c.dm, 8);
  EXPECT_EQ(c.dn, 4);
  EXPECT_EQ(c.dk_bits, 128);
  EXPECT_EQ(c.buffer_words, 2048);
  EXPECT_EQ(c.depthwise, DepthwiseMapping::kGroupedDense);
}

TEST(SpecTest, BuiltinsCarryTheirDocumentedConstants) {
  EXPECT_EQ(BuiltinHardwareNames(), (std::vector<std::string>{"bismo-cloud", "bismo-edge", "bitfusion"}));
  const auto cloud = BuiltinHardware("bismo-cloud");
  const auto& cc = std::get<BismoConfig>(cloud.config);
  EXPECT_EQ(cloud.batch, 16);
  EXPECT_EQ(cc.dm, 16);
  EXPECT_EQ(cc.buffer_words, 16384);
  const auto edge = BuiltinHardware("bismo-edge");
  const auto& ec = std::get<BismoConfig>(edge.config);
  EXPECT_EQ(edge.batch, 1);
  EXPECT_EQ(ec.dm, 8);
  EXPECT_EQ(ec.dn, 8);
  EXPECT_EQ(ec.depthwise, DepthwiseMapping::kPerChannel);
  const auto bf = BuiltinHardware("bitfusion");
  const auto& bc = std::get<BitFusionConfig>(bf.config);
  EXPECT_DOUBLE_EQ(bf.clock_hz, 500e6);
  EXPECT_EQ(bc.rows, 16);
  EXPECT_EQ(bc.cols, 32);
  EXPECT_EQ(bc.dram_bits_per_cycle, 192);
  EXPECT_EQ(bc.weight_buffer_bytes, 65536);
  EXPECT_EQ(bc.input_buffer_bytes, 32768);
  EXPECT_EQ(bc.output_buffer_bytes, 16384);
  EXPECT_DOUBLE_EQ(bc.core_pj_per_cycle, 235.104);
  EXPECT_DOUBLE_EQ(bc.output_buffer.write_pj, 2.33869);
}

TEST(SpecTest, MalformedYaml) {
  EXPECT_EQ(ParseError("version: 1\nname: [unclosed\n"),
            "spec.yaml:3:1: malformed YAML: end of sequence flow not found");
}

TEST(SpecTest, EmptyFile) {
  EXPECT_EQ(ParseError(""), "spec.yaml:1: document: expected a hardware spec mapping, got an empty file");
}

TEST(SpecTest, NotAMapping) {
  EXPECT_EQ(ParseError("- 1\n- 2\n"), "spec.yaml:1: document: expected a mapping of keys to values, got a sequence");
}

TEST(SpecTest, UnknownKeyWithSuggestion) {
  EXPECT_EQ(ParseError(Replace(kBismo, "  buffer_words:", "  bufer_words:")),
            "spec.yaml:7: bismo: required key 'buffer_words' not found (is 'bufer_words' a "
            "misspelling?). Found keys: array_rows, "
            "array_cols, k_slice_bits, bufer_words");
  EXPECT_EQ(ParseError(std::string(kBismo) + "  depthwize: per-channel\n"),
            "spec.yaml:11: bismo.depthwize: unknown key 'depthwize' (did you mean 'depthwise'?). "
            "Known keys here: array_cols, array_rows, buffer_words, depthwise, k_slice_bits");
  EXPECT_EQ(ParseError(std::string(kBismo) + "clock: 100\n"),
            "spec.yaml:11: clock: unknown key 'clock'. Known keys here: batch, bismo, clock_mhz, "
            "description, kind, name, version");
}

TEST(SpecTest, MissingKey) {
  EXPECT_EQ(ParseError(Replace(kBismo, "batch: 4\n", "")),
            "spec.yaml:1: document: required key 'batch' not found. Found keys: version, name, "
            "kind, clock_mhz, bismo");
}

TEST(SpecTest, WrongType) {
  EXPECT_EQ(ParseError(Replace(kBismo, "array_rows: 8", "array_rows: eight")),
            "spec.yaml:7: bismo.array_rows: expected an integer in 1..4096, got 'eight'");
  EXPECT_EQ(ParseError(Replace(kBismo, "array_rows: 8", "array_rows: [8]")),
            "spec.yaml:7: bismo.array_rows: expected an integer in 1..4096, got a sequence");
  EXPECT_EQ(ParseError(Replace(kBismo, "clock_mhz: 150", "clock_mhz: fast")),
            "spec.yaml:4: clock_mhz: expected a number > 0 and <= 1000000, got 'fast'");
  EXPECT_EQ(ParseError(Replace(kBismo,
                               "bismo:\n  array_rows: 8\n  array_cols: 4\n  k_slice_bits: 128\n  "
                               "buffer_words: 2048\n",
                               "bismo: 3\n")),
            "spec.yaml:6: bismo: expected a mapping of keys to values, got '3'");
}

TEST(SpecTest, ZeroAndNegativeSizes) {
  EXPECT_EQ(ParseError(Replace(kBismo, "buffer_words: 2048", "buffer_words: 0")),
            "spec.yaml:10: bismo.buffer_words: expected an integer in 1..4294967296, got 0");
  EXPECT_EQ(ParseError(Replace(kBismo, "batch: 4", "batch: -4")),
            "spec.yaml:5: batch: expected an integer in 1..65536, got -4");
  EXPECT_EQ(ParseError(Replace(kBismo, "clock_mhz: 150", "clock_mhz: 0")),
            "spec.yaml:4: clock_mhz: expected a number > 0 and <= 1000000, got 0");
}

TEST(SpecTest, VersionAndKind) {
  EXPECT_EQ(ParseError(Replace(kBismo, "version: 1", "version: 2")),
            "spec.yaml:1: version: expected an integer in 1..1, got 2");
  EXPECT_EQ(ParseError(Replace(kBismo, "kind: bismo", "kind: bismos")),
            "spec.yaml:3: kind: expected one of bismo, bitfusion, got 'bismos' (did you mean 'bismo'?)");
  // A section of another kind is an unknown key.
  EXPECT_EQ(ParseError(std::string(kBismo) + "bitfusion: {}\n"),
            "spec.yaml:11: bitfusion: unknown key 'bitfusion'. Known keys here: batch, bismo, "
            "clock_mhz, description, kind, name, version");
}

TEST(SpecTest, UnknownBuiltinName) {
  try {
    LoadHardware("bismo-eddge");
    FAIL() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown hardware 'bismo-eddge' (did you mean 'bismo-edge'?); built-in: "
                 "bismo-cloud, bismo-edge, bitfusion (or give a .yaml file)");
  }
}

TEST(SpecTest, UnreadableFile) {
  try {
    LoadHardware("/nonexistent/accel.yaml");
    FAIL() << "no error";
  } catch (const util::IoError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/accel.yaml: cannot read: No such file or directory");
  }
}

TEST(SpecTest, DevicesAndPipesAreRefusedBeforeReading) {
  // /dev/zero never ends: only regular files, whose size is checked, are read.
  try {
    LoadHardware("/dev/zero");
    FAIL() << "no error";
  } catch (const util::InputError& e) {
    EXPECT_STREQ(e.what(), "/dev/zero: expected a regular file, got a device, pipe or socket");
  }
}

TEST(SpecTest, KeysMustBePlainNames) {
  EXPECT_EQ(ParseError("? [a, b]\n: 1\n"),
            "spec.yaml:1: document: expected keys that are plain names, got a sequence");
}

TEST(SpecTest, KeysGivenTwiceAreRefused) {
  // yaml-cpp keeps both entries and a lookup sees the first; the spec refuses both.
  EXPECT_EQ(ParseError(Replace(kBismo, "batch: 4\n", "batch: 4\nbatch: 8\n")),
            "spec.yaml:6: batch: key given twice (first at line 5)");
  EXPECT_EQ(ParseError(Replace(kBismo, "  buffer_words: 2048\n",
                               "  buffer_words: 2048\n  array_rows: 16\n")),
            "spec.yaml:11: bismo.array_rows: key given twice (first at line 7)");
}

TEST(SpecTest, UserFileRoundTripsThroughLoadHardware) {
  test::TempDir dir;
  const auto path = dir.Write("accel.yaml", kBismo);
  EXPECT_EQ(LoadHardware(path.string()).source, path.string());
  EXPECT_EQ(LoadHardware(path.string()).name, "my-bismo");
}

}  // namespace
}  // namespace haq::hw
