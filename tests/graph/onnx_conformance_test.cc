// The ONNX backend node tests shipped by Debian's libonnx-testdata, run through
// ImportOnnx and the executor: each test directory holds model.onnx and
// test_data_set_*/{input,output}_N.pb (TensorProto). Every directory whose name
// matches a prefix relevant to CNNs is a test case of its own, except those in the
// explicit exclusion list below (each with its reason); all others must pass.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "graph/network.h"
#include "graph/onnx_import.h"

namespace haq::graph {
namespace {

namespace fs = std::filesystem;

// The ONNX backend's own tolerances for node tests.
constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;

// Where Debian installs the test data; HAQ_ONNX_TESTDATA overrides it.
fs::path TestDataRoot() {
  if (const char* env = std::getenv("HAQ_ONNX_TESTDATA")) return env;
  return "/usr/share/libonnx-testdata/data";
}

// Test directories run, by suite (subdirectory of the data root) and name prefix.
const std::map<std::string, std::vector<std::string>>& Prefixes() {
  static const std::map<std::string, std::vector<std::string>> prefixes = {
      {"node",
       {"test_add", "test_averagepool", "test_basic_conv", "test_batchnorm", "test_cast_",
        "test_clip", "test_concat", "test_constant", "test_conv", "test_div", "test_dropout",
        "test_edge_pad", "test_exp", "test_expand", "test_flatten", "test_gather", "test_gemm",
        "test_globalaveragepool", "test_globalmaxpool", "test_hardsigmoid", "test_hardswish",
        "test_identity", "test_leakyrelu", "test_log", "test_matmul", "test_max_",
        "test_maxpool", "test_mean_", "test_min_", "test_mul", "test_mvn_expanded", "test_neg",
        "test_pad", "test_pow", "test_reduce_max", "test_reduce_mean", "test_reduce_sum_",
        "test_reflect_pad", "test_relu", "test_reshape", "test_shape", "test_sigmoid",
        "test_slice", "test_softmax", "test_sqrt", "test_squeeze", "test_sub", "test_sum_",
        "test_tanh", "test_training_dropout", "test_transpose", "test_unsqueeze"}},
      {"pytorch-converted",
       {"test_AvgPool", "test_BatchNorm", "test_ConstantPad2d", "test_Conv1d", "test_Conv2d",
        "test_Conv3d", "test_Embedding", "test_LeakyReLU", "test_Linear", "test_LogSoftmax",
        "test_MaxPool", "test_PixelShuffle", "test_ReLU", "test_ReflectionPad2d",
        "test_ReplicationPad2d", "test_Sigmoid", "test_Softmax", "test_Softmin", "test_Tanh",
        "test_ZeroPad2d", "test_log_softmax", "test_softmax"}},
      {"pytorch-operator", {"test_operator_"}},
  };
  return prefixes;
}

// Directories matched by the prefixes that are NOT run, with the reason. An entry
// ending in '*' covers every directory starting with it. Each entry must match at
// least one directory (checked below), so the list cannot go stale silently.
const std::vector<std::pair<std::string, std::string>>& Exclusions() {
  static const std::vector<std::pair<std::string, std::string>> exclusions = {
      // Operators outside what the executor claims to support.
      {"node/test_convinteger*", "ConvInteger (integer convolution) is not supported"},
      {"node/test_basic_convinteger", "ConvInteger (integer convolution) is not supported"},
      {"node/test_convtranspose*", "ConvTranspose (transposed convolution) is not supported"},
      {"pytorch-operator/test_operator_convtranspose",
       "ConvTranspose (transposed convolution) is not supported"},
      {"node/test_matmulinteger", "MatMulInteger is not supported"},
      {"node/test_gather_elements*", "GatherElements is not supported (Gather is)"},
      {"node/test_gathernd*", "GatherND is not supported (Gather is)"},
      {"node/test_reduce_sum_square*", "ReduceSumSquare is not supported (ReduceSum is)"},
      {"pytorch-operator/test_operator_chunk", "Split is not supported"},
      {"pytorch-operator/test_operator_repeat*", "Tile is not supported"},
      {"pytorch-operator/test_operator_selu", "Selu is not supported"},
      {"pytorch-operator/test_operator_symbolic_override",
       "InstanceNormalization is not supported"},
      // A graph without inputs: Network::Finalize requires an input, as every model
      // haq quantizes has one. Constant itself runs in the other directories using it.
      {"node/test_constant", "the graph has no inputs (Network::Finalize requires one)"},
      // Batch norm in training mode returns the updated running statistics as extra
      // outputs; the executor updates them in place instead and rejects such nodes.
      {"node/test_batchnorm_epsilon_training_mode",
       "BatchNormalization with training_mode outputs (running mean/var) is not supported"},
      {"node/test_batchnorm_example_training_mode",
       "BatchNormalization with training_mode outputs (running mean/var) is not supported"},
      // MaxPool's second output (argmax indices) is not supported.
      {"node/test_maxpool_with_argmax*", "MaxPool's Indices output is not supported"},
      // Non-tensor values (optional, sequence) are outside the executor's value model.
      {"node/test_identity_opt", "optional-typed values are not supported"},
      {"node/test_identity_sequence", "sequence-typed values are not supported"},
      // Element types the executor does not carry.
      {"node/test_cast_BFLOAT16_to_FLOAT", "BFLOAT16 tensors are not supported"},
      {"node/test_cast_FLOAT_to_BFLOAT16", "BFLOAT16 tensors are not supported"},
      {"node/test_cast_FLOAT_to_STRING", "STRING tensors are not supported"},
      {"node/test_cast_STRING_to_FLOAT", "STRING tensors are not supported"},
      {"node/test_max_uint16", "UINT16 tensors are not supported"},
      {"node/test_max_uint32", "UINT32 tensors are not supported"},
      {"node/test_max_uint64", "UINT64 tensors are not supported"},
      {"node/test_min_uint16", "UINT16 tensors are not supported"},
      {"node/test_min_uint32", "UINT32 tensors are not supported"},
      {"node/test_min_uint64", "UINT64 tensors are not supported"},
      {"node/test_pow_types_float32_uint32", "UINT32 tensors are not supported"},
      {"node/test_pow_types_float32_uint64", "UINT64 tensors are not supported"},
      // Dropout with training_mode=true and ratio > 0: the expected outputs come from
      // numpy's random generator, which no other implementation reproduces; and the
      // executor applies dropout according to the network's mode (ForwardAll's
      // `training`), not the graph's training_mode input. The zero-ratio variants run.
      {"node/test_training_dropout", "random reference output (training_mode, numpy RNG)"},
      {"node/test_training_dropout_default",
       "random reference output (training_mode, numpy RNG)"},
      {"node/test_training_dropout_default_mask",
       "random reference output (training_mode, numpy RNG)"},
      {"node/test_training_dropout_mask", "random reference output (training_mode, numpy RNG)"},
  };
  return exclusions;
}

bool Matches(const std::string& pattern, const std::string& id) {
  if (!pattern.empty() && pattern.back() == '*') {
    return id.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  }
  return id == pattern;
}

const std::string* ExclusionReason(const std::string& id) {
  for (const auto& [pattern, reason] : Exclusions()) {
    if (Matches(pattern, id)) return &reason;
  }
  return nullptr;
}

// "suite/name" of every directory matching the prefixes, sorted.
std::vector<std::string> MatchingDirectories() {
  std::vector<std::string> ids;
  for (const auto& [suite, prefixes] : Prefixes()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(TestDataRoot() / suite, ec)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory()) continue;
      if (std::any_of(prefixes.begin(), prefixes.end(),
                      [&](const std::string& p) { return name.rfind(p, 0) == 0; })) {
        ids.push_back(suite + "/" + name);
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> Cases() {
  std::vector<std::string> cases;
  for (const auto& id : MatchingDirectories()) {
    if (!ExclusionReason(id)) cases.push_back(id);
  }
  return cases;
}

// Operators used by each case and how many cases using them passed, for the
// per-operator summary printed at the end of the suite.
struct OperatorCounts {
  int run = 0;
  int passed = 0;
};
std::map<std::string, OperatorCounts>& Counts() {
  static std::map<std::string, OperatorCounts> counts;
  return counts;
}

std::vector<torch::Tensor> ReadTensors(const fs::path& dir, const std::string& kind) {
  std::vector<torch::Tensor> tensors;
  for (int i = 0;; ++i) {
    const fs::path p = dir / (kind + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(p)) break;
    tensors.push_back(ReadOnnxTensor(p.string()));
  }
  return tensors;
}

// "" if `got` matches `want` (shape, and values within the tolerances or, for
// integer and boolean tensors, exactly); otherwise what differs.
std::string Mismatch(const torch::Tensor& got_in, const torch::Tensor& want) {
  const torch::Tensor got = got_in.detach();
  std::ostringstream why;
  if (got.sizes() != want.sizes()) {
    why << "shape " << got.sizes() << ", expected " << want.sizes();
    return why.str();
  }
  if (!want.is_floating_point()) {
    if (got.scalar_type() != want.scalar_type()) {
      why << "element type " << got.scalar_type() << ", expected " << want.scalar_type();
    } else if (!torch::equal(got, want)) {
      why << "values differ";
    }
    return why.str();
  }
  if (!got.is_floating_point()) {
    why << "element type " << got.scalar_type() << ", expected a floating-point type";
    return why.str();
  }
  const torch::Tensor g = got.to(torch::kDouble), w = want.to(torch::kDouble);
  const torch::Tensor bad = ((g - w).abs() > kAtol + kRtol * w.abs()) &
                            ~(g.isnan() & w.isnan()) & ~(g.isinf() & (g == w));
  const int64_t count = bad.sum().item<int64_t>();
  if (count > 0) {
    const int64_t i = bad.reshape({-1}).nonzero()[0][0].item<int64_t>();
    why << count << " of " << w.numel() << " values differ beyond rtol " << kRtol << " / atol "
        << kAtol << "; first at flat index " << i << ": got " << g.reshape({-1})[i].item<double>()
        << ", expected " << w.reshape({-1})[i].item<double>();
  }
  return why.str();
}

class OnnxConformance : public testing::TestWithParam<std::string> {
 public:
  static void TearDownTestSuite() {
    // Per-operator counts: directories using the operator that ran / passed.
    std::cout << "\nONNX conformance by operator (test directories passed / run):\n";
    int width = 0;
    for (const auto& [op, c] : Counts()) width = std::max(width, static_cast<int>(op.size()));
    for (const auto& [op, c] : Counts()) {
      std::cout << "  " << op << std::string(static_cast<size_t>(width) - op.size() + 2, ' ')
                << c.passed << " / " << c.run << "\n";
    }
    std::cout << std::flush;
  }
};

// Operator types of a model, read with protobuf directly so that a model the
// importer rejects still counts against its operators.
std::set<std::string> ModelOperators(const fs::path& model_path) {
  std::ifstream in(model_path, std::ios::binary);
  onnx::ModelProto model;
  std::set<std::string> ops;
  if (model.ParseFromIstream(&in)) {
    for (const auto& node : model.graph().node()) ops.insert(node.op_type());
  }
  return ops;
}

void RunCase(const fs::path& dir) {
  const Network net = ImportOnnx((dir / "model.onnx").string());
  std::vector<fs::path> set_dirs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
      set_dirs.push_back(entry.path());
    }
  }
  std::sort(set_dirs.begin(), set_dirs.end());
  ASSERT_FALSE(set_dirs.empty()) << "no test_data_set_* in " << dir;
  for (const auto& set_dir : set_dirs) {
    SCOPED_TRACE(set_dir.filename().string());
    const auto inputs = ReadTensors(set_dir, "input");
    const auto outputs = ReadTensors(set_dir, "output");
    ASSERT_EQ(inputs.size(), net.num_inputs());
    ASSERT_EQ(outputs.size(), net.num_outputs());
    torch::NoGradGuard no_grad;
    const auto got = net.ForwardAll(inputs, /*training=*/false);
    ASSERT_EQ(got.size(), outputs.size());
    for (size_t i = 0; i < got.size(); ++i) {
      const std::string mismatch = Mismatch(got[i], outputs[i]);
      EXPECT_EQ(mismatch, "") << "output " << i;
    }
  }
}

TEST_P(OnnxConformance, MatchesReferenceOutputs) {
  const fs::path dir = TestDataRoot() / GetParam();
  RunCase(dir);
  const bool passed = !HasFailure();
  for (const auto& op : ModelOperators(dir / "model.onnx")) {
    ++Counts()[op].run;
    if (passed) ++Counts()[op].passed;
  }
}

std::string CaseName(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(LibOnnxTestdata, OnnxConformance, testing::ValuesIn(Cases()), CaseName);

TEST(OnnxConformanceData, TestDataIsInstalled) {
  ASSERT_TRUE(fs::is_directory(TestDataRoot() / "node"))
      << TestDataRoot() << " is missing: install Debian's libonnx-testdata (scripts/setup.sh)";
  EXPECT_GT(Cases().size(), 300u);
}

TEST(OnnxConformanceData, EveryExclusionMatchesADirectory) {
  const auto dirs = MatchingDirectories();
  for (const auto& [pattern, reason] : Exclusions()) {
    EXPECT_TRUE(std::any_of(dirs.begin(), dirs.end(),
                            [&](const std::string& id) { return Matches(pattern, id); }))
        << "exclusion '" << pattern << "' (" << reason << ") matches no test directory";
  }
}

// Excluded directories are excluded for the stated reason: importing them fails
// (unsupported operator or type) or they need what the reason names. This keeps the
// list honest: a directory that would pass must be removed from it.
TEST(OnnxConformanceData, ExcludedDirectoriesDoNotRun) {
  for (const auto& id : MatchingDirectories()) {
    if (!ExclusionReason(id)) continue;
    SCOPED_TRACE(id);
    const fs::path dir = TestDataRoot() / id;
    bool failed = false;
    try {
      const Network net = ImportOnnx((dir / "model.onnx").string());
      const fs::path set_dir = dir / "test_data_set_0";
      const auto inputs = ReadTensors(set_dir, "input");
      const auto outputs = ReadTensors(set_dir, "output");
      torch::NoGradGuard no_grad;
      const auto got = net.ForwardAll(inputs, /*training=*/false);
      failed = got.size() != outputs.size();
      for (size_t i = 0; !failed && i < got.size(); ++i) {
        failed = !Mismatch(got[i], outputs[i]).empty();
      }
    } catch (const std::exception&) {
      failed = true;
    }
    EXPECT_TRUE(failed) << id << " is excluded (" << *ExclusionReason(id)
                        << ") but imports and runs: remove the exclusion";
  }
}

}  // namespace
}  // namespace haq::graph
