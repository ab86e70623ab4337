// `haq export` checked against independent truth:
// - ONNX: the exported file, run in ONNX Runtime (onnxruntime-node, installed by
//   scripts/setup.sh) on the Fashion-MNIST test set normalised as the file's own
//   metadata says, gives the top-1 `haq eval` prints for the same model and policy
//   (within 0.1 points); every integer weight tensor holds at most 2^b - 1 values
//   (linear) or every index tensor 2^b (k-means); one QuantizeLinear per quantized
//   input; ONNX's checker accepts the file.
// - packed: reading the export back reproduces the saved quantized weights exactly,
//   and weights.bin is the policy's model size in bytes; corrupt files are refused.
#include <gtest/gtest.h>
// ONNX_ML is defined for haq_core: Debian's libonnx ships only the onnx-ml classes.
#include <onnx/onnx_pb.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>

#include "data/dataset.h"
#include "deploy/codes.h"
#include "graph/network.h"
#include "hw/policy.h"
#include "train/model_io.h"
#include "util/error.h"
#include "util/file.h"
#include "test_util.h"

namespace haq {
namespace {

namespace fs = std::filesystem;
using test::RunHaq;

const char* kModel = "mobilenet_v2_fmnist";

train::LoadedModel Load(const std::string& spec) {
  train::ModelRequest request;
  request.spec = spec;
  return train::LoadModel(request);
}

double Top1(const std::string& out) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(out, m, std::regex("top-1 ([0-9.]+)%"))) << out;
  return m.empty() ? -1.0 : std::stod(m[1].str());
}

// A seeded mixed policy for the model's layers: weights and activations in lo..8
// bits, the first layer's input in full precision (as HAQ pins it).
std::string MixedPolicy(int lo, uint32_t seed) {
  const train::LoadedModel m = Load(kModel);
  const auto layers = m.net.LayerShapes(1);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> bits(lo, 8);
  hw::Policy p;
  for (size_t i = 0; i < layers.size(); ++i) {
    p.layers.push_back({layers[i].name, bits(rng), i == 0 ? 0 : bits(rng)});
  }
  return hw::PolicyToJson(p, m.net.name(), "");
}

onnx::ModelProto ReadModel(const fs::path& path) {
  onnx::ModelProto model;
  const std::string bytes = util::ReadFile(path);
  EXPECT_TRUE(model.ParseFromString(bytes)) << path;
  return model;
}

std::vector<double> MetadataNumbers(const onnx::ModelProto& model, const std::string& key) {
  for (const auto& p : model.metadata_props()) {
    if (p.key() != key) continue;
    std::vector<double> out;
    std::stringstream ss(p.value());
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(std::stod(item));
    return out;
  }
  ADD_FAILURE() << "no metadata " << key;
  return {};
}

// Top-1 of the ONNX model on the Fashion-MNIST test set in ONNX Runtime, with the
// images normalised as the model's metadata says.
double OnnxRuntimeTop1(const fs::path& model_path, const test::TempDir& dir) {
  const onnx::ModelProto model = ReadModel(model_path);
  const std::vector<double> mean = MetadataNumbers(model, "haq.input_mean");
  const std::vector<double> std = MetadataNumbers(model, "haq.input_std");
  const data::Dataset test = data::LoadFashionMnist("", /*train=*/false);
  EXPECT_EQ(mean.size(), 1u);
  EXPECT_EQ(std.size(), 1u);
  if (mean.size() != 1 || std.size() != 1) return -1;
  const torch::Tensor x =
      ((test.images.to(torch::kFloat) / 255.0 - mean[0]) / std[0]).contiguous();
  const fs::path in = dir / "input.f32";
  const fs::path out = dir / "output.f32";
  util::WriteFileAtomic(in, std::string_view(static_cast<const char*>(x.data_ptr()), x.nbytes()));
  const fs::path script = fs::path(HAQ_SOURCE_DIR) / "tools/ort/run_onnx.js";
  EXPECT_TRUE(fs::exists(fs::path(HAQ_SOURCE_DIR) / "tools/ort/node_modules/onnxruntime-node"))
      << "onnxruntime-node is not installed: run scripts/setup.sh";
  const std::string cmd = fmt::format("node '{}' '{}' '{}' '{}' {} 1 28 28 > '{}' 2>&1",
                                      script.string(), model_path.string(), in.string(),
                                      out.string(), test.size(), (dir / "ort.log").string());
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << util::ReadFile(dir / "ort.log");
  if (rc != 0) return -1;
  const std::string bytes = util::ReadFile(out);
  EXPECT_EQ(bytes.size(), static_cast<size_t>(test.size()) * 10 * 4);
  if (bytes.size() != static_cast<size_t>(test.size()) * 10 * 4) return -1;
  const torch::Tensor logits =
      torch::from_blob(const_cast<char*>(bytes.data()), {test.size(), 10}, torch::kFloat);
  return 100.0 * logits.argmax(1).eq(test.labels).sum().item<double>() /
         static_cast<double>(test.size());
}

