#include "graph/network.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "util/error.h"

namespace haq::graph {

// ---------------------------------------------------------------- Node

int64_t Node::Int(const std::string& key, int64_t fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<int64_t>(&it->second)) return *v;
  throw util::InputError(fmt::format("node '{}' ({}): attribute '{}': expected an integer", name,
                                     op_type, key));
}

double Node::Float(const std::string& key, double fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<double>(&it->second)) return *v;
  if (const auto* v = std::get_if<int64_t>(&it->second)) return static_cast<double>(*v);
  throw util::InputError(
      fmt::format("node '{}' ({}): attribute '{}': expected a float", name, op_type, key));
}

std::string Node::String(const std::string& key, const std::string& fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<std::string>(&it->second)) return *v;
  throw util::InputError(
      fmt::format("node '{}' ({}): attribute '{}': expected a string", name, op_type, key));
}

std::vector<int64_t> Node::Ints(const std::string& key, std::vector<int64_t> fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  throw util::InputError(fmt::format("node '{}' ({}): attribute '{}': expected a list of integers",
                                     name, op_type, key));
}

std::vector<double> Node::Floats(const std::string& key, std::vector<double> fallback) const {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (const auto* v = std::get_if<std::vector<double>>(&it->second)) return *v;
  throw util::InputError(fmt::format("node '{}' ({}): attribute '{}': expected a list of floats",
                                     name, op_type, key));
}

const torch::Tensor& Node::TensorAttr(const std::string& key) const {
  const auto it = attrs.find(key);
  if (it != attrs.end()) {
    if (const auto* v = std::get_if<torch::Tensor>(&it->second)) return *v;
  }
  throw util::InputError(
      fmt::format("node '{}' ({}): attribute '{}': expected a tensor", name, op_type, key));
}

// ---------------------------------------------------------------- building

int Network::AddValue(const std::string& name) {
  const auto it = value_ids_.find(name);
  if (it != value_ids_.end()) return it->second;
  const int id = static_cast<int>(value_names_.size());
  value_names_.push_back(name);
  value_ids_[name] = id;
  return id;
}

int Network::ValueId(const std::string& name) const {
  const auto it = value_ids_.find(name);
  return it == value_ids_.end() ? -1 : it->second;
}

void Network::AddInput(int value, std::vector<int64_t> chw) {
  if (inputs_.empty()) input_spec_.chw = std::move(chw);
  inputs_.push_back(value);
}

void Network::AddOutput(int value) { outputs_.push_back(value); }

void Network::set_normalization(std::vector<double> mean, std::vector<double> std) {
  input_spec_.mean = std::move(mean);
  input_spec_.std = std::move(std);
}

void Network::SetInitializer(int value, torch::Tensor tensor, bool trainable, bool buffer) {
  if (trainable) {
    tensor = tensor.detach().requires_grad_(true);
    trainable_.push_back(value);
  } else if (buffer) {
    buffers_.push_back(value);
  }
  initializers_[value] = std::move(tensor);
}

void Network::AddNode(Node node) { nodes_.push_back(std::move(node)); }

const torch::Tensor& Network::Initializer(int value) const {
  const auto it = initializers_.find(value);
  if (it == initializers_.end()) {
    throw std::logic_error("value " + std::to_string(value) + " is not an initializer");
  }
  return it->second;
}

namespace {

bool IsQuantizable(const Network& net, const Node& n) {
  if (n.op_type == "Conv") {
    return n.inputs.size() >= 2 && n.inputs[1] >= 0 && net.IsInitializer(n.inputs[1]) &&
           net.Initializer(n.inputs[1]).dim() <= 4;
  }
  if (n.op_type == "Gemm" || n.op_type == "MatMul") {
    return n.inputs.size() >= 2 && n.inputs[1] >= 0 && net.IsInitializer(n.inputs[1]) &&
           net.Initializer(n.inputs[1]).dim() == 2;
  }
  return false;
}

}  // namespace

