#include "deploy/onnx_export.h"

#include <fmt/format.h>
// ONNX_ML is defined for haq_core: Debian's libonnx ships only the onnx-ml classes.
// The checker's headers name the protobuf namespace through ONNX_NAMESPACE.
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <bit>
#include <set>
#include <stdexcept>

#include "util/error.h"
#include "util/file.h"

namespace haq::deploy {

namespace {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

constexpr int64_t kOpset = 13;
// Operators whose meaning or signature changed between opset 11 and 13.
const std::set<std::string> kChangedBefore13 = {"Squeeze",   "Unsqueeze",  "ReduceSum", "Split",
                                                "Softmax",   "LogSoftmax", "Hardmax"};

int32_t OnnxType(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return onnx::TensorProto::FLOAT;
    case torch::kDouble: return onnx::TensorProto::DOUBLE;
    case torch::kLong: return onnx::TensorProto::INT64;
    case torch::kInt: return onnx::TensorProto::INT32;
    case torch::kShort: return onnx::TensorProto::INT16;
    case torch::kChar: return onnx::TensorProto::INT8;
    case torch::kByte: return onnx::TensorProto::UINT8;
    case torch::kBool: return onnx::TensorProto::BOOL;
    default: break;
  }
  throw std::logic_error(fmt::format("no ONNX type for tensors of {}", c10::toString(t)));
}

void FillTensor(onnx::TensorProto& proto, const std::string& name, const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  proto.set_name(name);
  proto.set_data_type(OnnxType(t.scalar_type()));
  for (int64_t d : t.sizes()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.nbytes()));
}

void SetAttribute(onnx::NodeProto& node, const std::string& name, const graph::AttrValue& value) {
  using A = onnx::AttributeProto;
  A* a = node.add_attribute();
  a->set_name(name);
  if (const auto* i = std::get_if<int64_t>(&value)) {
    a->set_type(A::INT);
    a->set_i(*i);
  } else if (const auto* f = std::get_if<double>(&value)) {
    a->set_type(A::FLOAT);
    a->set_f(static_cast<float>(*f));
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    a->set_type(A::STRING);
    a->set_s(*s);
  } else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) {
    a->set_type(A::INTS);
    for (int64_t v : *is) a->add_ints(v);
  } else if (const auto* fs = std::get_if<std::vector<double>>(&value)) {
    a->set_type(A::FLOATS);
    for (double v : *fs) a->add_floats(static_cast<float>(v));
  } else {
    a->set_type(A::TENSOR);
    FillTensor(*a->mutable_t(), "", std::get<torch::Tensor>(value));
  }
}

// Builds the graph: nodes, initializers, with unique names for the new values.
class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto& g) : g_(g) {}

  onnx::NodeProto& Node(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }
  // A new initializer; returns its name.
  std::string Init(const std::string& name, const torch::Tensor& t) {
    FillTensor(*g_.add_initializer(), name, t);
    return name;
  }
  std::string Scalar(const std::string& name, float v) { return Init(name, torch::tensor(v)); }

 private:
  onnx::GraphProto& g_;
};

// Batch-norm folding factors of one output channel: y = w_scale * conv + shift.
struct Fold {
  int bn_node = -1;
  torch::Tensor factor;  // [O] gamma / sqrt(var + eps)
  torch::Tensor shift;   // [O] beta - mean * factor
};

// The BatchNormalization node that alone reads `node`'s output, with constant
// parameters, or nullopt.
std::optional<Fold> FindFold(const graph::Network& net, int node_index,
                             const std::vector<std::vector<int>>& readers,
                             const std::set<int>& graph_outputs) {
  const graph::Node& node = net.nodes()[static_cast<size_t>(node_index)];
  if (node.op_type != "Conv" || node.outputs.size() != 1) return std::nullopt;
  const int out = node.outputs[0];
  const auto& r = readers[static_cast<size_t>(out)];
  if (r.size() != 1 || graph_outputs.count(out)) return std::nullopt;
  const graph::Node& bn = net.nodes()[static_cast<size_t>(r[0])];
  if (bn.op_type != "BatchNormalization" || bn.inputs.size() < 5 || bn.inputs[0] != out ||
      bn.outputs.size() != 1) {
    return std::nullopt;
  }
  for (int k = 1; k < 5; ++k) {
    if (!net.IsInitializer(bn.inputs[static_cast<size_t>(k)])) return std::nullopt;
  }
  auto param = [&](int k) {
    return net.Initializer(bn.inputs[static_cast<size_t>(k)]).detach().to(torch::kDouble);
  };
  Fold f;
  f.bn_node = r[0];
  f.factor = param(1) / torch::sqrt(param(4) + bn.Float("epsilon", 1e-5));
  f.shift = param(2) - param(3) * f.factor;
  return f;
}