// Distinct values of an initializer (raw_data of int8/uint8 tensors).
size_t DistinctValues(const onnx::TensorProto& t) {
  const std::string& raw = t.raw_data();
  return std::set<char>(raw.begin(), raw.end()).size();
}

std::map<std::string, int> WeightBitsByLayer(const std::string& policy_json) {
  const hw::Policy p = hw::ParsePolicy(policy_json, "policy");
  std::map<std::string, int> out;
  for (const auto& l : p.layers) out[l.name] = l.w_bits;
  return out;
}

// Checks the quantized initializers of an exported model against the policy, and
// the number of quantized inputs.
void CheckQuantizedTensors(const onnx::ModelProto& model, const std::string& policy_json,
                           bool kmeans) {
  const auto bits = WeightBitsByLayer(policy_json);
  const hw::Policy p = hw::ParsePolicy(policy_json, "policy");
  EXPECT_EQ(model.opset_import(0).version(), 13);
  const std::string suffix = kmeans ? ".weight_index" : ".weight_quantized";
  size_t tensors = 0;
  for (const auto& t : model.graph().initializer()) {
    if (!t.name().ends_with(suffix)) continue;
    const std::string layer = t.name().substr(0, t.name().size() - suffix.size());
    ASSERT_TRUE(bits.count(layer)) << t.name();
    const size_t limit = kmeans ? size_t{1} << bits.at(layer) : (size_t{1} << bits.at(layer)) - 1;
    EXPECT_LE(DistinctValues(t), std::max<size_t>(limit, 2)) << t.name();
    EXPECT_EQ(t.data_type(), kmeans ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8);
    ++tensors;
  }
  EXPECT_EQ(tensors, p.layers.size());
  size_t quantize = 0;
  size_t batch_norms = 0;
  for (const auto& n : model.graph().node()) {
    quantize += n.op_type() == "QuantizeLinear";
    batch_norms += n.op_type() == "BatchNormalization";
  }
  size_t quantized_inputs = 0;
  for (const auto& l : p.layers) quantized_inputs += l.a_bits > 0;
  EXPECT_EQ(quantize, quantized_inputs);
  EXPECT_EQ(batch_norms, 0u) << "every Conv+BatchNormalization pair is folded";
}

struct OnnxCase {
  const char* name;
  int lo_bits;
  const char* quantize_args;  // "" = export the policy directly; else haq quantize first
  bool kmeans;
};

class ExportOnnxTest : public testing::TestWithParam<OnnxCase> {};