// The module path behind a torch.onnx scope name. PyTorch (1.13+) names nodes
// "/features/features.2/conv/conv.0/conv.0.0/Conv": one component per enclosing
// module, each the module's *unqualified* name (its last non-numeric atom and the
// numeric atoms after it). Each component overlaps the path so far at its start:
// "conv.0" after "features.2.conv" adds ".0"; "conv1" after "layer1.0" adds
// ".conv1". Returns "" when `scope` is not such a name.
std::string ModulePathFromScope(const std::string& scope) {
  if (scope.size() < 2 || scope[0] != '/') return "";
  std::vector<std::string> components;
  for (size_t start = 1; start <= scope.size();) {
    const size_t end = std::min(scope.find('/', start), scope.size());
    components.push_back(scope.substr(start, end - start));
    start = end + 1;
  }
  components.pop_back();  // the operator ("Conv", "Conv_3")
  auto split = [](const std::string& s) {
    std::vector<std::string> atoms;
    for (size_t start = 0; start <= s.size();) {
      const size_t end = std::min(s.find('.', start), s.size());
      atoms.push_back(s.substr(start, end - start));
      start = end + 1;
    }
    return atoms;
  };
  std::vector<std::string> path;
  for (const auto& c : components) {
    if (c.empty()) return "";
    const auto atoms = split(c);
    // The longest prefix of `atoms` that the path ends with.
    size_t overlap = 0;
    for (size_t k = std::min(atoms.size(), path.size()); k >= 1; --k) {
      if (std::equal(atoms.begin(), atoms.begin() + static_cast<long>(k),
                     path.end() - static_cast<long>(k))) {
        overlap = k;
        break;
      }
    }
    path.insert(path.end(), atoms.begin() + static_cast<long>(overlap), atoms.end());
  }
  return util::JoinNames(path, ".");
}

namespace {

// A layer's stable name: its module path where the file tells it. PyTorch exports
// name weights "features.0.0.weight", or "onnx::Conv_538" once batch norm is folded,
// and then the node's scope name gives the path.
std::string LayerName(const Network& net, const Node& n, size_t index) {
  std::string w = net.value_names()[static_cast<size_t>(n.inputs[1])];
  if (!w.empty() && w.rfind("onnx::", 0) != 0) {
    if (w.size() > 7 && w.ends_with(".weight")) w.resize(w.size() - 7);
    return w;
  }
  if (std::string path = ModulePathFromScope(n.name); !path.empty()) return path;
  if (!n.name.empty()) return n.name;
  return fmt::format("{}_{}", n.op_type, index);
}

// Records the input and output shapes of quantizable layers during a forward pass.
class ShapeRecorder : public LayerHook {
 public:
  explicit ShapeRecorder(size_t layers) : inputs(layers) {}
  torch::Tensor Weight(size_t, const torch::Tensor& w) override { return w; }
  torch::Tensor Input(size_t layer, const torch::Tensor& x) override {
    inputs[layer] = x.sizes().vec();
    return x;
  }
  std::vector<std::vector<int64_t>> inputs;
};

}  // namespace

void Network::Finalize(const std::string& source) {
  source_ = source;
  if (inputs_.empty() || outputs_.empty()) {
    throw util::InputError(source + ": the graph has no input or no output");
  }
  ResolveKernels(source);
  FindQuantLayers(source);
  // Shapes from a batch-1 forward pass at the declared input size (single-input
  // graphs: the image classifiers this tool quantizes).
  if (input_spec_.chw.empty() || inputs_.size() != 1) return;
  InferLayerShapes(source);
}

