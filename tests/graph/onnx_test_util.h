#pragma once
// Builders for small ONNX models in tests: a ModelProto assembled in code and
// serialised, so error cases need no binary files in the repository. Header-only:
// tests/CMakeLists.txt compiles only *_test.cc and test_util.cc.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace haq::test {

/// A ModelProto under construction (ir_version 8, default-domain opset `opset`).
class OnnxModelBuilder {
 public:
  explicit OnnxModelBuilder(int64_t opset = 13);

  /// A graph input of element type FLOAT. A dimension given as a string is symbolic.
  struct Dim {
    Dim(int64_t v) : value(v) {}     // NOLINT: implicit on purpose
    Dim(const char* p) : param(p) {}  // NOLINT: implicit on purpose
    int64_t value = -1;
    std::string param;
  };
  OnnxModelBuilder& Input(const std::string& name, const std::vector<Dim>& dims);
  OnnxModelBuilder& Output(const std::string& name);
  /// A FLOAT initializer with `values` in raw_data (all zeros of the right count
  /// when `values` is empty).
  OnnxModelBuilder& Initializer(const std::string& name, const std::vector<int64_t>& dims,
                                std::vector<float> values = {});
  /// Appends a node and returns it for attributes.
  onnx::NodeProto& Node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "");

  onnx::ModelProto& model() { return model_; }
  std::string Serialize() const;

 private:
  onnx::ModelProto model_;
};

/// Adds an INTS attribute to `node`.
void SetInts(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values);

/// x [1, 3, 8, 8] -> Conv "conv1" (4 filters, 3x3, pads 1) -> Relu -> y.
OnnxModelBuilder TinyConvModel();

// ---------------------------------------------------------------- implementation

inline OnnxModelBuilder::OnnxModelBuilder(int64_t opset) {
  model_.set_ir_version(8);
  model_.set_producer_name("haq-test");
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model_.mutable_graph()->set_name("test");
}

inline OnnxModelBuilder& OnnxModelBuilder::Input(const std::string& name,
                                                 const std::vector<Dim>& dims) {
  auto* in = model_.mutable_graph()->add_input();
  in->set_name(name);
  auto* tensor = in->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  for (const Dim& d : dims) {
    auto* dim = shape->add_dim();
    if (d.param.empty()) {
      dim->set_dim_value(d.value);
    } else {
      dim->set_dim_param(d.param);
    }
  }
  return *this;
}

inline OnnxModelBuilder& OnnxModelBuilder::Output(const std::string& name) {
  auto* out = model_.mutable_graph()->add_output();
  out->set_name(name);
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return *this;
}

inline OnnxModelBuilder& OnnxModelBuilder::Initializer(const std::string& name,
                                                       const std::vector<int64_t>& dims,
                                                       std::vector<float> values) {
  int64_t count = 1;
  for (const int64_t d : dims) count *= d;
  if (values.empty()) values.assign(static_cast<size_t>(count), 0.0f);
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (const int64_t d : dims) t->add_dims(d);
  std::string raw(values.size() * sizeof(float), '\0');
  std::memcpy(raw.data(), values.data(), raw.size());
  t->set_raw_data(raw);
  return *this;
}

inline onnx::NodeProto& OnnxModelBuilder::Node(const std::string& op_type,
                                               const std::vector<std::string>& inputs,
                                               const std::vector<std::string>& outputs,
                                               const std::string& name) {
  auto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op_type);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *n;
}

inline std::string OnnxModelBuilder::Serialize() const { return model_.SerializeAsString(); }

inline void SetInts(onnx::NodeProto& node, const std::string& name,
                    const std::vector<int64_t>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (const int64_t v : values) a->add_ints(v);
}

inline OnnxModelBuilder TinyConvModel() {
  OnnxModelBuilder b;
  std::vector<float> w(4 * 3 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) * 0.1f - 0.3f;
  b.Input("x", {1, 3, 8, 8})
      .Initializer("conv1.weight", {4, 3, 3, 3}, w)
      .Initializer("conv1.bias", {4}, {0.1f, 0.2f, 0.3f, 0.4f});
  auto& conv = b.Node("Conv", {"x", "conv1.weight", "conv1.bias"}, {"h"}, "conv1");
  SetInts(conv, "kernel_shape", {3, 3});
  SetInts(conv, "pads", {1, 1, 1, 1});
  b.Node("Relu", {"h"}, {"y"}, "relu1");
  b.Output("y");
  return b;
}

}  // namespace haq::test