TEST_P(ExportOnnxTest, OnnxRuntimeTop1EqualsHaqEval) {
  const OnnxCase& c = GetParam();
  test::TempDir dir;
  const std::string policy = MixedPolicy(c.lo_bits, 7);
  dir.Write("p.json", policy);
  std::string model = kModel;
  std::string flags = fmt::format("--policy p.json{}", c.kmeans ? " --kmeans" : "");
  if (*c.quantize_args != '\0') {
    const auto q = RunHaq(fmt::format("quantize --model {} {} {} --out q.pt", kModel, flags,
                                      c.quantize_args),
                          dir.path());
    ASSERT_EQ(q.exit_code, 0) << q.err;
    model = "q.pt";
    flags = "";
  }
  const auto e = RunHaq(fmt::format("eval --model {} {}", model, flags), dir.path());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto x = RunHaq(fmt::format("export --model {} {} --out q.onnx", model, flags), dir.path());
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_NE(x.out.find("batch norm folded"), std::string::npos) << x.out;
  CheckQuantizedTensors(ReadModel(dir / "q.onnx"), policy, c.kmeans);
  const double ours = Top1(e.out);
  const double ort = OnnxRuntimeTop1(dir / "q.onnx", dir);
  EXPECT_NEAR(ort, ours, 0.1) << "haq eval " << ours << "%, ONNX Runtime " << ort << "%";
  std::printf("%s: haq eval %.2f%%, ONNX Runtime %.2f%%\n", c.name, ours, ort);
  EXPECT_GT(ours, 50.0) << "a policy this mild keeps the model working";
}

INSTANTIATE_TEST_SUITE_P(
    Policies, ExportOnnxTest,
    testing::Values(OnnxCase{"LinearMixed4to8", 4, "", false},
                    OnnxCase{"KMeansMixed3to8", 3, "", true},
                    OnnxCase{"FineTunedPerChannelCheckpoint", 4,
                             "--per-channel --finetune-steps 20 --finetune-lr 0.005", false}),
    [](const testing::TestParamInfo<OnnxCase>& p) { return std::string(p.param.name); });

TEST(ExportOnnxTest, FullPrecisionMatchesHaqEval) {
  test::TempDir dir;
  const auto e = RunHaq(fmt::format("eval --model {}", kModel), dir.path());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto x = RunHaq(fmt::format("export --model {} --out fp.onnx", kModel), dir.path());
  ASSERT_EQ(x.exit_code, 0) << x.err;
  const double ort = OnnxRuntimeTop1(dir / "fp.onnx", dir);
  EXPECT_NEAR(ort, Top1(e.out), 0.1);
  std::printf("full precision: haq eval %.2f%%, ONNX Runtime %.2f%%\n", Top1(e.out), ort);
}

// Weights of the quantizable layers of a loaded model, by layer name.
std::map<std::string, torch::Tensor> LayerWeights(const std::string& model, const fs::path& cwd) {
  const train::LoadedModel m = Load((cwd / model).string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& l : m.net.quant_layers()) out[l.name] = m.net.Initializer(l.weight_value);
  return out;
}

int64_t PolicySizeBits(const std::string& policy_json) {
  const train::LoadedModel m = Load(kModel);
  const hw::Policy p = hw::ParsePolicy(policy_json, "policy");
  const auto layers = m.net.LayerShapes(1);
  int64_t bits = 0;
  for (size_t i = 0; i < layers.size(); ++i) bits += layers[i].WeightCount() * p.layers[i].w_bits;
  return bits;
}

class ExportPackedTest : public testing::TestWithParam<bool> {};

TEST_P(ExportPackedTest, ReadsBackTheQuantizedWeightsExactly) {
  const bool kmeans = GetParam();
  test::TempDir dir;
  const std::string policy = MixedPolicy(1, 11);  // 1..8 bits: every width, binary included
  dir.Write("p.json", policy);
  const auto q = RunHaq(fmt::format("quantize --model {} --policy p.json{} --finetune-steps 5 "
                                    "--out q.pt",
                                    kModel, kmeans ? " --kmeans" : ""),
                        dir.path());
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const auto x = RunHaq("export --model q.pt --format packed --out packed", dir.path());
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(test::ListDir(dir / "packed"), "manifest.json\nweights.bin\n");

  const int64_t bits = PolicySizeBits(policy);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(dir / "packed/weights.bin")), (bits + 7) / 8);
  const auto saved = LayerWeights("q.pt", dir.path());
  const std::vector<deploy::LayerCodes> layers = deploy::ReadPacked(dir / "packed");
  ASSERT_EQ(layers.size(), saved.size());
  const auto wbits = WeightBitsByLayer(policy);
  for (const auto& l : layers) {
    ASSERT_TRUE(saved.count(l.name)) << l.name;
    EXPECT_EQ(l.bits, wbits.at(l.name)) << l.name;
    EXPECT_EQ(l.scheme, kmeans ? "kmeans" : "linear");
    EXPECT_TRUE(torch::equal(deploy::DecodeWeight(l), saved.at(l.name))) << l.name;
    EXPECT_LE(std::get<0>(torch::_unique(l.codes.reshape({-1}))).numel(), int64_t{1} << l.bits) << l.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, ExportPackedTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "KMeans" : "Linear");
                         });

