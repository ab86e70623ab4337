// `haq quantize` and `haq eval` with policies end to end: a saved quantized model
// evaluates to the accuracy `haq quantize` reported; bad policies and flags give
// exact messages, exit 1 and write nothing.
#include <gtest/gtest.h>

#include <regex>

#include "test_util.h"

namespace haq {
namespace {

using test::RunHaq;

std::string Top1(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("top-1 ([0-9.]+)%")) ? m[1].str() : "none";
}

TEST(QuantizeCliTest, SavedModelEvaluatesAsReported) {
  test::TempDir dir;
  const auto q = RunHaq(
      "quantize --model resnet20_fmnist --bits 5 --act-bits 6 --finetune-steps 3 --out q.pt "
      "--hw bismo-edge",
      dir.path());
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("fine-tuned 3 steps (192 images)"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("cost on bismo-edge (batch 1): latency"), std::string::npos) << q.out;
  EXPECT_EQ(test::ListDir(dir.path()), "q.pt\n");
  const auto e = RunHaq("eval --model q.pt", dir.path());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("quantized (as saved)"), std::string::npos) << e.out;
  EXPECT_EQ(Top1(e.out), Top1(q.out)) << q.out << e.out;
  EXPECT_NE(Top1(e.out), "none");
}

struct BadCase {
  const char* name;
  const char* policy;  // written to p.json ("" = none)
  const char* args;
  const char* message;
};

// 22 layers, the second misnamed.
const char* WrongNamePolicy() {
  static const std::string text = [] {
    std::string t = R"({"layers": [{"name": "conv1", "w_bits": 8, "a_bits": 8},
                                   {"name": "layer9.0.conv1", "w_bits": 8, "a_bits": 8})";
    for (int i = 2; i < 22; ++i) t += R"(, {"w_bits": 8, "a_bits": 8})";
    return t + "]}";
  }();
  return text.c_str();
}

class QuantizeCliBadInputTest : public testing::TestWithParam<BadCase> {};

TEST_P(QuantizeCliBadInputTest, ExactMessageAndNothingWritten) {
  const BadCase& c = GetParam();
  test::TempDir dir;
  if (*c.policy != '\0') dir.Write("p.json", c.policy);
  const auto before = test::ListDir(dir.path());
  const auto r = RunHaq(c.args, dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err, std::string("haq: error: ") + c.message + "\n");
  EXPECT_EQ(test::ListDir(dir.path()), before);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, QuantizeCliBadInputTest,
    testing::Values(
        BadCase{"NoPolicy", "", "quantize --model resnet20_fmnist --out q.pt",
                "expected --policy FILE or --bits N: the policy to apply"},
        BadCase{"OutNotPt", "", "quantize --model resnet20_fmnist --bits 4 --out q.onnx",
                "--out: expected a .pt checkpoint path, got 'q.onnx'"},
        BadCase{"OutDirMissing", "", "quantize --model resnet20_fmnist --bits 4 --out no/q.pt",
                "no/q.pt: cannot write: No such file or directory"},
        BadCase{"LayerCount", "[[8,8],[4,4]]",
                "eval --model resnet20_fmnist --policy p.json",
                "p.json: expected 22 layers (one per quantizable layer of resnet20_fmnist), got 2"},
        BadCase{"BitsOutOfRange", R"({"layers": [{"name": "conv1", "w_bits": 9, "a_bits": 8}]})",
                "quantize --model resnet20_fmnist --policy p.json --out q.pt",
                "p.json: layers[0].w_bits: expected an integer in 1..8, got 9"},
        BadCase{"WrongLayerName", WrongNamePolicy(), "eval --model resnet20_fmnist --policy p.json",
                "p.json: layers[1].name: expected 'layer1.0.conv1' (layer 1 of resnet20_fmnist), "
                "got 'layer9.0.conv1'"},
        BadCase{"MalformedJson", "[[8,8],", "eval --model resnet20_fmnist --policy p.json",
                "p.json:1:8: malformed JSON: syntax error while parsing value - unexpected end of "
                "input; expected '[', '{', or a literal"},
        BadCase{"MissingFile", "", "eval --model resnet20_fmnist --policy nope.json",
                "nope.json: cannot read: No such file or directory"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace haq
