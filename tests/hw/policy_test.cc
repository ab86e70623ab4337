// Policy files: both accepted forms, and bad policies with their exact messages.
#include "hw/policy.h"

#include <gtest/gtest.h>

#include "hw/zoo.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::hw {
namespace {

std::string ParseError(const std::string& json) {
  try {
    ParsePolicy(json, "p.json");
  } catch (const util::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<LayerShape> ThreeLayers() {
  std::vector<LayerShape> layers(3);
  layers[0].name = "conv0";
  layers[1].name = "conv1";
  layers[2].name = "fc";
  layers[2].kind = LayerKind::kFc;
  return layers;
}

std::string MatchError(const Policy& p) {
  try {
    CheckPolicyMatches(p, ThreeLayers(), "tiny");
  } catch (const util::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PolicyTest, ReadsHaqListForm) {
  const Policy p = ParsePolicy("[[8,-1],[4,5],[6,8]]", "p.json");
  ASSERT_EQ(p.layers.size(), 3u);
  EXPECT_EQ(p.layers[0].w_bits, 8);
  EXPECT_EQ(p.layers[0].a_bits, 0);  // not quantized
  EXPECT_EQ(p.layers[1].w_bits, 4);
  EXPECT_EQ(p.layers[1].a_bits, 5);
  EXPECT_EQ(MatchError(p), "(no error)");
}

TEST(PolicyTest, ObjectFormRoundTrips) {
  Policy p = UniformPolicy(ThreeLayers(), 5, 6);
  p.layers[1].w_bits = 2;
  const Policy back = ParsePolicy(PolicyToJson(p, "tiny", "bismo-edge"), "p.json");
  ASSERT_EQ(back.layers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.layers[i].name, p.layers[i].name);
    EXPECT_EQ(back.layers[i].w_bits, p.layers[i].w_bits);
    EXPECT_EQ(back.layers[i].a_bits, p.layers[i].a_bits);
  }
}

TEST(PolicyTest, MalformedJson) {
  EXPECT_EQ(ParseError("{\"layers\": [\n  [8, 8],\n  [8 8]\n]}"),
            "p.json:3:6: malformed JSON: syntax error while parsing array - unexpected number "
            "literal; expected ']'");
}

TEST(PolicyTest, KeysGivenTwiceAreRefused) {
  // nlohmann would keep the last value silently.
  EXPECT_EQ(ParseError(R"({"layers": [[8, 8]], "layers": [[4, 4]]})"),
            "p.json: layers: key given twice in one object");
  EXPECT_EQ(ParseError(R"({"layers": [{"name": "a", "w_bits": 8, "w_bits": 4, "a_bits": 8}]})"),
            "p.json: w_bits: key given twice in one object");
  // The same key in two different objects is fine.
  EXPECT_EQ(ParseError(R"({"layers": [{"name": "a", "w_bits": 8, "a_bits": 8},
                                      {"name": "b", "w_bits": 8, "a_bits": 8}]})"),
            "(no error)");
}

TEST(PolicyTest, BitsOutsideRange) {
  EXPECT_EQ(ParseError("[[8,8],[9,8]]"), "p.json: [1][0] (w_bits): expected an integer in 1..8, got 9");
  EXPECT_EQ(ParseError("[[0,8]]"), "p.json: [0][0] (w_bits): expected an integer in 1..8, got 0");
  EXPECT_EQ(ParseError("[[8,-2]]"),
            "p.json: [0][1] (a_bits): expected an integer in 1..8 (0 or -1: not quantized), got -2");
  EXPECT_EQ(ParseError(R"({"layers": [{"name": "a", "w_bits": 4.5, "a_bits": 4}]})"),
            "p.json: layers[0].w_bits: expected an integer in 1..8, got 4.5");
  EXPECT_EQ(ParseError(R"({"layers": [{"name": "a", "w_bits": "8", "a_bits": 4}]})"),
            "p.json: layers[0].w_bits: expected an integer in 1..8, got \"8\"");
  // Above int64's range: refused, not wrapped to -1 ("not quantized").
  EXPECT_EQ(ParseError("[[8,18446744073709551615]]"),
            "p.json: [0][1] (a_bits): expected an integer in 1..8 (0 or -1: not quantized), got "
            "18446744073709551615");
}

TEST(PolicyTest, ShapeOfTheDocument) {
  EXPECT_EQ(ParseError("[]"), "p.json: expected at least one layer, got none");
  EXPECT_EQ(ParseError("[[8]]"), "p.json: [0]: expected a [w_bits, a_bits] pair, got [8]");
  EXPECT_EQ(ParseError("{\"layer\": []}"),
            "p.json: unknown key 'layer' (did you mean 'layers'?). Known keys: version, model, "
            "hardware, note, layers, cost, accuracy");
  EXPECT_EQ(ParseError("{\"model\": \"x\"}"), "p.json: required key 'layers' not found");
  EXPECT_EQ(ParseError(R"({"layers": [{"name": "a", "w_bits": 4}]})"),
            "p.json: layers[0]: required key 'a_bits' not found");
  EXPECT_EQ(ParseError(R"({"layers": [{"w_bit": 4, "a_bits": 4}]})"),
            "p.json: layers[0]: unknown key 'w_bit' (did you mean 'w_bits'?). Known keys: name, "
            "w_bits, a_bits, kind");
  EXPECT_EQ(ParseError(R"({"version": 2, "layers": [[8, 8]]})"), "p.json: version: expected 1, got 2");
}

TEST(PolicyTest, LayerCountMustMatchTheModel) {
  EXPECT_EQ(MatchError(ParsePolicy("[[8,8],[8,8]]", "p.json")),
            "p.json: expected 3 layers (one per quantizable layer of tiny), got 2");
}

TEST(PolicyTest, LayerNamesMustMatchTheModel) {
  const Policy p = ParsePolicy(
      R"({"layers": [{"name": "conv0", "w_bits": 8, "a_bits": 8},
                     {"name": "conv2", "w_bits": 8, "a_bits": 8},
                     {"name": "fc", "w_bits": 8, "a_bits": 8}]})",
      "p.json");
  EXPECT_EQ(MatchError(p), "p.json: layers[1].name: expected 'conv1' (layer 1 of tiny), got 'conv2'");
}

TEST(PolicyTest, UnreadableFile) {
  EXPECT_THROW(LoadPolicy("/nonexistent/p.json"), util::IoError);
}

}  // namespace
}  // namespace haq::hw