// `t` ([O]) shaped to broadcast along `axis` of a rank-`rank` weight.
torch::Tensor AlongOutput(const torch::Tensor& t, int64_t axis, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = t.numel();
  return t.reshape(shape);
}

// Emits the weight of quantized layer `l`; returns the name of the float weight.
std::string EmitWeight(GraphWriter& w, const LayerCodes& l, int64_t axis,
                       const std::optional<Fold>& fold) {
  const std::string base = l.name;
  const int64_t rank = static_cast<int64_t>(l.shape.size());
  if (l.scheme == "kmeans") {
    const torch::Tensor book = torch::tensor(l.codebook, torch::kDouble).to(torch::kFloat);
    const std::string gathered = base + ".weight_kmeans";
    // Indices are stored in uint8 and widened for Gather, which takes int32/int64.
    auto& cast = w.Node("Cast", base + ".weight_index_cast",
                        {w.Init(base + ".weight_index", l.codes.to(torch::kByte))},
                        {base + ".weight_index_int32"});
    SetAttribute(cast, "to", int64_t{onnx::TensorProto::INT32});
    w.Node("Gather", base + ".weight_gather",
           {w.Init(base + ".weight_codebook", book), base + ".weight_index_int32"}, {gathered});
    if (!fold) return gathered;
    const torch::Tensor factor = AlongOutput(fold->factor.to(torch::kFloat), axis, rank);
    w.Node("Mul", base + ".weight_fold", {gathered, w.Init(base + ".weight_fold_factor", factor)},
           {base + ".weight_folded"});
    return base + ".weight_folded";
  }
  // Linear: integers q with value q * scale.
  torch::Tensor q = l.codes.to(torch::kDouble) - l.zero_point;
  const int64_t channels = l.shape[static_cast<size_t>(axis)];
  torch::Tensor scale = torch::tensor(l.scales, torch::kDouble);
  if (l.bits == 1) {
    q = q * 2.0;  // (code - 0.5) * 2c = (+-1) * c
    scale = scale / 2.0;
  }
  const bool per_channel = l.scales.size() > 1 || fold.has_value();
  if (per_channel && scale.numel() == 1) scale = scale.expand({channels}).clone();
  if (fold) {
    // Negative factors flip the integers' sign, keeping every scale positive.
    const torch::Tensor sign = torch::where(fold->factor < 0, -torch::ones_like(fold->factor),
                                            torch::ones_like(fold->factor));
    q = q * AlongOutput(sign, axis, rank);
    scale = scale * fold->factor.abs();
  }
  // A zero scale (zero clip) has all-zero values: any positive scale with q = 0.
  const torch::Tensor zero = scale <= 0;
  q = torch::where(per_channel ? AlongOutput(zero, axis, rank) : zero.reshape({}),
                   torch::zeros_like(q), q);
  scale = torch::where(zero, torch::ones_like(scale), scale).to(torch::kFloat);
  const torch::Tensor zp = torch::zeros(scale.sizes(), torch::kChar);
  auto& dq = w.Node("DequantizeLinear", base + ".weight_dequantize",
                    {w.Init(base + ".weight_quantized", q.round().to(torch::kChar)),
                     w.Init(base + ".weight_scale", per_channel ? scale : scale.reshape({})),
                     w.Init(base + ".weight_zero_point", per_channel ? zp : zp.reshape({}))},
                    {base + ".weight_dequantized"});
  if (per_channel) SetAttribute(dq, "axis", axis);
  return base + ".weight_dequantized";
}