void Network::ResolveKernels(const std::string& source) {
  // Kernels and def-before-use.
  std::vector<bool> defined(value_names_.size(), false);
  for (int v : inputs_) defined[static_cast<size_t>(v)] = true;
  for (const auto& [id, t] : initializers_) defined[static_cast<size_t>(id)] = true;
  last_use_.assign(value_names_.size(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    n.kernel = LookupKernel(n.op_type);
    if (!n.kernel) {
      throw util::InputError(fmt::format(
          "{}: node {} '{}': unsupported operator '{}'. Supported: {}", source, i, n.name,
          n.op_type, util::JoinNames(SupportedOperators())));
    }
    for (int v : n.inputs) {
      if (v < 0) continue;
      if (!defined[static_cast<size_t>(v)]) {
        throw util::InputError(fmt::format(
            "{}: node {} '{}' ({}): input '{}' is used before any node produces it", source, i,
            n.name, n.op_type, value_names_[static_cast<size_t>(v)]));
      }
      last_use_[static_cast<size_t>(v)] = static_cast<int>(i);
    }
    for (int v : n.outputs) {
      if (v >= 0) defined[static_cast<size_t>(v)] = true;
    }
  }
  for (int v : outputs_) {
    if (!defined[static_cast<size_t>(v)]) {
      throw util::InputError(fmt::format("{}: no node produces the graph output '{}'", source,
                                         value_names_[static_cast<size_t>(v)]));
    }
  }
}

void Network::FindQuantLayers(const std::string& source) {
  // Quantizable layers, in execution order.
  quant_layers_.clear();
  node_layer_.assign(nodes_.size(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!IsQuantizable(*this, nodes_[i])) continue;
    QuantLayer q;
    q.node = static_cast<int>(i);
    q.weight_value = nodes_[i].inputs[1];
    q.name = LayerName(*this, nodes_[i], i);
    node_layer_[i] = static_cast<int>(quant_layers_.size());
    quant_layers_.push_back(q);
  }
  if (quant_layers_.size() > static_cast<size_t>(hw::kMaxLayers)) {
    throw util::InputError(fmt::format("{}: expected at most {} quantizable layers, got {}",
                                       source, hw::kMaxLayers, quant_layers_.size()));
  }
  // Clips whose one reader is a quantizable layer's input (ReLU6 before a
  // convolution): their clamp may be fused into the layer's input quantizer.
  std::vector<int> readers(value_names_.size(), 0);
  for (const Node& n : nodes_) {
    for (int v : n.inputs) {
      if (v >= 0) ++readers[static_cast<size_t>(v)];
    }
  }
  for (int v : outputs_) ++readers[static_cast<size_t>(v)];
  clamp_feeds_layer_.assign(nodes_.size(), false);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.op_type != "Clip" || n.outputs.empty() || n.outputs[0] < 0) continue;
    const int v = n.outputs[0];
    if (readers[static_cast<size_t>(v)] != 1) continue;
    const int reader = last_use_[static_cast<size_t>(v)];
    if (reader >= 0 && node_layer_[static_cast<size_t>(reader)] >= 0 &&
        nodes_[static_cast<size_t>(reader)].inputs[0] == v) {
      clamp_feeds_layer_[i] = true;
    }
  }
  // Names must be unique for policies to address layers.
  std::set<std::string> seen;
  for (auto& q : quant_layers_) {
    if (!seen.insert(q.name).second) q.name = fmt::format("{}#{}", q.name, q.node);
  }
}

void Network::InferLayerShapes(const std::string& source) {
  // Resource guard: one image of at most 2^26 values (a 4096x4096 RGB image is 2^25.6).
  int64_t values = 1;
  for (int64_t d : input_spec_.chw) {
    if (d < 1 || __builtin_mul_overflow(values, d, &values) || values > kMaxInputValues) {
      throw util::InputError(fmt::format(
          "{}: input {}: expected positive sizes with at most 2^26 values per image", source,
          fmt::join(input_spec_.chw, "x")));
    }
  }
  std::vector<int64_t> shape = {1};
  shape.insert(shape.end(), input_spec_.chw.begin(), input_spec_.chw.end());
  ShapeRecorder recorder(quant_layers_.size());
  std::vector<std::vector<int64_t>> outputs(quant_layers_.size());
  {
    torch::NoGradGuard no_grad;
    ExecContext ctx(*this, /*training=*/false, &recorder);
    ctx.values()[static_cast<size_t>(inputs_[0])] = torch::zeros(shape);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      ctx.current_node = static_cast<int>(i);
      try {
        nodes_[i].kernel(nodes_[i], ctx);
      } catch (const c10::Error& e) {
        // LibTorch refusing the node (shapes that do not fit, memory): a property of
        // the model, reported as such.
        const std::string what = e.what_without_backtrace();
        throw util::InputError(fmt::format(
            "{}: node '{}' ({}) fails on a {} input: {}", source, nodes_[i].name,
            nodes_[i].op_type, fmt::join(shape, "x"), what.substr(0, what.find('\n'))));
      }
      if (node_layer_[i] >= 0) {
        outputs[static_cast<size_t>(node_layer_[i])] =
            ctx.values()[static_cast<size_t>(nodes_[i].outputs[0])].sizes().vec();
      }
    }
  }
  for (size_t l = 0; l < quant_layers_.size(); ++l) {
    QuantLayer& q = quant_layers_[l];
    const Node& n = nodes_[static_cast<size_t>(q.node)];
    const torch::Tensor& w = initializers_.at(q.weight_value);
    const auto& in = recorder.inputs[l];
    const auto& out = outputs[l];
    hw::LayerShape s;
    s.name = q.name;
    s.batch = 1;
    s.is_first = l == 0;
    if (n.op_type == "Conv") {
      const int64_t groups = n.Int("group", 1);
      const auto strides = n.Ints("strides");
      s.in_channels = in.at(1);
      s.out_channels = w.size(0);
      s.groups = groups;
      s.kind = (groups > 1 && groups == s.in_channels && s.in_channels == s.out_channels)
                   ? hw::LayerKind::kDepthwise
                   : hw::LayerKind::kConv;
      if (w.dim() == 4) {
        s.kernel_h = w.size(2);
        s.kernel_w = w.size(3);
        s.stride_h = strides.size() > 0 ? strides[0] : 1;
        s.stride_w = strides.size() > 1 ? strides[1] : 1;
        s.in_h = in.at(2);
        s.in_w = in.at(3);
        s.out_h = out.at(2);
        s.out_w = out.at(3);
      } else if (w.dim() == 3) {  // 1-D conv: a 1 x k kernel
        s.kernel_w = w.size(2);
        s.stride_w = strides.empty() ? 1 : strides[0];
        s.in_w = in.at(2);
        s.out_w = out.at(2);
      }
    } else {
      // Gemm (with transB) or MatMul: [K, N] or [N, K].
      const bool trans_b = n.op_type == "Gemm" && n.Int("transB", 0) != 0;
      s.kind = hw::LayerKind::kFc;
      s.in_channels = trans_b ? w.size(1) : w.size(0);
      s.out_channels = trans_b ? w.size(0) : w.size(1);
    }
    q.shape = s;
  }
}

