#include "graph/zoo.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>

#include "hw/zoo.h"
#include "util/error.h"

namespace haq::graph {

namespace {

// Appends ONNX-style nodes with torchvision module-path names.
class GraphBuilder {
 public:
  GraphBuilder(const std::string& model, std::vector<int64_t> chw, uint64_t seed)
      : gen_(at::detail::createCPUGenerator(seed)) {
    net_.set_name(model);
    const int in = net_.AddValue("input");
    net_.AddInput(in, std::move(chw));
    current_ = in;
  }

  int current() const { return current_; }
  void set_current(int v) { current_ = v; }

  void Conv(const std::string& name, int64_t cin, int64_t cout, int64_t k, int64_t stride,
            int64_t groups = 1) {
    // Kaiming normal, fan_out, ReLU gain (torchvision).
    const double fan_out = static_cast<double>(cout * k * k / groups);
    torch::Tensor w = torch::randn({cout, cin / groups, k, k}, gen_) * std::sqrt(2.0 / fan_out);
    const int wv = Param(name + ".weight", w, true);
    Node n = MakeNode("Conv", name, {current_, wv});
    n.attrs["kernel_shape"] = std::vector<int64_t>{k, k};
    n.attrs["strides"] = std::vector<int64_t>{stride, stride};
    n.attrs["pads"] = std::vector<int64_t>{k / 2, k / 2, k / 2, k / 2};
    n.attrs["group"] = groups;
    Emit(std::move(n));
  }

  void BatchNorm(const std::string& name, int64_t c, bool zero_gamma = false) {
    const int scale = Param(name + ".weight", zero_gamma ? torch::zeros({c}) : torch::ones({c}), true);
    const int bias = Param(name + ".bias", torch::zeros({c}), true);
    const int mean = Param(name + ".running_mean", torch::zeros({c}), false, true);
    const int var = Param(name + ".running_var", torch::ones({c}), false, true);
    Node n = MakeNode("BatchNormalization", name, {current_, scale, bias, mean, var});
    n.attrs["epsilon"] = 1e-5;
    n.attrs["momentum"] = 0.9;
    Emit(std::move(n));
  }

  void Relu(const std::string& name) { Emit(MakeNode("Relu", name, {current_})); }

  void Relu6(const std::string& name) {
    const int lo = Constant(name + ".min", torch::tensor(0.0f));
    const int hi = Constant(name + ".max", torch::tensor(6.0f));
    Emit(MakeNode("Clip", name, {current_, lo, hi}));
  }

  void MaxPool(const std::string& name, int64_t k, int64_t stride) {
    Node n = MakeNode("MaxPool", name, {current_});
    n.attrs["kernel_shape"] = std::vector<int64_t>{k, k};
    n.attrs["strides"] = std::vector<int64_t>{stride, stride};
    n.attrs["pads"] = std::vector<int64_t>{k / 2, k / 2, k / 2, k / 2};
    Emit(std::move(n));
  }

  void Add(const std::string& name, int other) { Emit(MakeNode("Add", name, {current_, other})); }

  void GlobalPoolFlatten(const std::string& name) {
    Emit(MakeNode("GlobalAveragePool", name + ".pool", {current_}));
    Emit(MakeNode("Flatten", name + ".flatten", {current_}));
  }

  /// torch.nn.Linear: weight [out, in] (Gemm with transB), bias [out].
  void Linear(const std::string& name, int64_t in, int64_t out, double init_std) {
    torch::Tensor w;
    if (init_std > 0) {
      w = torch::randn({out, in}, gen_) * init_std;
    } else {  // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in))
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      w = torch::rand({out, in}, gen_) * (2 * bound) - bound;
    }
    const int wv = Param(name + ".weight", w, true);
    const int bv = Param(name + ".bias", torch::zeros({out}), true);
    Node n = MakeNode("Gemm", name, {current_, wv, bv});
    n.attrs["transB"] = int64_t{1};
    Emit(std::move(n));
  }