// FNV-1a, 64 bits: a digest to compare exports with golden values.
uint64_t Fnv1a(const std::string& bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The integer weights of a given checkpoint are the same on every CPU: a linear
// scale comes from a maximum and each code from one correctly rounded division, and
// k-means runs in the project's own double code, so no kernel path may change a bit.
// Golden digests of weights.bin for the shipped checkpoint (no fine-tune), measured
// under every path of scripts/kernel_paths.sh (native, default, avx2, zen, avx512)
// on an Intel Xeon with AVX-512: the same on all five (docs/REPRODUCIBILITY.md).
TEST(ExportPackedTest, WeightCodesOfAGivenCheckpointAreTheSameOnEveryKernelPath) {
  test::TempDir dir;
  dir.Write("p.json", MixedPolicy(1, 11));
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {"--bits 3", 0xdff5eba558472334ull},
      {"--bits 4 --per-channel", 0x8bff51ac9867a927ull},
      {"--policy p.json", 0x9395f14bf5d964ebull},
      {"--policy p.json --kmeans", 0xe52421bcbaa56522ull}};
  for (const auto& [flags, golden] : cases) {
    const auto x = RunHaq(fmt::format("export --model {} {} --format packed --out packed", kModel, flags),
                          dir.path());
    ASSERT_EQ(x.exit_code, 0) << x.err;
    const uint64_t digest = Fnv1a(util::ReadFile(dir / "packed/weights.bin"));
    EXPECT_EQ(digest, golden) << flags << ": 0x" << std::hex << digest;
    fs::remove_all(dir / "packed");
  }
}

// A good 3-bit packed export in a temp directory, for tests that damage it.
class CorruptPackedTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto x = RunHaq(
        fmt::format("export --model {} --bits 3 --format packed --out p", kModel), dir.path());
    ASSERT_EQ(x.exit_code, 0) << x.err;
    good_weights = util::ReadFile(weights);
    good_manifest = util::ReadFile(manifest);
  }
  test::TempDir dir;
  const fs::path weights = dir / "p/weights.bin";
  const fs::path manifest = dir / "p/manifest.json";
  std::string good_weights, good_manifest;
};

TEST_F(CorruptPackedTest, DamagedFilesAreRefusedWithExactMessages) {
  auto expect_error = [&](const std::string& what) {
    try {
      deploy::ReadPacked(dir / "p");
      ADD_FAILURE() << "no error, expected: " << what;
    } catch (const util::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    util::WriteFileAtomic(weights, good_weights);
    util::WriteFileAtomic(manifest, good_manifest);
  };
  std::string flipped = good_weights;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  util::WriteFileAtomic(weights, flipped);
  expect_error(fmt::format("{}: CRC-32 differs from {}'s weights_crc32", weights.string(),
                           manifest.string()));
  util::WriteFileAtomic(weights, good_weights.substr(1));
  expect_error(fmt::format("{}: expected {} bytes", weights.string(), good_weights.size()));
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string m = good_manifest;
    const auto pos = m.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    util::WriteFileAtomic(manifest, m.replace(pos, from.size(), to));
  };
  edit("\"bits\": 3", "\"bits\": 9");
  expect_error(fmt::format("{}: layers[0].bits: expected an integer in 1..8, got 9", manifest.string()));
  edit("\"scheme\": \"linear\"", "\"scheme\": \"log\"");
  expect_error(fmt::format("{}: layers[0].scheme: expected \"linear\" or \"kmeans\", got \"log\"",
                           manifest.string()));
  edit("\"format\": \"haq-packed-1\"", "\"format\": \"other\"");
  expect_error(fmt::format("{}: format: expected \"haq-packed-1\", got \"other\"", manifest.string()));
  util::WriteFileAtomic(manifest, "{\"format\": ");
  expect_error(fmt::format("{}: malformed JSON", manifest.string()));
}

