#pragma once
/// A CNN as a graph of ONNX-style nodes over LibTorch tensors: built from an ONNX
/// file (onnx_import.h) or from the zoo (zoo.h), run forward and backward, and
/// enumerated for its quantizable layers. One executor serves imported and zoo
/// networks alike, so everything downstream (quantization, training, export) sees
/// one kind of network.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "hw/layer_shape.h"

namespace haq::graph {

/// An ONNX attribute value.
using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                               std::vector<double>, torch::Tensor>;

struct Node;
class ExecContext;
/// Runs one node: reads its inputs from, and writes its outputs to, the context.
using Kernel = void (*)(const Node& node, ExecContext& ctx);

struct Node {
  std::string name;     ///< ONNX node name (may be empty in files; then synthesised)
  std::string op_type;  ///< ONNX operator, e.g. "Conv"
  std::vector<int> inputs;   ///< value ids; -1 for an absent optional input
  std::vector<int> outputs;  ///< value ids
  std::map<std::string, AttrValue> attrs;
  Kernel kernel = nullptr;  ///< resolved from op_type when the network is finalised

  bool Has(const std::string& key) const { return attrs.count(key) != 0; }
  int64_t Int(const std::string& key, int64_t fallback) const;
  double Float(const std::string& key, double fallback) const;
  std::string String(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> Ints(const std::string& key, std::vector<int64_t> fallback = {}) const;
  std::vector<double> Floats(const std::string& key, std::vector<double> fallback = {}) const;
  const torch::Tensor& TensorAttr(const std::string& key) const;
};

/// Lets a caller transform a quantizable layer's weight and input during a forward
/// pass (fake quantization); `layer` indexes QuantizableLayers().
class LayerHook {
 public:
  virtual ~LayerHook() = default;
  virtual torch::Tensor Weight(size_t layer, const torch::Tensor& weight) = 0;
  virtual torch::Tensor Input(size_t layer, const torch::Tensor& input) = 0;
  /// The input of `layer` when it is hardtanh(input, lo, hi) (a Clip with both
  /// bounds, such as ReLU6, whose only reader is this layer): the executor leaves
  /// the clamp to the hook, which may fuse it into its own pass over the input.
  /// Must equal Input(layer, torch::hardtanh(input, lo, hi)) in values and
  /// gradients; that is the default.
  virtual torch::Tensor ClampedInput(size_t layer, const torch::Tensor& input, double lo, double hi) {
    return Input(layer, torch::hardtanh(input, lo, hi));
  }
};

/// A quantizable layer: Conv, or Gemm/MatMul whose weight is an initializer.
struct QuantLayer {
  int node = -1;             ///< index into Network::nodes()
  std::string name;          ///< stable name (module path where known)
  int weight_value = -1;     ///< value id of the weight initializer
  hw::LayerShape shape;      ///< at the network's input size, batch 1
};

/// The largest input Network::Finalize accepts: values per image (C x H x W).
inline constexpr int64_t kMaxInputValues = int64_t{1} << 26;

/// Where the network's tensors come from and how inputs are prepared.
struct InputSpec {
  std::vector<int64_t> chw;  ///< channels, height, width of one image
  std::vector<double> mean;  ///< per-channel normalisation (x/255 - mean) / std
  std::vector<double> std;
};

class Network {
 public:
  Network() = default;

  // --- building (used by the ONNX importer and the zoo builder) ---
  int AddValue(const std::string& name);
  int ValueId(const std::string& name) const;  ///< -1 if unknown
  /// Declares a graph input. The first one is the image input: `chw` (channels,
  /// height, width of one example) sizes the shape-enumeration pass; further inputs
  /// (multi-input graphs, as in ONNX node tests) are fed by ForwardAll.
  void AddInput(int value, std::vector<int64_t> chw);
  void AddOutput(int value);
  /// A constant or parameter tensor. `trainable` tensors get gradients; `buffer`
  /// tensors (batch-norm statistics) change in training mode but get no gradients.
  void SetInitializer(int value, torch::Tensor tensor, bool trainable, bool buffer = false);
  void AddNode(Node node);
  /// Resolves kernels (throwing util::InputError naming the operator, the node and
  /// `source` for an unsupported one), checks that every input is defined before
  /// use, and enumerates the quantizable layers with a batch-1 forward pass.
  void Finalize(const std::string& source);

  // --- running ---
  /// Forward pass. In training mode batch norm uses batch statistics and updates
  /// its running statistics. `hook` (optional) transforms quantizable layers.
  torch::Tensor Forward(const torch::Tensor& input, bool training,
                        LayerHook* hook = nullptr) const;
  /// All graph inputs in, all graph outputs out (declaration order).
  std::vector<torch::Tensor> ForwardAll(const std::vector<torch::Tensor>& inputs, bool training,
                                        LayerHook* hook = nullptr) const;
  size_t num_inputs() const { return inputs_.size(); }
  /// Value ids of the graph inputs, in declaration order.
  const std::vector<int>& input_values() const { return inputs_; }
  size_t num_outputs() const { return outputs_.size(); }
  /// Value ids of the graph outputs, in declaration order.
  const std::vector<int>& output_values() const { return outputs_; }