  Network Finish() {
    net_.AddOutput(current_);
    net_.Finalize("zoo:" + net_.name());
    return std::move(net_);
  }

 private:
  int Param(const std::string& name, torch::Tensor t, bool trainable, bool buffer = false) {
    const int v = net_.AddValue(name);
    net_.SetInitializer(v, std::move(t), trainable, buffer);
    return v;
  }
  int Constant(const std::string& name, torch::Tensor t) { return Param(name, std::move(t), false); }
  Node MakeNode(const std::string& op, const std::string& name, std::vector<int> inputs) {
    Node n;
    n.op_type = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {net_.AddValue(fmt::format("{}:{}", name, op))};
    return n;
  }
  void Emit(Node n) {
    current_ = n.outputs[0];
    net_.AddNode(std::move(n));
  }

  Network net_;
  at::Generator gen_;
  int current_ = -1;
};

struct MobileNetV2Config {
  int64_t stem = 32;
  int64_t stem_stride = 2;
  std::vector<hw::InvertedResidualStage> stages;
  int64_t last = 1280;
  double dropout_free_classifier_std = 0.01;
};

Network MobileNetV2(const std::string& name, std::vector<int64_t> chw, int64_t classes,
                    uint64_t seed, const MobileNetV2Config& cfg) {
  GraphBuilder b(name, chw, seed);
  auto conv_bn_relu6 = [&](const std::string& p, int64_t cin, int64_t cout, int64_t k,
                           int64_t s, int64_t g) {
    b.Conv(p + ".0", cin, cout, k, s, g);
    b.BatchNorm(p + ".1", cout);
    b.Relu6(p + ".2");
  };
  conv_bn_relu6("features.0", chw[0], cfg.stem, 3, cfg.stem_stride, 1);
  int64_t c = cfg.stem;
  int idx = 1;
  for (const auto& st : cfg.stages) {
    for (int64_t i = 0; i < st.n; ++i, ++idx) {
      const int64_t stride = i == 0 ? st.s : 1;
      const int64_t hidden = c * st.t;
      const std::string p = fmt::format("features.{}.conv", idx);
      const int block_in = b.current();
      int j = 0;
      if (st.t != 1) conv_bn_relu6(fmt::format("{}.{}", p, j++), c, hidden, 1, 1, 1);
      conv_bn_relu6(fmt::format("{}.{}", p, j++), hidden, hidden, 3, stride, hidden);
      b.Conv(fmt::format("{}.{}", p, j++), hidden, st.c, 1, 1);
      b.BatchNorm(fmt::format("{}.{}", p, j++), st.c);
      if (stride == 1 && c == st.c) b.Add(fmt::format("features.{}.add", idx), block_in);
      c = st.c;
    }
  }
  conv_bn_relu6(fmt::format("features.{}", idx), c, cfg.last, 1, 1, 1);
  b.GlobalPoolFlatten("pool");
  b.Linear("classifier.1", cfg.last, classes, cfg.dropout_free_classifier_std);
  return b.Finish();
}

Network MobileNetV1(const std::string& name, std::vector<int64_t> chw, int64_t classes,
                    uint64_t seed) {
  GraphBuilder b(name, chw, seed);
  b.Conv("model.0.0", chw[0], 32, 3, 2);
  b.BatchNorm("model.0.1", 32);
  b.Relu("model.0.2");
  int64_t c = 32;
  int idx = 1;
  for (const auto& blk : hw::MobileNetV1Blocks()) {
    const std::string p = fmt::format("model.{}", idx++);
    b.Conv(p + ".0", c, c, 3, blk.s, c);
    b.BatchNorm(p + ".1", c);
    b.Relu(p + ".2");
    b.Conv(p + ".3", c, blk.c, 1, 1);
    b.BatchNorm(p + ".4", blk.c);
    b.Relu(p + ".5");
    c = blk.c;
  }
  b.GlobalPoolFlatten("pool");
  b.Linear("fc", c, classes, 0.0);
  return b.Finish();
}

struct ResNetConfig {
  std::vector<int> repeats;
  bool bottleneck = false;
  std::vector<int64_t> widths;  // per stage
  bool imagenet_stem = true;    // 7x7/2 conv + 3x3/2 max pool; else 3x3/1 conv
  int64_t stem = 64;
};

Network ResNet(const std::string& name, std::vector<int64_t> chw, int64_t classes, uint64_t seed,
               const ResNetConfig& cfg) {
  GraphBuilder b(name, chw, seed);
  if (cfg.imagenet_stem) {
    b.Conv("conv1", chw[0], cfg.stem, 7, 2);
  } else {
    b.Conv("conv1", chw[0], cfg.stem, 3, 1);
  }
  b.BatchNorm("bn1", cfg.stem);
  b.Relu("relu");
  if (cfg.imagenet_stem) b.MaxPool("maxpool", 3, 2);
  const int64_t expansion = cfg.bottleneck ? 4 : 1;
  int64_t c = cfg.stem;
  for (size_t stage = 0; stage < cfg.repeats.size(); ++stage) {
    const int64_t width = cfg.widths[stage];
    for (int i = 0; i < cfg.repeats[stage]; ++i) {
      const int64_t stride = (i == 0 && stage > 0) ? 2 : 1;
      const std::string p = fmt::format("layer{}.{}.", stage + 1, i);
      const int block_in = b.current();
      if (cfg.bottleneck) {
        b.Conv(p + "conv1", c, width, 1, 1);
        b.BatchNorm(p + "bn1", width);
        b.Relu(p + "relu1");
        b.Conv(p + "conv2", width, width, 3, stride);
        b.BatchNorm(p + "bn2", width);
        b.Relu(p + "relu2");
        b.Conv(p + "conv3", width, width * expansion, 1, 1);
        // Zero-init the last BN of each block: residual blocks start as identities.
        b.BatchNorm(p + "bn3", width * expansion, /*zero_gamma=*/true);
      } else {
        b.Conv(p + "conv1", c, width, 3, stride);
        b.BatchNorm(p + "bn1", width);
        b.Relu(p + "relu1");
        b.Conv(p + "conv2", width, width, 3, 1);
        b.BatchNorm(p + "bn2", width, /*zero_gamma=*/true);
      }
      int shortcut = block_in;
      if (stride != 1 || c != width * expansion) {
        const int main_path = b.current();
        b.set_current(block_in);
        b.Conv(p + "downsample.0", c, width * expansion, 1, stride);
        b.BatchNorm(p + "downsample.1", width * expansion);
        shortcut = b.current();
        b.set_current(main_path);
      }
      b.Add(p + "add", shortcut);
      b.Relu(p + "relu");
      c = width * expansion;
    }
  }
  b.GlobalPoolFlatten("pool");
  b.Linear("fc", c, classes, 0.0);
  return b.Finish();
}

struct ZooEntry {
  std::string description;
  int64_t channels, size, classes;
  std::function<Network(const std::string&, std::vector<int64_t>, int64_t, uint64_t)> build;
};

const std::map<std::string, ZooEntry>& Entries() {
  static const std::map<std::string, ZooEntry> entries = {
      {"mobilenet_v1",
       {"MobileNet-V1 (Howard et al. 2017), 3x224x224, 1000 classes", 3, 224, 1000,
        [](const std::string& n, std::vector<int64_t> chw, int64_t k, uint64_t s) {
          return MobileNetV1(n, std::move(chw), k, s);
        }}},
      {"mobilenet_v2",
       {"MobileNet-V2 (Sandler et al. 2018, HAQ's layout), 3x224x224, 1000 classes", 3, 224, 1000,
        [](const std::string& n, std::vector<int64_t> chw, int64_t k, uint64_t s) {
          MobileNetV2Config cfg;
          cfg.stages = hw::MobileNetV2Stages();
          return MobileNetV2(n, std::move(chw), k, s, cfg);
        }}},
      {"mobilenet_v2_cifar",
       {"MobileNet-V2 width 1.0 in HAQ's layout with a stride-1 stem, for 3x32x32 "
        "(CIFAR-style; the episode benchmark's network), 10 classes",
        3, 32, 10,
        [](const std::string& n, std::vector<int64_t> chw, int64_t k, uint64_t s) {
          MobileNetV2Config cfg;
          cfg.stem_stride = 1;
          cfg.stages = hw::MobileNetV2Stages();
          return MobileNetV2(n, std::move(chw), k, s, cfg);
        }}},
      {"resnet18",
       {"ResNet-18 (He et al. 2016, torchvision), 3x224x224, 1000 classes", 3, 224, 1000,
        [](const std::string& n, std::vector<int64_t> chw, int64_t k, uint64_t s) {
          return ResNet(n, std::move(chw), k, s, {{2, 2, 2, 2}, false, {64, 128, 256, 512}, true, 64});
        }}},
      {"resnet50",
       {"ResNet-50 (He et al. 2016, torchvision), 3x224x224, 1000 classes", 3, 224, 1000,
        [](const std::string& n, std::vector<int64_t> chw, int64_t k, uint64_t s) {
          return ResNet(n, std::move(chw), k, s, {{3, 4, 6, 3}, true, {64, 128, 256, 512}, true, 64});
        }}},
      {"mobilenet_v2_fmnist",
       {"MobileNet-V2-style for 1x28x28 (stem 16/2; stages t-c-n-s 1-16-1-1, 6-24-2-2, "
        "6-32-3-1, 6-64-2-2, 6-96-1-1; last 320), 10 classes",
        1, 28, 10,
        [](const std::string& n, std::vector<int64_t> chw, int64_t k, uint64_t s) {
          MobileNetV2Config cfg;
          cfg.stem = 16;
          cfg.stem_stride = 2;
          cfg.stages = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 1}, {6, 64, 2, 2}, {6, 96, 1, 1}};
          cfg.last = 320;
          return MobileNetV2(n, std::move(chw), k, s, cfg);
        }}},
      {"resnet20_fmnist",
       {"ResNet-20 (He et al. 2016, CIFAR layout: 3 stages x 3 basic blocks, 16/32/64 "
        "channels, 1x1 projection shortcuts) for 1x28x28, 10 classes",
        1, 28, 10,
        [](const std::string& n, std::vector<int64_t> chw, int64_t k, uint64_t s) {
          return ResNet(n, std::move(chw), k, s, {{3, 3, 3}, false, {16, 32, 64}, false, 16});
        }}},
  };
  return entries;
}

}  // namespace

std::vector<std::string> ZooModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, e] : Entries()) names.push_back(name);
  return names;
}

bool IsZooModel(const std::string& name) { return Entries().count(name) != 0; }

std::string ZooDescription(const std::string& name) {
  const auto it = Entries().find(name);
  return it == Entries().end() ? std::string() : it->second.description;
}

Network BuildZooModel(const std::string& name, const ZooOptions& o) {
  const auto it = Entries().find(name);
  if (it == Entries().end()) {
    const auto names = ZooModelNames();
    throw util::InputError(fmt::format("unknown model '{}'{}; zoo models: {}", name,
                                       util::DidYouMean(name, names), util::JoinNames(names)));
  }
  const ZooEntry& e = it->second;
  const int64_t h = o.height > 0 ? o.height : e.size;
  const int64_t w = o.width > 0 ? o.width : e.size;
  const int64_t classes = o.num_classes > 0 ? o.num_classes : e.classes;
  return e.build(name, {e.channels, h, w}, classes, o.seed);
}

}  // namespace haq::graph