// Emits the quantization of layer `l`'s input `x`; returns the name of its output.
std::string EmitInput(GraphWriter& w, const LayerCodes& l, const std::string& x) {
  if (l.a_bits == 0) return x;
  const std::string base = l.name + ".input";
  const float clip = static_cast<float>(l.a_clip);
  if (!(l.a_clip > 0)) {  // everything quantizes to 0
    w.Node("Mul", base + "_zero", {x, w.Scalar(base + "_zero_factor", 0.0f)}, {base + "_quantized"});
    return base + "_quantized";
  }
  if (l.a_signed && l.a_bits == 1) {
    w.Node("GreaterOrEqual", base + "_sign", {x, w.Scalar(base + "_zero", 0.0f)}, {base + "_nonneg"});
    w.Node("Where", base + "_binary",
           {base + "_nonneg", w.Scalar(base + "_high", clip), w.Scalar(base + "_low", -clip)},
           {base + "_quantized"});
    return base + "_quantized";
  }
  const double levels = l.a_signed ? std::ldexp(1.0, l.a_bits - 1) - 1.0 : std::ldexp(1.0, l.a_bits) - 1.0;
  const float scale = static_cast<float>(l.a_clip / levels);
  w.Node("Clip", base + "_clip",
         {x, w.Scalar(base + "_min", l.a_signed ? -clip : 0.0f), w.Scalar(base + "_max", clip)},
         {base + "_clipped"});
  const std::string s = w.Scalar(base + "_scale", scale);
  const std::string zp = w.Init(base + "_zero_point", torch::zeros({}, l.a_signed ? torch::kChar : torch::kByte));
  w.Node("QuantizeLinear", base + "_quantize", {base + "_clipped", s, zp}, {base + "_int"});
  w.Node("DequantizeLinear", base + "_dequantize", {base + "_int", s, zp}, {base + "_quantized"});
  return base + "_quantized";
}

// A float tensor of shape [batch, dims...].
void SetValueInfo(onnx::ValueInfoProto& v, const std::string& name, const std::vector<int64_t>& dims) {
  v.set_name(name);
  auto* tensor = v.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

// Refuses what export cannot write: layer codes of another network, several inputs,
// graphs of an opset whose operators changed meaning before the one written.
void CheckExportable(const graph::Network& net, const std::vector<LayerCodes>& codes) {
  const auto& qlayers = net.quant_layers();
  if (!codes.empty() && codes.size() != qlayers.size()) {
    throw std::logic_error(fmt::format("ExportOnnx: {} layer codes for {} quantizable layers",
                                       codes.size(), qlayers.size()));
  }
  if (net.num_inputs() != 1) {
    throw util::InputError(fmt::format("{}: export takes networks with one (image) input; this "
                                       "one has {}", net.source(), net.num_inputs()));
  }
  if (net.opset() < 11) {
    throw util::InputError(fmt::format(
        "{}: the graph was written for opset {}; export writes opset {} and supports graphs from "
        "opset 11 on (re-export the model from its framework at opset 13)",
        net.source(), net.opset(), kOpset));
  }
  if (net.opset() < kOpset) {
    for (const graph::Node& n : net.nodes()) {
      if (kChangedBefore13.count(n.op_type)) {
        throw util::InputError(fmt::format(
            "{}: node '{}': {} changed meaning between opset {} (the graph's) and {}; re-export "
            "the model from its framework at opset 13",
            net.source(), n.name, n.op_type, net.opset(), kOpset));
      }
    }
  }
}

// Every node of `net`, the quantizable layers' inputs and weights in quantized form
// (with batch norm folded in where asked). Returns the weight initializers replaced.
std::set<int> EmitNodes(const graph::Network& net, const std::vector<LayerCodes>& codes,
                        const OnnxExportOptions& options, GraphWriter& w) {
  const auto& qlayers = net.quant_layers();
  const auto& names = net.value_names();
  const auto& nodes = net.nodes();
  std::vector<std::vector<int>> readers(names.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (int v : nodes[i].inputs) {
      if (v >= 0) readers[static_cast<size_t>(v)].push_back(static_cast<int>(i));
    }
  }
  const std::vector<int>& outputs = net.output_values();
  const std::set<int> graph_outputs(outputs.begin(), outputs.end());
  std::vector<int> layer_of(nodes.size(), -1);
  for (size_t i = 0; i < qlayers.size(); ++i) layer_of[static_cast<size_t>(qlayers[i].node)] = static_cast<int>(i);

  std::set<int> folded_bn;
  std::set<int> replaced;  // weight initializers emitted in quantized form
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (folded_bn.count(static_cast<int>(i))) continue;
    const graph::Node& n = nodes[i];
    std::vector<std::string> in;
    for (int v : n.inputs) in.push_back(v >= 0 ? names[static_cast<size_t>(v)] : "");
    std::vector<std::string> out;
    for (int v : n.outputs) out.push_back(names[static_cast<size_t>(v)]);
    const int li = layer_of[i];
    if (li >= 0 && !codes.empty()) {
      const LayerCodes& l = codes[static_cast<size_t>(li)];
      const std::optional<Fold> fold =
          options.fold_batch_norm ? FindFold(net, static_cast<int>(i), readers, graph_outputs)
                                  : std::nullopt;
      in[0] = EmitInput(w, l, in[0]);
      in[1] = EmitWeight(w, l, OutputAxis(n), fold);
      replaced.insert(n.inputs[1]);
      if (fold) {
        folded_bn.insert(fold->bn_node);
        const graph::Node& bn = nodes[static_cast<size_t>(fold->bn_node)];
        torch::Tensor bias = fold->shift;
        if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
          bias = bias + net.Initializer(n.inputs[2]).detach().to(torch::kDouble) * fold->factor;
        }
        in.resize(3);
        in[2] = w.Init(l.name + ".bias_folded", bias.to(torch::kFloat));
        out = {names[static_cast<size_t>(bn.outputs[0])]};
      }
    }
    onnx::NodeProto& node =
        w.Node(n.op_type, n.name.empty() ? fmt::format("node{}", i) : n.name, in, out);
    for (const auto& [key, value] : n.attrs) SetAttribute(node, key, value);
  }
  return replaced;

}