// ---------------------------------------------------------------- running

ExecContext::ExecContext(const Network& net, bool training, LayerHook* hook)
    : net_(net),
      training_(training),
      hook_(hook),
      values_(net.value_names_.size()),
      deferred_clamp_(net.value_names_.size()) {
  for (const auto& [id, t] : net.initializers_) values_[static_cast<size_t>(id)] = t;
}

bool ExecContext::HasIn(const Node& node, size_t i) const {
  return i < node.inputs.size() && node.inputs[i] >= 0 &&
         values_[static_cast<size_t>(node.inputs[i])].defined();
}

const torch::Tensor& ExecContext::In(const Node& node, size_t i) const {
  if (!HasIn(node, i)) {
    throw util::InputError(fmt::format("{}: node '{}' ({}): required input {} is missing",
                                       net_.source_, node.name, node.op_type, i));
  }
  return values_[static_cast<size_t>(node.inputs[i])];
}

void ExecContext::Out(const Node& node, size_t i, torch::Tensor value) {
  if (i < node.outputs.size() && node.outputs[i] >= 0) {
    values_[static_cast<size_t>(node.outputs[i])] = std::move(value);
  }
}

torch::Tensor ExecContext::LayerWeight(const Node&, const torch::Tensor& w) {
  const int layer = net_.node_layer_[static_cast<size_t>(current_node)];
  return (hook_ && layer >= 0) ? hook_->Weight(static_cast<size_t>(layer), w) : w;
}

torch::Tensor ExecContext::LayerInput(const Node& node) {
  const torch::Tensor& x = In(node, 0);
  const int layer = net_.node_layer_[static_cast<size_t>(current_node)];
  if (!hook_ || layer < 0) return x;
  const int v = node.inputs[0];
  if (deferred_clamp_[static_cast<size_t>(v)].deferred) {
    const Clamp c = deferred_clamp_[static_cast<size_t>(v)];
    deferred_clamp_[static_cast<size_t>(v)] = {};
    return hook_->ClampedInput(static_cast<size_t>(layer), x, c.lo, c.hi);
  }
  return hook_->Input(static_cast<size_t>(layer), x);
}

bool ExecContext::DeferClamp(const Node& node, const torch::Tensor& x, double lo, double hi) {
  if (!hook_ || !net_.clamp_feeds_layer_[static_cast<size_t>(current_node)]) return false;
  const int v = node.outputs[0];
  values_[static_cast<size_t>(v)] = x;
  deferred_clamp_[static_cast<size_t>(v)] = {true, lo, hi};
  return true;
}

torch::Tensor ExecContext::Mutable(int value) const { return net_.initializers_.at(value); }

