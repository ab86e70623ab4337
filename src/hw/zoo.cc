#include "hw/zoo.h"

#include <fmt/format.h>

#include <functional>
#include <map>

#include "util/error.h"

namespace haq::hw {

const std::vector<InvertedResidualStage>& MobileNetV2Stages() {
  static const std::vector<InvertedResidualStage> stages = {
      {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  return stages;
}

const std::vector<SeparableBlock>& MobileNetV1Blocks() {
  static const std::vector<SeparableBlock> blocks = {
      {64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1},
      {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  return blocks;
}

int64_t ConvOutSize(int64_t in, int64_t kernel, int64_t stride) {
  return (in + 2 * (kernel / 2) - kernel) / stride + 1;
}

namespace {

// Appends layers while tracking the current feature map.
class ShapeBuilder {
 public:
  explicit ShapeBuilder(const ZooInput& in) : in_(in), c_(in.channels), h_(in.height), w_(in.width) {}

  void Conv(const std::string& name, int64_t out, int64_t k, int64_t s, bool depthwise = false) {
    LayerShape l;
    l.name = name;
    l.kind = depthwise ? LayerKind::kDepthwise : LayerKind::kConv;
    l.in_channels = c_;
    l.out_channels = out;
    l.kernel_h = l.kernel_w = k;
    l.stride_h = l.stride_w = s;
    l.groups = depthwise ? c_ : 1;
    l.in_h = h_;
    l.in_w = w_;
    l.out_h = ConvOutSize(h_, k, s);
    l.out_w = ConvOutSize(w_, k, s);
    l.batch = in_.batch;
    l.is_first = layers_.empty();
    layers_.push_back(l);
    c_ = out;
    h_ = l.out_h;
    w_ = l.out_w;
  }
  void Pool(int64_t k, int64_t s) {  // max pool with padding k/2
    h_ = ConvOutSize(h_, k, s);
    w_ = ConvOutSize(w_, k, s);
  }
  void Fc(const std::string& name, int64_t out) {
    LayerShape l;
    l.name = name;
    l.kind = LayerKind::kFc;
    l.in_channels = c_;  // after global average pooling
    l.out_channels = out;
    l.batch = in_.batch;
    l.is_first = layers_.empty();
    layers_.push_back(l);
    c_ = out;
    h_ = w_ = 1;
  }
  // For residual blocks: the shortcut reads the block's input.
  struct State {
    int64_t c, h, w;
  };
  State Save() const { return {c_, h_, w_}; }
  void Restore(const State& s) {
    c_ = s.c;
    h_ = s.h;
    w_ = s.w;
  }
  std::vector<LayerShape> Take() { return std::move(layers_); }

 private:
  ZooInput in_;
  int64_t c_, h_, w_;
  std::vector<LayerShape> layers_;
};

std::vector<LayerShape> MobileNetV2(const ZooInput& in) {
  ShapeBuilder b(in);
  b.Conv("features.0.0", 32, 3, 2);
  int idx = 1;
  for (const auto& st : MobileNetV2Stages()) {
    for (int64_t i = 0; i < st.n; ++i, ++idx) {
      const int64_t stride = i == 0 ? st.s : 1;
      const int64_t hidden = b.Save().c * st.t;
      const std::string p = fmt::format("features.{}.conv.", idx);
      if (st.t == 1) {
        b.Conv(p + "0.0", hidden, 3, stride, true);
        b.Conv(p + "1", st.c, 1, 1);
      } else {
        b.Conv(p + "0.0", hidden, 1, 1);
        b.Conv(p + "1.0", hidden, 3, stride, true);
        b.Conv(p + "2", st.c, 1, 1);
      }
    }
  }
  b.Conv(fmt::format("features.{}.0", idx), 1280, 1, 1);
  b.Fc("classifier.1", in.num_classes);
  return b.Take();
}

std::vector<LayerShape> MobileNetV1(const ZooInput& in) {
  ShapeBuilder b(in);
  b.Conv("model.0.0", 32, 3, 2);
  int idx = 1;
  for (const auto& blk : MobileNetV1Blocks()) {
    b.Conv(fmt::format("model.{}.0", idx), b.Save().c, 3, blk.s, true);
    b.Conv(fmt::format("model.{}.3", idx), blk.c, 1, 1);
    ++idx;
  }
  b.Fc("fc", in.num_classes);
  return b.Take();
}

// torchvision ResNet: basic blocks (18/34) or bottlenecks (50/101/152).
std::vector<LayerShape> ResNet(const ZooInput& in, const std::vector<int>& repeats,
                               bool bottleneck) {
  ShapeBuilder b(in);
  b.Conv("conv1", 64, 7, 2);
  b.Pool(3, 2);
  const int64_t expansion = bottleneck ? 4 : 1;
  for (size_t stage = 0; stage < repeats.size(); ++stage) {
    const int64_t width = int64_t{64} << stage;
    for (int i = 0; i < repeats[stage]; ++i) {
      const int64_t stride = (i == 0 && stage > 0) ? 2 : 1;
      const auto input = b.Save();
      const std::string p = fmt::format("layer{}.{}.", stage + 1, i);
      if (bottleneck) {
        b.Conv(p + "conv1", width, 1, 1);
        b.Conv(p + "conv2", width, 3, stride);
        b.Conv(p + "conv3", width * expansion, 1, 1);
      } else {
        b.Conv(p + "conv1", width, 3, stride);
        b.Conv(p + "conv2", width, 3, 1);
      }
      if (stride != 1 || input.c != width * expansion) {
        const auto out = b.Save();
        b.Restore(input);
        b.Conv(p + "downsample.0", width * expansion, 1, stride);
        b.Restore(out);
      }
    }
  }
  b.Fc("fc", in.num_classes);
  return b.Take();
}

using Builder = std::function<std::vector<LayerShape>(const ZooInput&)>;

const std::map<std::string, Builder>& Builders() {
  static const std::map<std::string, Builder> builders = {
      {"mobilenet_v1", MobileNetV1},
      {"mobilenet_v2", MobileNetV2},
      {"resnet18", [](const ZooInput& in) { return ResNet(in, {2, 2, 2, 2}, false); }},
      {"resnet50", [](const ZooInput& in) { return ResNet(in, {3, 4, 6, 3}, true); }},
  };
  return builders;
}

}  // namespace

std::vector<std::string> ZooShapeModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, builder] : Builders()) names.push_back(name);
  return names;
}

std::vector<LayerShape> ZooLayerShapes(const std::string& name, const ZooInput& input) {
  const auto& builders = Builders();
  const auto it = builders.find(name);
  if (it == builders.end()) {
    const auto names = ZooShapeModelNames();
    throw util::InputError(fmt::format("unknown model '{}'{}; known models: {}", name,
                                       util::DidYouMean(name, names), util::JoinNames(names)));
  }
  if (input.height < 1 || input.width < 1 || input.channels < 1 || input.batch < 1 ||
      input.num_classes < 1) {
    throw util::InputError(fmt::format(
        "model '{}': input: expected positive sizes, got {}x{}x{}, batch {}, {} classes", name,
        input.channels, input.height, input.width, input.batch, input.num_classes));
  }
  auto layers = it->second(input);
  for (const auto& l : layers) Validate(l);
  return layers;
}

}  // namespace haq::hw