// Every malformed manifest field of docs/RELIABILITY.md, section 11. Each case
// edits a good 3-bit export (the manifest as JSON, the weights as bytes with the
// CRC recomputed by zlib, so that only the field under test is wrong) and expects
// the exact message; the next case starts from the good files again.
TEST_F(CorruptPackedTest, MalformedManifestFieldsHaveExactMessages) {
  const std::string m = manifest.string(), w = weights.string();
  const nlohmann::json good = nlohmann::json::parse(good_manifest);
  ASSERT_EQ(good["layers"][0]["shape"], nlohmann::json({16, 1, 3, 3}));
  ASSERT_EQ(good["layers"][1]["bit_offset"], 432);
  const int64_t total = good["weights_bits"].get<int64_t>();
  struct Case {
    const char* name;
    std::function<void(nlohmann::json& manifest, std::string& weights)> edit;
    std::string message;
  };
  auto crc = [](const std::string& bytes) {
    return ::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
  };
  const std::vector<Case> cases = {
      {"layers empty", [](auto& j, auto&) { j["layers"] = nlohmann::json::array(); },
       m + ": layers: expected a non-empty array"},
      {"layers not an array", [](auto& j, auto&) { j["layers"] = 3; },
       m + ": layers: expected a non-empty array"},
      {"9 dimensions", [](auto& j, auto&) { j["layers"][0]["shape"] = std::vector<int>(9, 1); },
       m + ": layers[0].shape: expected 1 to 8 dimensions, got [1,1,1,1,1,1,1,1,1]"},
      {"a zero size", [](auto& j, auto&) { j["layers"][0]["shape"][1] = 0; },
       m + ": layers[0].shape: expected positive sizes with at most 2^40 elements, got [16,0,3,3]"},
      {"2^42 elements",
       [](auto& j, auto&) { j["layers"][0]["shape"] = {int64_t{1} << 21, int64_t{1} << 21}; },
       m + ": layers[0].shape: expected positive sizes with at most 2^40 elements, got "
           "[2097152,2097152]"},
      {"bit_offset overlapping the layer before", [](auto& j, auto&) { j["layers"][1]["bit_offset"] = 0; },
       m + ": layers[1].bit_offset: expected 432 (the layers before it) with 432 bits left for "
           "this layer, got 0"},
      {"two scales for 16 channels", [](auto& j, auto&) { j["layers"][0]["scales"] = {0.1, 0.2}; },
       m + ": layers[0].scales: expected 1 or 16 (shape[0]) scales, got 2"},
      {"a layer without bits", [](auto& j, auto&) { j["layers"][1].erase("bits"); },
       m + ": layers[1]: missing field 'bits'"},
      {"no weights_file", [](auto& j, auto&) { j.erase("weights_file"); },
       m + ": missing field 'weights_file'"},
      {"axis past the last dimension", [](auto& j, auto&) { j["layers"][0]["axis"] = 4; },
       m + ": layers[0].axis: expected an integer in 0..3, got 4"},
      {"codebook of 9 values for 3 bits",
       [](auto& j, auto&) {
         j["layers"][0]["scheme"] = "kmeans";
         j["layers"][0]["codebook"] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
       },
       m + ": layers[0].codebook: expected at most 2^3 values, got 9"},
      {"linear code 7 of 3 bits (levels 0..6)",
       [&](auto& j, auto& bytes) {
         bytes[0] = static_cast<char>(bytes[0] | 0x07);  // the first weight, LSB first
         j["weights_crc32"] = crc(bytes);
       },
       w + ": layer 'features.0.0' weight 0: expected codes 0..6, found 7"},
      {"weights_bits past the last layer",
       [&](auto& j, auto& bytes) {
         bytes += std::string(1, '\0');
         j["weights_bits"] = ((total + 7) / 8 + 1) * 8;
         j["weights_crc32"] = crc(bytes);
       },
       fmt::format("{}: weights_bits: expected {} (the sum over layers), got {}", m, total,
                   ((total + 7) / 8 + 1) * 8)},
      {"weights_file up a directory", [](auto& j, auto&) { j["weights_file"] = "../weights.bin"; },
       m + ": weights_file: expected a file name in the export's directory, got \"../weights.bin\""},
      {"weights_file absolute", [](auto& j, auto&) { j["weights_file"] = "/etc/passwd"; },
       m + ": weights_file: expected a file name in the export's directory, got \"/etc/passwd\""},
  };
  for (const Case& c : cases) {
    nlohmann::json j = good;
    std::string bytes = good_weights;
    c.edit(j, bytes);
    util::WriteFileAtomic(manifest, j.dump(2));
    util::WriteFileAtomic(weights, bytes);
    EXPECT_EQ(test::InputErrorOf([&] { deploy::ReadPacked(dir / "p"); }), c.message) << c.name;
  }
  // Files that cannot be read: a missing manifest, one past the 64 MiB limit, and a
  // weights_file that names a directory.
  util::WriteFileAtomic(weights, good_weights);
  fs::remove(manifest);
  EXPECT_EQ(test::ErrorOf<util::IoError>([&] { deploy::ReadPacked(dir / "p"); }),
            m + ": cannot read: No such file or directory");
  dir.Write("p/manifest.json", "");
  fs::resize_file(manifest, (std::uintmax_t{64} << 20) + 1);
  EXPECT_EQ(test::InputErrorOf([&] { deploy::ReadPacked(dir / "p"); }),
            m + ": file is 67108865 bytes, more than the limit of 67108864");
  nlohmann::json j = good;
  j["weights_file"] = "sub";
  util::WriteFileAtomic(manifest, j.dump(2));
  fs::create_directory(dir / "p/sub");
  EXPECT_EQ(test::ErrorOf<util::IoError>([&] { deploy::ReadPacked(dir / "p"); }),
            (dir / "p/sub").string() + ": cannot read: is a directory");
}