torch::Tensor Network::Forward(const torch::Tensor& input, bool training, LayerHook* hook) const {
  if (inputs_.size() != 1 || outputs_.size() != 1) {
    throw util::InputError(fmt::format("{}: expected a graph with one input and one output, got {} "
                                       "and {}",
                                       source_, inputs_.size(), outputs_.size()));
  }
  return ForwardAll({input}, training, hook)[0];
}

std::vector<torch::Tensor> Network::ForwardAll(const std::vector<torch::Tensor>& inputs,
                                               bool training, LayerHook* hook) const {
  if (inputs.size() != inputs_.size()) {
    throw util::InputError(fmt::format("{}: expected {} input tensors, got {}", source_,
                                       inputs_.size(), inputs.size()));
  }
  ExecContext ctx(*this, training, hook);
  auto& values = ctx.values();
  for (size_t i = 0; i < inputs.size(); ++i) values[static_cast<size_t>(inputs_[i])] = inputs[i];
  std::vector<bool> keep(values.size(), false);
  for (int v : outputs_) keep[static_cast<size_t>(v)] = true;
  for (const auto& [id, t] : initializers_) keep[static_cast<size_t>(id)] = true;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    ctx.current_node = static_cast<int>(i);
    n.kernel(n, ctx);
    // Drop intermediate values after their last use to bound memory.
    for (int v : n.inputs) {
      if (v >= 0 && !keep[static_cast<size_t>(v)] &&
          last_use_[static_cast<size_t>(v)] == static_cast<int>(i)) {
        values[static_cast<size_t>(v)] = torch::Tensor();
      }
    }
  }
  std::vector<torch::Tensor> out;
  for (int v : outputs_) out.push_back(values[static_cast<size_t>(v)]);
  return out;
}

// ---------------------------------------------------------------- inspection

std::vector<hw::LayerShape> Network::LayerShapes(int64_t batch) const {
  std::vector<hw::LayerShape> shapes;
  for (const auto& q : quant_layers_) {
    hw::LayerShape s = q.shape;
    s.batch = batch;
    shapes.push_back(s);
  }
  return shapes;
}

std::vector<torch::Tensor> Network::Parameters() const {
  std::vector<torch::Tensor> out;
  for (int v : trainable_) out.push_back(initializers_.at(v));
  return out;
}

bool Network::IsLayerWeight(int value) const {
  return std::any_of(quant_layers_.begin(), quant_layers_.end(),
                     [value](const QuantLayer& q) { return q.weight_value == value; });
}

std::vector<torch::Tensor> Network::ParametersWhere(bool layer_weights) const {
  std::vector<torch::Tensor> out;
  for (int v : trainable_) {
    if (IsLayerWeight(v) == layer_weights) out.push_back(initializers_.at(v));
  }
  return out;
}

std::map<std::string, torch::Tensor> Network::StateDict() const {
  std::map<std::string, torch::Tensor> out;
  for (int v : trainable_) out[value_names_[static_cast<size_t>(v)]] = initializers_.at(v);
  for (int v : buffers_) out[value_names_[static_cast<size_t>(v)]] = initializers_.at(v);
  return out;
}

void Network::LoadStateDict(const std::map<std::string, torch::Tensor>& state,
                            const std::string& source) {
  const auto mine = StateDict();
  for (const auto& [name, tensor] : state) {
    if (!mine.count(name)) {
      std::vector<std::string> names;
      for (const auto& [n, t] : mine) names.push_back(n);
      throw util::InputError(fmt::format("{}: tensor '{}' is not in model '{}'{}", source, name,
                                         name_, util::DidYouMean(name, names)));
    }
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, dst] : mine) {
    const auto it = state.find(name);
    if (it == state.end()) {
      throw util::InputError(
          fmt::format("{}: tensor '{}' of model '{}' is missing", source, name, name_));
    }
    if (it->second.sizes() != dst.sizes()) {
      throw util::InputError(fmt::format("{}: tensor '{}': expected shape {}, got {}", source, name,
                                         fmt::join(dst.sizes(), "x"),
                                         fmt::join(it->second.sizes(), "x")));
    }
    dst.copy_(it->second);
  }
}

Network Network::Clone() const {
  Network copy = *this;
  for (auto& [id, t] : copy.initializers_) {
    const bool grad = t.requires_grad();
    t = t.detach().clone();
    if (grad) t.requires_grad_(true);
  }
  return copy;
}

}  // namespace haq::graph
