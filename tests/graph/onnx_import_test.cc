// ImportOnnx: models built in code (onnx_test_util.h), imported, and every way a
// file can be wrong reported with a complete message naming the file and place.
#include "graph/onnx_import.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "graph/onnx_test_util.h"
#include "hw/layer_shape.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::graph {
namespace {

namespace fs = std::filesystem;
using test::OnnxModelBuilder;
using test::SetInts;
using test::TempDir;
using test::TinyConvModel;

// The message of the util::InputError that `f` throws ("" if it throws none).
template <typename Fn>
std::string InputErrorOf(Fn&& f) {
  try {
    f();
  } catch (const util::InputError& e) {
    return e.what();
  }
  return "";
}

std::string ImportError(const fs::path& path, const OnnxImportOptions& options = {}) {
  return InputErrorOf([&] { ImportOnnx(path.string(), options); });
}

TEST(OnnxImport, ImportsATinyConvNet) {
  TempDir dir;
  const auto path = dir.Write("tiny.onnx", TinyConvModel().Serialize());
  const Network net = ImportOnnx(path.string());
  EXPECT_EQ(net.name(), "tiny");
  EXPECT_EQ(net.opset(), 13);
  EXPECT_EQ(net.input_spec().chw, (std::vector<int64_t>{3, 8, 8}));
  ASSERT_EQ(net.quant_layers().size(), 1u);
  EXPECT_EQ(net.quant_layers()[0].name, "conv1");
  EXPECT_EQ(net.quant_layers()[0].shape.out_channels, 4);
  EXPECT_EQ(net.quant_layers()[0].shape.out_h, 8);
  EXPECT_EQ(net.Parameters().size(), 2u);  // conv weight and bias are trainable

  torch::manual_seed(1);
  const auto x = torch::randn({2, 3, 8, 8});
  torch::NoGradGuard no_grad;
  const auto w = net.Initializer(net.ValueId("conv1.weight"));
  const auto b = net.Initializer(net.ValueId("conv1.bias"));
  const auto want = torch::relu(torch::conv2d(x, w, b, 1, 1));
  EXPECT_TRUE(torch::allclose(net.Forward(x, false), want));
}

TEST(OnnxImport, BatchNormStatisticsAreBuffersAndScaleIsTrainable) {
  OnnxModelBuilder b;
  b.Input("x", {1, 2, 4, 4})
      .Initializer("bn.weight", {2}, {1.0f, 2.0f})
      .Initializer("bn.bias", {2}, {0.0f, 1.0f})
      .Initializer("bn.running_mean", {2}, {0.5f, -0.5f})
      .Initializer("bn.running_var", {2}, {1.0f, 4.0f})
      .Initializer("unused_constant", {1}, {3.0f});
  b.Node("BatchNormalization", {"x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"},
         {"y"}, "bn");
  b.Output("y");
  TempDir dir;
  const Network net = ImportOnnx(dir.Write("bn.onnx", b.Serialize()).string());
  EXPECT_EQ(net.Parameters().size(), 2u);
  const auto state = net.StateDict();
  EXPECT_EQ(state.size(), 4u);  // 2 trainable + 2 buffers; the constant is neither
  EXPECT_TRUE(state.count("bn.running_mean"));
  EXPECT_FALSE(state.count("unused_constant"));
  EXPECT_FALSE(net.Initializer(net.ValueId("bn.running_var")).requires_grad());
  EXPECT_TRUE(net.Initializer(net.ValueId("bn.weight")).requires_grad());
}

// Clip with both bounds (ReLU6 as torch.onnx exports it) has clamp's values and
// trains as PyTorch's nn.ReLU6: gradient 1 strictly inside the bounds, 0 at and
// beyond them; with one bound it is clamp's (bound included).
TEST(OnnxImport, ClipTrainsAsReluSixWithBothBoundsAndAsClampWithOne) {
  const std::vector<float> v = {-1.0f, 0.0f, 1e-7f, 3.0f, 6.0f - 4e-7f, 6.0f, 7.5f, -0.0f};
  for (const bool both : {true, false}) {
    OnnxModelBuilder b;
    b.Input("x", {1, 1, 1, 8}).Initializer("lo", {}, {0.0f});
    if (both) b.Initializer("hi", {}, {6.0f});
    b.Node("Clip", both ? std::vector<std::string>{"x", "lo", "hi"} : std::vector<std::string>{"x", "lo"}, {"y"},
           "relu6");
    b.Output("y");
    TempDir dir;
    const Network net = ImportOnnx(dir.Write("clip.onnx", b.Serialize()).string());
    const torch::Tensor x = torch::tensor(v).view({1, 1, 1, 8}).requires_grad_(true);
    const torch::Tensor y = net.Forward(x, true);
    EXPECT_TRUE(torch::equal(y.detach(), both ? x.detach().clamp(0.0, 6.0) : x.detach().clamp_min(0.0)));
    y.sum().backward();
    const std::vector<float> want = both ? std::vector<float>{0, 0, 1, 1, 1, 0, 0, 0}
                                         : std::vector<float>{0, 1, 1, 1, 1, 1, 1, 1};
    const torch::Tensor g = x.grad().view({-1});
    EXPECT_EQ(std::vector<float>(g.data_ptr<float>(), g.data_ptr<float>() + 8), want) << (both ? "both" : "min only");
  }
}

// A hook sees a ReLU6 as part of the layer it feeds (LayerHook::ClampedInput) only
// when that layer is the ReLU6's one reader: here relu6_a feeds conv b alone, while
// relu6_b feeds conv c and an Add, and relu6_c is the graph's output.
TEST(OnnxImport, AClipIsLeftToTheHookOnlyWhenItsOneReaderIsAQuantizableLayer) {
  OnnxModelBuilder b;
  b.Input("x", {1, 2, 3, 3}).Initializer("lo", {}, {0.0f}).Initializer("hi", {}, {6.0f});
  for (const char* conv : {"a", "b", "c"}) {
    std::vector<float> w;
    for (int i = 0; i < (conv[0] == 'a' ? 6 : 9); ++i) w.push_back(0.5f * static_cast<float>(i % 5) - 0.7f);
    b.Initializer(std::string("w") + conv, {3, conv[0] == 'a' ? 2 : 3, 1, 1}, w);
  }
  b.Node("Conv", {"x", "wa"}, {"ya"}, "conv_a");
  b.Node("Clip", {"ya", "lo", "hi"}, {"ra"}, "relu6_a");
  b.Node("Conv", {"ra", "wb"}, {"yb"}, "conv_b");
  b.Node("Clip", {"yb", "lo", "hi"}, {"rb"}, "relu6_b");
  b.Node("Conv", {"rb", "wc"}, {"yc"}, "conv_c");
  b.Node("Add", {"rb", "yc"}, {"s"}, "add");
  b.Node("Clip", {"s", "lo", "hi"}, {"y"}, "relu6_c");
  b.Output("y");
  TempDir dir;
  const Network net = ImportOnnx(dir.Write("relu6.onnx", b.Serialize()).string());
  ASSERT_EQ(net.quant_layers().size(), 3u);

  // Passes weights and inputs through, recording where a clamp was left to it.
  struct Recorder : LayerHook {
    torch::Tensor Weight(size_t, const torch::Tensor& w) override { return w; }
    torch::Tensor Input(size_t, const torch::Tensor& x) override { return x; }
    torch::Tensor ClampedInput(size_t layer, const torch::Tensor& x, double lo, double hi) override {
      clamped.push_back({static_cast<double>(layer), lo, hi});
      return LayerHook::ClampedInput(layer, x, lo, hi);
    }
    std::vector<std::vector<double>> clamped;
  } hook;
  const torch::Tensor x = 4 * torch::randn({1, 2, 3, 3}, torch::Generator(at::detail::createCPUGenerator(5)));
  const torch::Tensor with_hook = net.Forward(x, false, &hook);
  EXPECT_EQ(hook.clamped, (std::vector<std::vector<double>>{{1.0, 0.0, 6.0}}));
  EXPECT_TRUE(torch::equal(with_hook, net.Forward(x, false)));
  // And both equal the graph computed by hand.
  const auto w = [&](const char* name) { return net.Initializer(net.ValueId(name)); };
  torch::NoGradGuard no_grad;
  const torch::Tensor rb = torch::conv2d(torch::conv2d(x, w("wa")).clamp(0, 6), w("wb")).clamp(0, 6);
  EXPECT_TRUE(torch::equal(with_hook, (rb + torch::conv2d(rb, w("wc"))).clamp(0, 6)));
}

TEST(OnnxImport, SynthesisesNamesOfUnnamedNodes) {
  OnnxModelBuilder b = TinyConvModel();
  for (auto& node : *b.model().mutable_graph()->mutable_node()) node.clear_name();
  TempDir dir;
  const Network net = ImportOnnx(dir.Write("m.onnx", b.Serialize()).string());
  ASSERT_EQ(net.nodes().size(), 2u);
  EXPECT_EQ(net.nodes()[0].name, "Conv_0");
  EXPECT_EQ(net.nodes()[1].name, "Relu_1");
  EXPECT_EQ(net.quant_layers()[0].name, "conv1");  // from the weight's name
}

TEST(OnnxImport, TruncatedFileIsNotAValidModel) {
  TempDir dir;
  const std::string bytes = TinyConvModel().Serialize();
  const auto path = dir.Write("half.onnx", bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(ImportError(path),
            path.string() + ": not a valid ONNX model: the protobuf data is truncated or corrupt");
}

TEST(OnnxImport, CorruptBytesAreNotAValidModel) {
  TempDir dir;
  const auto path = dir.Write("corrupt.onnx", "this is not an ONNX model\n");
  EXPECT_EQ(ImportError(path),
            path.string() + ": not a valid ONNX model: the protobuf data is truncated or corrupt");
  const auto empty = dir.Write("empty.onnx", "");
  EXPECT_EQ(ImportError(empty), empty.string() + ": not a valid ONNX model: ir_version is missing");
}

TEST(OnnxImport, RefusesFilesOverTwoGibibytes) {
  TempDir dir;
  const auto path = dir / "huge.onnx";
  std::ofstream(path).close();
  fs::resize_file(path, kMaxOnnxBytes + 1);  // sparse: takes no disk space
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": the file is 2147483649 bytes; expected at most 2147483648 "
                                   "(2 GiB, the protobuf limit)");
}

TEST(OnnxImport, MissingFileIsAnIoError) {
  TempDir dir;
  EXPECT_THROW(ImportOnnx((dir / "missing.onnx").string()), util::IoError);
}

TEST(OnnxImport, UnsupportedOperatorNamesOperatorNodeAndFile) {
  OnnxModelBuilder b;
  b.Input("x", {1, 3, 4, 4});
  b.Node("Relu", {"x"}, {"h"}, "relu");
  b.Node("Frobnicate", {"h"}, {"y"}, "frob");
  b.Output("y");
  TempDir dir;
  const auto path = dir.Write("frob.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": node 1 'frob': unsupported operator 'Frobnicate'. "
                                   "Supported: " +
                                   util::JoinNames(SupportedOperators()));
}

TEST(OnnxImport, OperatorOfAnotherDomainIsRejected) {
  OnnxModelBuilder b;
  b.Input("x", {1, 3, 4, 4});
  b.Node("Relu", {"x"}, {"y"}, "fused").set_domain("com.microsoft");
  b.Output("y");
  TempDir dir;
  const auto path = dir.Write("ms.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": node 0 'fused': operator 'Relu' of domain 'com.microsoft' "
                                   "is not supported; expected operators of the default ONNX "
                                   "domain");
}

TEST(OnnxImport, WrongChannelCountIsReportedByTheConvNode) {
  TempDir dir;
  const auto path = dir.Write("tiny.onnx", TinyConvModel().Serialize());
  const Network net = ImportOnnx(path.string());
  EXPECT_EQ(InputErrorOf([&] { net.Forward(torch::zeros({1, 5, 8, 8}), false); }),
            path.string() +
                ": node 'conv1' (Conv): input has 5 channels, the weight expects 3 (3 x 1 groups)");
}

OnnxModelBuilder SymbolicConvModel() {
  OnnxModelBuilder b;
  b.Input("image", {"N", 3, "H", "W"}).Initializer("conv.weight", {4, 3, 3, 3});
  auto& conv = b.Node("Conv", {"image", "conv.weight"}, {"y"}, "conv");
  SetInts(conv, "strides", {2, 2});
  b.Output("y");
  return b;
}

TEST(OnnxImport, SymbolicSpatialDimsNeedInputChw) {
  TempDir dir;
  const auto path = dir.Write("sym.onnx", SymbolicConvModel().Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": graph input 'image': dimension 2 is symbolic ('H'), "
                                   "expected a fixed size; pass --input HxW to give the "
                                   "height and width");
  OnnxImportOptions options;
  options.input_chw = {3, 32, 32};
  const Network net = ImportOnnx(path.string(), options);
  EXPECT_EQ(net.input_spec().chw, (std::vector<int64_t>{3, 32, 32}));
  ASSERT_EQ(net.quant_layers().size(), 1u);
  EXPECT_EQ(net.quant_layers()[0].shape.out_h, 15);

  // 0 takes the file's own fixed size: the channel count, as `--input HxW` passes it.
  options.input_chw = {0, 16, 16};
  EXPECT_EQ(ImportOnnx(path.string(), options).input_spec().chw, (std::vector<int64_t>{3, 16, 16}));
  options.input_chw = {3, 0, 16};
  EXPECT_EQ(ImportError(path, options),
            path.string() + ": graph input 'image': dimension 2 is not fixed in the file; expected "
                            "a positive size (only height and width can be given, with --input HxW)");
  // Resource guard: an input too large to run is refused before any allocation.
  options.input_chw = {3, 100000, 100000};
  EXPECT_EQ(ImportError(path, options),
            path.string() + ": input 3x100000x100000: expected positive sizes with at most 2^26 "
                            "values per image");
  // LibTorch refusing a node at the input size is the model's problem, named as such.
  options.input_chw = {3, 1, 1};
  const std::string prefix = path.string() + ": node 'conv' (Conv) fails on a 1x3x1x1 input: ";
  EXPECT_EQ(ImportError(path, options).substr(0, prefix.size()), prefix);

  options.input_chw = {32, 32};
  EXPECT_EQ(ImportError(path, options),
            path.string() + ": graph input 'image': --input gives 2 dimensions (32,32) but the "
                            "input has 4 (a batch dimension and 3 more); expected 3 values");
}

TEST(OnnxImport, SymbolicBatchIsAllowed) {
  OnnxModelBuilder b = TinyConvModel();
  auto* dim = b.model().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()
                  ->mutable_shape()->mutable_dim(0);
  dim->set_dim_param("batch");
  TempDir dir;
  const Network net = ImportOnnx(dir.Write("m.onnx", b.Serialize()).string());
  EXPECT_EQ(net.input_spec().chw, (std::vector<int64_t>{3, 8, 8}));
}

TEST(OnnxImport, RawDataShorterThanDimsIsRejected) {
  OnnxModelBuilder b = TinyConvModel();
  auto* bias = b.model().mutable_graph()->mutable_initializer(1);
  ASSERT_EQ(bias->name(), "conv1.bias");
  bias->set_raw_data(std::string(8, '\0'));
  TempDir dir;
  const auto path = dir.Write("short.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": initializer 'conv1.bias': dims [4] declare 4 elements of "
                                   "FLOAT (1) (16 bytes) but raw_data has 8 bytes");
}

TEST(OnnxImport, TypedDataCountMustMatchDims) {
  OnnxModelBuilder b = TinyConvModel();
  auto* bias = b.model().mutable_graph()->mutable_initializer(1);
  bias->clear_raw_data();
  for (int i = 0; i < 3; ++i) bias->add_float_data(1.0f);
  TempDir dir;
  const auto path = dir.Write("typed.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": initializer 'conv1.bias': dims [4] declare 4 elements of "
                                   "FLOAT (1) but float_data has 3 values");
}

// The second case was found by fuzzing: an empty tensor whose other dimensions
// overflow int64 when LibTorch computes its strides escaped as a c10::Error.
TEST(OnnxImport, AbsurdDimsAreRefusedBeforeAllocating) {
  const std::vector<std::pair<std::vector<int64_t>, std::string>> cases = {
      {{65536, 65536, 3, 3}, "[65536, 65536, 3, 3]"},
      {{0, int64_t{1} << 40, int64_t{1} << 40}, "[0, 1099511627776, 1099511627776]"}};
  for (const auto& [dims, text] : cases) {
    OnnxModelBuilder b = TinyConvModel();
    auto* w = b.model().mutable_graph()->mutable_initializer(0);
    w->clear_dims();
    if (dims.front() == 0) w->clear_raw_data();
    for (const int64_t d : dims) w->add_dims(d);
    TempDir dir;
    const auto path = dir.Write("absurd.onnx", b.Serialize());
    EXPECT_EQ(ImportError(path), path.string() + ": initializer 'conv1.weight': dims " + text +
                                     " declare more than 2147483648 elements; expected a "
                                     "plausible tensor size");
  }
}

TEST(OnnxImport, ExternalDataIsRejected) {
  OnnxModelBuilder b = TinyConvModel();
  auto* w = b.model().mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  TempDir dir;
  const auto path = dir.Write("ext.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": initializer 'conv1.weight': the data is stored in an "
                                   "external file ('weights.bin'); expected it inside the model "
                                   "file: re-export the model without external data");
}

TEST(OnnxImport, UnsupportedElementTypeIsNamed) {
  OnnxModelBuilder b = TinyConvModel();
  auto* bias = b.model().mutable_graph()->mutable_initializer(1);
  bias->set_data_type(onnx::TensorProto::COMPLEX64);
  TempDir dir;
  const auto path = dir.Write("complex.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": initializer 'conv1.bias': data type COMPLEX64 (14) is not "
                                   "supported; expected FLOAT, DOUBLE, FLOAT16, INT64, INT32, "
                                   "INT16, INT8, UINT8 or BOOL");
}

TEST(OnnxImport, MissingDefaultOpsetIsInvalid) {
  OnnxModelBuilder b = TinyConvModel();
  b.model().clear_opset_import();
  TempDir dir;
  const auto path = dir.Write("noopset.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() +
                                   ": not a valid ONNX model: it has no opset_import for the "
                                   "default ONNX domain");
}

// Malformed graphs of docs/RELIABILITY.md, section 5: each edits the tiny conv net
// (x [1,3,8,8] -> Conv 'conv1' -> Relu 'relu1' -> y) in one way and expects the
// exact message, which names the file. "PATH" stands for the file's path.
TEST(OnnxImport, MalformedGraphsHaveExactMessages) {
  struct Case {
    const char* name;
    std::function<void(onnx::ModelProto&)> edit;
    std::string message;
  };
  auto graph = [](onnx::ModelProto& m) { return m.mutable_graph(); };
  const std::vector<Case> cases = {
      {"no graph", [](onnx::ModelProto& m) { m.clear_graph(); },
       "PATH: not a valid ONNX model: it has no graph"},
      {"sparse initializer",
       [&](onnx::ModelProto& m) {
         auto* s = graph(m)->add_sparse_initializer();
         s->mutable_values()->set_name("sparse.w");
         s->mutable_values()->set_data_type(onnx::TensorProto::FLOAT);
         s->add_dims(4);
       },
       "PATH: sparse initializer 'sparse.w' is not supported; expected dense initializers"},
      {"an initializer defined twice",
       [&](onnx::ModelProto& m) { *graph(m)->add_initializer() = graph(m)->initializer(1); },
       "PATH: initializer 'conv1.bias' is defined more than once"},
      {"segmented tensor",
       [&](onnx::ModelProto& m) {
         graph(m)->mutable_initializer(1)->mutable_segment()->set_begin(0);
         graph(m)->mutable_initializer(1)->mutable_segment()->set_end(4);
       },
       "PATH: initializer 'conv1.bias': segmented tensors are not supported"},
      {"negative dimension",
       [&](onnx::ModelProto& m) { graph(m)->mutable_initializer(1)->set_dims(0, -3); },
       "PATH: initializer 'conv1.bias': dims [-3]: dimension 0 is -3; expected a size >= 0"},
      {"input without a shape",
       [&](onnx::ModelProto& m) {
         graph(m)->mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
       },
       "PATH: graph input 'x' has no shape in the file; expected a shape with fixed sizes"},
      {"input dimension 0",
       [&](onnx::ModelProto& m) {
         graph(m)->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
             ->mutable_dim(2)->set_dim_value(0);
       },
       "PATH: graph input 'x': dimension 2 is 0; expected a positive size"},
      {"attribute of type GRAPH",
       [&](onnx::ModelProto& m) {
         auto* a = graph(m)->mutable_node(0)->add_attribute();
         a->set_name("body");
         a->set_type(onnx::AttributeProto::GRAPH);
         a->mutable_g()->set_name("sub");
       },
       "PATH: node 'conv1' (Conv): attribute 'body': has type GRAPH; expected INT, FLOAT, "
       "STRING, INTS, FLOATS or TENSOR"},
      {"value used before it is produced",
       [&](onnx::ModelProto& m) { graph(m)->mutable_node(1)->set_input(0, "nowhere"); },
       "PATH: node 1 'relu1' (Relu): input 'nowhere' is used before any node produces it"},
      {"a cycle",
       [&](onnx::ModelProto& m) { graph(m)->mutable_node(0)->set_input(0, "y"); },
       "PATH: node 0 'conv1' (Conv): input 'y' is used before any node produces it"},
      {"an output nobody produces",
       [&](onnx::ModelProto& m) { graph(m)->mutable_output(0)->set_name("z"); },
       "PATH: no node produces the graph output 'z'"},
      {"no graph output", [&](onnx::ModelProto& m) { graph(m)->clear_output(); },
       "PATH: the graph has no input or no output"},
  };
  for (const Case& c : cases) {
    OnnxModelBuilder b = TinyConvModel();
    c.edit(b.model());
    TempDir dir;
    const auto path = dir.Write("bad.onnx", b.Serialize());
    std::string expected = c.message;
    expected.replace(0, 4, path.string());
    const std::string error = ImportError(path);
    if (expected.ends_with("*")) {
      expected.pop_back();
      EXPECT_TRUE(error.starts_with(expected)) << c.name << ": " << error;
    } else {
      EXPECT_EQ(error, expected) << c.name;
    }
  }
}

// 16385 quantizable layers, one more than any policy may address: a chain of 1x1
// convolutions sharing one weight, refused when the graph is built.
TEST(OnnxImport, MoreQuantizableLayersThanPoliciesAddressAreRefused) {
  OnnxModelBuilder b;
  b.Input("x", {1, 1, 2, 2}).Initializer("w", {1, 1, 1, 1}, {1.0f});
  std::string value = "x";
  for (int i = 0; i <= hw::kMaxLayers; ++i) {
    const std::string next = fmt::format("v{}", i);
    b.Node("Conv", {value, "w"}, {next}, fmt::format("c{}", i));
    value = next;
  }
  b.Output(value);
  TempDir dir;
  const auto path = dir.Write("deep.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), path.string() + ": expected at most 16384 quantizable layers, got 16385");
}

// A network with nothing to quantize imports (it can be evaluated), but every
// command that costs or quantizes it says so about the model.
TEST(OnnxImport, ANetworkWithoutQuantizableLayersIsRefusedByCostAndSearch) {
  OnnxModelBuilder b;
  b.Input("x", {1, 1, 28, 28});
  b.Node("Relu", {"x"}, {"h"}, "relu");
  b.Node("Flatten", {"h"}, {"y"}, "flatten");
  b.Output("y");
  TempDir dir;
  const auto path = dir.Write("relu.onnx", b.Serialize());
  EXPECT_EQ(ImportError(path), "");
  for (const char* command : {"cost --hw bitfusion", "search --budget latency=0.5 --out run"}) {
    const auto r = test::RunHaq(std::string(command) + " --model relu.onnx", dir.path());
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_EQ(r.err, "haq: error: relu.onnx: expected 1 to 16384 quantizable layers, got 0\n")
        << command;
  }
  EXPECT_EQ(test::ListDir(dir.path()), "relu.onnx\n");
}

// Pads come from the file, and a 150-byte model could ask for gigabytes: the padded
// tensor is bounded in bytes (2^29), before anything is allocated.
TEST(OnnxImport, PadsThatWouldOutgrowMemoryAreRefused) {
  auto model = [](int64_t pad) {
    OnnxModelBuilder b(/*opset=*/10);  // pads as an attribute
    b.Input("x", {1, 1, 4, 4});
    SetInts(b.Node("Pad", {"x"}, {"y"}, "pad"), "pads", {0, 0, pad, pad, 0, 0, pad, pad});
    b.Output("y");
    return b.Serialize();
  };
  TempDir dir;
  // 1 x 1 x 12004 x 12004 floats: 576 MB, over 2^29 bytes.
  const auto big = dir.Write("big.onnx", model(6000));
  EXPECT_EQ(ImportError(big),
            big.string() + ": node 'pad' (Pad): pads [0, 0, 6000, 6000, 0, 0, 6000, 6000] on a "
                           "[1, 1, 4, 4] Float input: expected an output of at most 2^29 bytes");
  // 1 x 1 x 6 x 6: imports, and the pass computes the padded shape.
  const auto small = dir.Write("small.onnx", model(1));
  EXPECT_EQ(ImportError(small), "");
}

// Opset-dependent semantics: Softmax coerces to 2-D before opset 13.
TEST(OnnxImport, SoftmaxAxisFollowsTheOpset) {
  torch::manual_seed(3);
  const auto x = torch::randn({2, 3, 4});
  for (const int64_t opset : {11, 13}) {
    SCOPED_TRACE(opset);
    OnnxModelBuilder b(opset);
    b.Input("x", {2, 3, 4});
    auto& node = b.Node("Softmax", {"x"}, {"y"}, "softmax");
    auto* axis = node.add_attribute();
    axis->set_name("axis");
    axis->set_type(onnx::AttributeProto::INT);
    axis->set_i(1);
    b.Output("y");
    TempDir dir;
    const Network net = ImportOnnx(dir.Write("softmax.onnx", b.Serialize()).string());
    const auto want = opset < 13 ? torch::softmax(x.reshape({2, 12}), 1).reshape({2, 3, 4})
                                 : torch::softmax(x, 1);
    EXPECT_TRUE(torch::allclose(net.Forward(x, false), want));
  }
}

// Dropout follows the network's mode: identity in evaluation, inverted dropout with
// the graph's ratio (an input from opset 12) in training.
TEST(OnnxImport, DropoutIsActiveOnlyInTrainingMode) {
  OnnxModelBuilder b(13);
  b.Input("x", {4, 256}).Initializer("ratio", {}, {0.25f});
  b.Node("Dropout", {"x", "ratio"}, {"y", "mask"}, "drop");
  b.Output("y").Output("mask");
  TempDir dir;
  const Network net = ImportOnnx(dir.Write("drop.onnx", b.Serialize()).string());
  torch::manual_seed(7);
  const auto x = torch::rand({4, 256}) + 1.0;
  torch::NoGradGuard no_grad;
  const auto eval = net.ForwardAll({x}, /*training=*/false);
  EXPECT_TRUE(torch::equal(eval[0], x));
  EXPECT_TRUE(eval[1].all().item<bool>());
  const auto train = net.ForwardAll({x}, /*training=*/true);
  const auto kept = train[1];
  ASSERT_EQ(kept.scalar_type(), torch::kBool);
  EXPECT_TRUE(torch::allclose(train[0], torch::where(kept, x / 0.75, torch::zeros_like(x))));
  const double dropped = 1.0 - kept.to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(dropped, 0.25, 0.05);
}

TEST(OnnxImport, ReadOnnxTensorRejectsCorruptFiles) {
  TempDir dir;
  const auto path = dir.Write("t.pb", "\xff\xff\xff");
  EXPECT_EQ(InputErrorOf([&] { ReadOnnxTensor(path.string()); }),
            path.string() + ": not a valid ONNX tensor: the protobuf data is truncated or corrupt");
}

}  // namespace
}  // namespace haq::graph