// The initializers some emitted node still reads, apart from the replaced weights.
void EmitInitializers(const graph::Network& net, const std::set<int>& replaced,
                      onnx::GraphProto& g, GraphWriter& w) {
  const auto& names = net.value_names();
  // Initializers still read by some node.
  std::set<std::string> read;
  for (const auto& node : g.node()) {
    for (const auto& i : node.input()) read.insert(i);
  }
  for (size_t v = 0; v < names.size(); ++v) {
    const int id = static_cast<int>(v);
    if (net.IsInitializer(id) && !replaced.count(id) && read.count(names[v])) {
      w.Init(names[v], net.Initializer(id).to(net.Initializer(id).scalar_type() == torch::kDouble
                                                  ? torch::kFloat
                                                  : net.Initializer(id).scalar_type()));
    }
  }
}

// Shapes: the image input's, and the outputs' from a batch-1 forward pass, with
// the batch dimension symbolic.
void SetGraphShapes(const graph::Network& net, onnx::GraphProto& g) {
  const auto& names = net.value_names();
  const std::vector<int>& outputs = net.output_values();
  std::vector<int64_t> one = {1};
  one.insert(one.end(), net.input_spec().chw.begin(), net.input_spec().chw.end());
  std::vector<torch::Tensor> results;
  {
    torch::NoGradGuard no_grad;
    results = net.ForwardAll({torch::zeros(one)}, /*training=*/false);
  }
  SetValueInfo(*g.add_input(), names[static_cast<size_t>(net.input_values()[0])],
               net.input_spec().chw);
  for (size_t k = 0; k < outputs.size(); ++k) {
    const auto sizes = results[k].sizes().vec();
    SetValueInfo(*g.add_output(), names[static_cast<size_t>(outputs[k])],
                 std::vector<int64_t>(sizes.begin() + (sizes.empty() ? 0 : 1), sizes.end()));
  }

}

}  // namespace

void ExportOnnx(const graph::Network& net, const std::vector<LayerCodes>& codes,
                const std::filesystem::path& path, const OnnxExportOptions& options) {
  CheckExportable(net, codes);
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION_2020_5_8);  // IR 7, the version of opset 13
  model.set_producer_name("haq");
  model.set_producer_version(HAQ_VERSION);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(std::max<int64_t>(kOpset, net.opset()));
  for (const auto& [key, value] : options.metadata) {
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name(net.name());
  GraphWriter w(g);

  const std::set<int> replaced = EmitNodes(net, codes, options, w);
  EmitInitializers(net, replaced, g, w);
  SetGraphShapes(net, g);

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw std::logic_error(fmt::format("the exported model fails ONNX's checker: {}", e.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    throw std::logic_error("the exported model could not be serialised");
  }
  util::WriteFileAtomic(path, bytes);
}

}  // namespace haq::deploy