  // --- inspection ---
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const std::string& source() const { return source_; }
  /// The ONNX default-domain opset the graph was written for (zoo: 13).
  int64_t opset() const { return opset_; }
  void set_opset(int64_t opset) { opset_ = opset; }
  const InputSpec& input_spec() const { return input_spec_; }
  void set_normalization(std::vector<double> mean, std::vector<double> std);
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<std::string>& value_names() const { return value_names_; }
  const std::vector<QuantLayer>& quant_layers() const { return quant_layers_; }
  /// Layer shapes of the quantizable layers at `batch` (and the model's input size).
  std::vector<hw::LayerShape> LayerShapes(int64_t batch) const;
  /// The tensor of an initializer (constant, parameter or buffer).
  const torch::Tensor& Initializer(int value) const;
  bool IsInitializer(int value) const { return initializers_.count(value) != 0; }
  /// Trainable tensors, in a stable order (initializer order).
  std::vector<torch::Tensor> Parameters() const;
  /// True if `value` is the weight of a quantizable layer (these get weight decay).
  bool IsLayerWeight(int value) const;
  /// Trainable tensors that are (true) or are not (false) quantizable-layer weights.
  std::vector<torch::Tensor> ParametersWhere(bool layer_weights) const;

  /// All parameters and buffers by name (a state dict), sharing storage.
  std::map<std::string, torch::Tensor> StateDict() const;
  /// Copies values into this network's tensors. Throws util::InputError if a name
  /// is missing, unknown or has another shape (naming `source`).
  void LoadStateDict(const std::map<std::string, torch::Tensor>& state, const std::string& source);
  /// A deep copy: same graph, tensors cloned.
  Network Clone() const;

 private:
  // The steps of Finalize: kernels and def-before-use; the quantizable layers and
  // their unique names; their shapes from a batch-1 forward pass.
  void ResolveKernels(const std::string& source);
  void FindQuantLayers(const std::string& source);
  void InferLayerShapes(const std::string& source);

  friend class ExecContext;
  std::string name_;
  std::string source_;
  int64_t opset_ = 13;
  std::vector<std::string> value_names_;
  std::map<std::string, int> value_ids_;
  std::vector<Node> nodes_;
  std::vector<int> inputs_;   ///< value ids of graph inputs
  std::vector<int> outputs_;  ///< value ids of graph outputs
  InputSpec input_spec_;
  std::map<int, torch::Tensor> initializers_;
  std::vector<int> trainable_;  ///< value ids
  std::vector<int> buffers_;    ///< value ids
  std::vector<QuantLayer> quant_layers_;
  std::vector<int> node_layer_;  ///< node index -> quant layer index or -1
  std::vector<int> last_use_;    ///< value id -> index of the last node reading it
  /// node index -> true for a Clip whose output is read once, as a quantizable
  /// layer's input, and is no graph output: its clamp may be left to the hook.
  std::vector<bool> clamp_feeds_layer_;
};

/// The state of one forward pass: values by id.
class ExecContext {
 public:
  ExecContext(const Network& net, bool training, LayerHook* hook);
  /// Input `i` of `node` (throws if absent and `required`).
  const torch::Tensor& In(const Node& node, size_t i) const;
  bool HasIn(const Node& node, size_t i) const;
  void Out(const Node& node, size_t i, torch::Tensor value);
  bool training() const { return training_; }
  /// For quantizable nodes: the weight as the hook wants it, and input 0 as the
  /// hook wants it (with a clamp DeferClamp left to it applied).
  torch::Tensor LayerWeight(const Node& node, const torch::Tensor& w);
  torch::Tensor LayerInput(const Node& node);
  /// Called by Clip (the current node) with both bounds: when a hook runs and the
  /// Clip's only reader is a quantizable layer, stores x unclamped as the output
  /// with the clamp deferred to that layer's LayerInput (LayerHook::ClampedInput)
  /// and returns true; otherwise returns false and Clip computes its output.
  bool DeferClamp(const Node& node, const torch::Tensor& x, double lo, double hi);
  /// Initializer tensors may be modified in place (batch-norm running stats).
  torch::Tensor Mutable(int value) const;
  const Network& net() const { return net_; }
  std::vector<torch::Tensor>& values() { return values_; }
  int current_node = -1;

 private:
  const Network& net_;
  bool training_;
  LayerHook* hook_;
  std::vector<torch::Tensor> values_;
  struct Clamp {
    bool deferred = false;
    double lo = 0, hi = 0;
  };
  std::vector<Clamp> deferred_clamp_;  ///< value id -> the clamp DeferClamp left
};

/// The module path ("features.2.conv.0.0") behind a torch.onnx scope-path node
/// name ("/features/features.2/conv/conv.0/conv.0.0/Conv"); "" if it is not one.
std::string ModulePathFromScope(const std::string& scope);

/// The kernel for an ONNX operator, or nullptr if unsupported.
Kernel LookupKernel(const std::string& op_type);
/// Operators the executor supports, sorted.
std::vector<std::string> SupportedOperators();

}  // namespace haq::graph