struct BadExport {
  const char* name;
  const char* args;
  const char* message;
  int exit_code = 1;  // 2: command-line usage
};

class ExportBadInputTest : public testing::TestWithParam<BadExport> {};

TEST_P(ExportBadInputTest, ExactMessageAndNothingWritten) {
  const BadExport& c = GetParam();
  test::TempDir dir;
  dir.Write("file", "x");
  const auto r = RunHaq(c.args, dir.path());
  EXPECT_EQ(r.exit_code, c.exit_code) << r.out << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  EXPECT_EQ(test::ListDir(dir.path()), "file\n");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ExportBadInputTest,
    testing::Values(
        BadExport{"NotOnnxPath", "export --model mobilenet_v2_fmnist --bits 4 --out q.pt",
                  "--out: expected a .onnx file path, got 'q.pt'"},
        BadExport{"PackedOverFile", "export --model mobilenet_v2_fmnist --bits 4 --format packed --out file",
                  "--out: file: expected a directory for the packed export"},
        BadExport{"PackedFullPrecision", "export --model mobilenet_v2_fmnist --format packed --out p",
                  "--format packed: mobilenet_v2_fmnist is not quantized; give --policy FILE or --bits N"},
        BadExport{"MissingDirectory", "export --model mobilenet_v2_fmnist --bits 4 --out no/such/q.onnx",
                  "no/such"},
        BadExport{"BadFormat", "export --model mobilenet_v2_fmnist --format tflite --out q.onnx",
                  "--format: tflite not in {onnx,packed}", 2}),
    [](const testing::TestParamInfo<BadExport>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace haq
