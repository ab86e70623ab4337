#pragma once
// An ONNX file laid out the way PyTorch 1.13 exports torchvision's MobileNet-V2 in
// eval mode (batch norm folded into the convolutions, weights renamed
// "onnx::Conv_N", scope-path node names, ReLU6 as Clip with constant bounds, the
// Shape/Gather/Unsqueeze/Concat/Reshape flattening chain, a Dropout, Gemm with
// transB), written with protobuf directly, with seeded random weights.
#include <fmt/format.h>

#include <random>
#include <string>
#include <vector>

#include "graph/onnx_test_util.h"
#include "hw/zoo.h"

namespace haq::test {

class TorchStyleExport {
 public:
  TorchStyleExport() : b_(13) {}

  std::string Build() {
    b_.Input("input", {"batch", 3, 224, 224});
    std::string x = "input";
    // Scopes as torch.onnx writes them: each module's unqualified name, nested.
    x = ConvClip(x, "/features/features.0", "features.0", 3, 32, 3, 2, 1);
    int64_t c = 32;
    int idx = 1;
    for (const auto& st : hw::MobileNetV2Stages()) {
      for (int64_t i = 0; i < st.n; ++i, ++idx) {
        const int64_t stride = i == 0 ? st.s : 1;
        const int64_t hidden = c * st.t;
        const std::string block = fmt::format("/features/features.{}/conv", idx);
        const std::string block_in = x;
        int j = 0;
        if (st.t != 1) {
          x = ConvClip(x, fmt::format("{}/conv.0", block), "conv.0", c, hidden, 1, 1, 1);
          ++j;
        }
        const std::string dw = fmt::format("conv.{}", j);
        x = ConvClip(x, fmt::format("{}/{}", block, dw), dw, hidden, hidden, 3, stride, hidden);
        ++j;
        x = Conv(x, fmt::format("{}/conv.{}", block, j), st.c, hidden, 1, 1, 1);
        if (stride == 1 && c == st.c) {
          const std::string sum = Fresh();
          b_.Node("Add", {block_in, x}, {sum}, fmt::format("/features/features.{}/Add", idx));
          x = sum;
        }
        c = st.c;
      }
    }
    x = ConvClip(x, "/features/features.18", "features.18", c, 1280, 1, 1, 1);
    const std::string pooled = Fresh();
    b_.Node("GlobalAveragePool", {x}, {pooled}, "/GlobalAveragePool");
    // x.view(x.size(0), -1)
    const std::string shape = Fresh(), idx0 = Fresh(), gathered = Fresh(), unsq = Fresh(),
                      minus1 = Fresh(), target = Fresh(), flat = Fresh();
    b_.Node("Shape", {pooled}, {shape}, "/Shape");
    ConstantInt64(idx0, {}, {0});
    b_.Node("Gather", {shape, idx0}, {gathered}, "/Gather").add_attribute()->CopyFrom(IntAttr("axis", 0));
    const std::string axes = Fresh();
    ConstantInt64(axes, {1}, {0});
    b_.Node("Unsqueeze", {gathered, axes}, {unsq}, "/Unsqueeze");
    ConstantInt64(minus1, {1}, {-1});
    b_.Node("Concat", {unsq, minus1}, {target}, "/Concat").add_attribute()->CopyFrom(IntAttr("axis", 0));
    b_.Node("Reshape", {pooled, target}, {flat}, "/Reshape");
    const std::string dropped = Fresh();
    b_.Node("Dropout", {flat}, {dropped}, "/classifier/classifier.0/Dropout");
    b_.Initializer("classifier.1.weight", {1000, 1280}, Random(1000 * 1280, 0.01f));
    b_.Initializer("classifier.1.bias", {1000}, Random(1000, 0.01f));
    auto& gemm = b_.Node("Gemm", {dropped, "classifier.1.weight", "classifier.1.bias"}, {"output"},
                         "/classifier/classifier.1/Gemm");
    gemm.add_attribute()->CopyFrom(IntAttr("transB", 1));
    b_.Output("output");
    return b_.Serialize();
  }

 private:
  static onnx::AttributeProto IntAttr(const std::string& name, int64_t v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
    return a;
  }
  std::string Fresh() { return fmt::format("/{}", next_++); }
  std::vector<float> Random(int64_t n, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = d(rng_);
    return v;
  }
  void ConstantInt64(const std::string& out, const std::vector<int64_t>& dims,
                     const std::vector<int64_t>& values) {
    auto& n = b_.Node("Constant", {}, {out}, fmt::format("/Constant_{}", next_++));
    auto* a = n.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto* t = a->mutable_t();
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t v : values) t->add_int64_data(v);
  }
  // Conv with folded batch norm: weight "onnx::Conv_N", bias "onnx::Conv_N+1"; the
  // node is named "<scope>/Conv".
  std::string Conv(const std::string& x, const std::string& scope, int64_t cout, int64_t cin,
                   int64_t k, int64_t s, int64_t groups) {
    const std::string w = fmt::format("onnx::Conv_{}", next_++);
    const std::string bias = fmt::format("onnx::Conv_{}", next_++);
    b_.Initializer(w, {cout, cin / groups, k, k}, Random(cout * cin / groups * k * k, 0.05f));
    b_.Initializer(bias, {cout}, Random(cout, 0.05f));
    const std::string y = Fresh();
    auto& n = b_.Node("Conv", {x, w, bias}, {y}, fmt::format("{}/Conv", scope));
    SetInts(n, "kernel_shape", {k, k});
    SetInts(n, "strides", {s, s});
    SetInts(n, "pads", {k / 2, k / 2, k / 2, k / 2});
    SetInts(n, "dilations", {1, 1});
    n.add_attribute()->CopyFrom(IntAttr("group", groups));
    return y;
  }
  // torchvision's Conv2dNormActivation `block` (unqualified name `name`): conv at
  // <name>.0, folded BN at <name>.1, ReLU6 at <name>.2 as Clip(0, 6).
  std::string ConvClip(const std::string& x, const std::string& block, const std::string& name,
                       int64_t cin, int64_t cout, int64_t k, int64_t s, int64_t groups) {
    const std::string y = Conv(x, fmt::format("{}/{}.0", block, name), cout, cin, k, s, groups);
    const std::string lo = fmt::format("onnx::Clip_{}", next_++);
    const std::string hi = fmt::format("onnx::Clip_{}", next_++);
    b_.Initializer(lo, {}, {0.0f});
    b_.Initializer(hi, {}, {6.0f});
    const std::string z = Fresh();
    b_.Node("Clip", {y, lo, hi}, {z}, fmt::format("{}/{}.2/Clip", block, name));
    return z;
  }

  OnnxModelBuilder b_;
  std::mt19937 rng_{2019};
  int next_ = 300;
};

}  // namespace haq::test
