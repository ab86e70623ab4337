#include "graph/onnx_import.h"

#include <fmt/format.h>
// ONNX_ML is defined for haq_core: Debian's libonnx ships only the onnx-ml classes.
#include <onnx/onnx_pb.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "util/error.h"
#include "util/file.h"

namespace haq::graph {

namespace {

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; this importer copies it as is");

struct ElementType {
  torch::ScalarType stored;  // how the bytes are laid out
  size_t bytes;              // size of one stored element
};

// Supported ONNX element types (TensorProto.DataType) and their storage.
std::optional<ElementType> ElementTypeOf(int32_t data_type) {
  switch (data_type) {
    case onnx::TensorProto::FLOAT: return ElementType{torch::kFloat, 4};
    case onnx::TensorProto::DOUBLE: return ElementType{torch::kDouble, 8};
    case onnx::TensorProto::FLOAT16: return ElementType{torch::kHalf, 2};
    case onnx::TensorProto::INT64: return ElementType{torch::kLong, 8};
    case onnx::TensorProto::INT32: return ElementType{torch::kInt, 4};
    case onnx::TensorProto::INT16: return ElementType{torch::kShort, 2};
    case onnx::TensorProto::INT8: return ElementType{torch::kChar, 1};
    case onnx::TensorProto::UINT8: return ElementType{torch::kByte, 1};
    case onnx::TensorProto::BOOL: return ElementType{torch::kBool, 1};
    default: return std::nullopt;
  }
}

std::string DataTypeName(int32_t data_type) {
  const std::string name = onnx::TensorProto::DataType_IsValid(data_type)
                               ? onnx::TensorProto::DataType_Name(
                                     static_cast<onnx::TensorProto::DataType>(data_type))
                               : std::string();
  return name.empty() ? fmt::format("unknown type {}", data_type)
                      : fmt::format("{} ({})", name, data_type);
}

std::string DimsText(const google::protobuf::RepeatedField<int64_t>& dims) {
  return fmt::format("[{}]", fmt::join(dims.begin(), dims.end(), ", "));
}

// Copies `count` values of a typed repeated field into a fresh tensor of `dtype`.
template <typename Field>
torch::Tensor FromField(const Field& field, const std::vector<int64_t>& shape,
                        torch::ScalarType dtype) {
  using Value = typename Field::value_type;
  std::vector<Value> values(field.begin(), field.end());
  torch::Tensor t = torch::from_blob(values.data(), {static_cast<int64_t>(values.size())},
                                     torch::CppTypeToScalarType<Value>::value);
  return t.to(dtype).reshape(shape).clone();
}

// `where` names the tensor for messages: "FILE: initializer 'w'".
torch::Tensor TensorFromProto(const onnx::TensorProto& proto, const std::string& where) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL || proto.external_data_size() > 0) {
    std::string location;
    for (const auto& entry : proto.external_data()) {
      if (entry.key() == "location") location = entry.value();
    }
    throw util::InputError(fmt::format(
        "{}: the data is stored in an external file ('{}'); expected it inside the model "
        "file: re-export the model without external data",
        where, location));
  }
  if (proto.has_segment()) {
    throw util::InputError(where + ": segmented tensors are not supported");
  }
  const auto type = ElementTypeOf(proto.data_type());
  if (!type) {
    throw util::InputError(fmt::format(
        "{}: data type {} is not supported; expected FLOAT, DOUBLE, FLOAT16, INT64, INT32, "
        "INT16, INT8, UINT8 or BOOL",
        where, DataTypeName(proto.data_type())));
  }
  // Element count, refusing negative and absurd dimensions before allocating. The
  // bound applies to the product of the non-zero dimensions: an empty tensor of shape
  // (0, 2^62, 2^62) would still overflow LibTorch's stride arithmetic.
  std::vector<int64_t> shape;
  int64_t count = 1;
  int64_t extent = 1;  // product of the non-zero dimensions
  for (int i = 0; i < proto.dims_size(); ++i) {
    const int64_t d = proto.dims(i);
    if (d < 0) {
      throw util::InputError(fmt::format("{}: dims {}: dimension {} is {}; expected a size >= 0",
                                         where, DimsText(proto.dims()), i, d));
    }
    if (d > 0 && extent > kMaxOnnxTensorElements / d) {
      throw util::InputError(fmt::format(
          "{}: dims {} declare more than {} elements; expected a plausible tensor size", where,
          DimsText(proto.dims()), kMaxOnnxTensorElements));
    }
    if (d > 0) extent *= d;
    count *= d;
    shape.push_back(d);
  }
  torch::Tensor t;
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const int64_t expected = count * static_cast<int64_t>(type->bytes);
    if (static_cast<int64_t>(raw.size()) != expected) {
      throw util::InputError(fmt::format(
          "{}: dims {} declare {} elements of {} ({} bytes) but raw_data has {} bytes", where,
          DimsText(proto.dims()), count, DataTypeName(proto.data_type()), expected, raw.size()));
    }
    t = torch::empty(shape, type->stored);
    if (!raw.empty()) std::memcpy(t.data_ptr(), raw.data(), raw.size());
    if (type->stored == torch::kBool) {
      // Any non-zero byte is true; normalise so the storage holds only 0 and 1.
      t = t.view(torch::kByte).ne(0);
    }
  } else {
    const auto check = [&](const std::string& field, int size) {
      if (size != count) {
        throw util::InputError(
            fmt::format("{}: dims {} declare {} elements of {} but {} has {} values", where,
                        DimsText(proto.dims()), count, DataTypeName(proto.data_type()), field,
                        size));
      }
    };
    switch (proto.data_type()) {
      case onnx::TensorProto::FLOAT:
        check("float_data", proto.float_data_size());
        t = FromField(proto.float_data(), shape, torch::kFloat);
        break;
      case onnx::TensorProto::DOUBLE:
        check("double_data", proto.double_data_size());
        t = FromField(proto.double_data(), shape, torch::kDouble);
        break;
      case onnx::TensorProto::INT64:
        check("int64_data", proto.int64_data_size());
        t = FromField(proto.int64_data(), shape, torch::kLong);
        break;
      case onnx::TensorProto::FLOAT16: {
        // int32_data holds the 16-bit patterns.
        check("int32_data", proto.int32_data_size());
        std::vector<int16_t> bits;
        for (const int32_t v : proto.int32_data()) bits.push_back(static_cast<int16_t>(v));
        t = torch::from_blob(bits.data(), shape, torch::kShort).clone().view(torch::kHalf);
        break;
      }
      default:  // INT32, INT16, INT8, UINT8, BOOL: values in int32_data
        check("int32_data", proto.int32_data_size());
        t = FromField(proto.int32_data(), shape, type->stored);
        break;
    }
  }
  // The executor computes in single precision.
  if (t.scalar_type() == torch::kDouble || t.scalar_type() == torch::kHalf) t = t.to(torch::kFloat);
  return t;
}

// ------------------------------------------------------------ attributes

// Converts a supported attribute; nullopt for types the executor has no use for.
std::optional<AttrValue> ConvertAttribute(const onnx::AttributeProto& a, const std::string& where) {
  using A = onnx::AttributeProto;
  auto type = a.type();
  if (type == A::UNDEFINED) {  // old writers: infer from the field that is set
    if (a.has_f()) type = A::FLOAT;
    else if (a.has_i()) type = A::INT;
    else if (a.has_s()) type = A::STRING;
    else if (a.has_t()) type = A::TENSOR;
    else if (a.floats_size() > 0) type = A::FLOATS;
    else if (a.ints_size() > 0) type = A::INTS;
  }
  switch (type) {
    case A::INT: return AttrValue(static_cast<int64_t>(a.i()));
    case A::FLOAT: return AttrValue(static_cast<double>(a.f()));
    case A::STRING: return AttrValue(a.s());
    case A::INTS: return AttrValue(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case A::FLOATS: return AttrValue(std::vector<double>(a.floats().begin(), a.floats().end()));
    case A::TENSOR: return AttrValue(TensorFromProto(a.t(), where));
    default: return std::nullopt;
  }
}

std::string AttributeTypeName(const onnx::AttributeProto& a) {
  const std::string name = onnx::AttributeProto::AttributeType_Name(a.type());
  return name.empty() ? fmt::format("type {}", static_cast<int>(a.type())) : name;
}

// ------------------------------------------------------------ initializer roles

enum class Role { kConstant = 0, kBuffer = 1, kTrainable = 2 };

// The role of the tensor at input `index` of an `op` node.
Role InputRole(const std::string& op, int index) {
  if (op == "Conv" && (index == 1 || index == 2)) return Role::kTrainable;
  if (op == "Gemm" && (index == 1 || index == 2)) return Role::kTrainable;
  if (op == "MatMul" && index == 1) return Role::kTrainable;
  if (op == "BatchNormalization") {
    if (index == 1 || index == 2) return Role::kTrainable;
    if (index == 3 || index == 4) return Role::kBuffer;
  }
  return Role::kConstant;
}

// C, H, W of the first graph input, from the file or from the options.
std::vector<int64_t> InputChw(const std::string& path, const onnx::ValueInfoProto& input,
                              const OnnxImportOptions& options) {
  const bool has_shape =
      input.type().has_tensor_type() && input.type().tensor_type().has_shape();
  const auto& dims = input.type().tensor_type().shape().dim();
  if (!options.input_chw.empty()) {
    if (has_shape && static_cast<size_t>(dims.size()) != options.input_chw.size() + 1) {
      throw util::InputError(fmt::format(
          "{}: graph input '{}': --input gives {} dimensions ({}) but the input has {} "
          "(a batch dimension and {} more); expected {} values",
          path, input.name(), options.input_chw.size(), fmt::join(options.input_chw, ","),
          dims.size(), std::max(0, dims.size() - 1), std::max(0, dims.size() - 1)));
    }
    std::vector<int64_t> chw = options.input_chw;
    for (size_t i = 0; i < chw.size(); ++i) {
      // 0: the file's own fixed size (the channel count when --input gives H x W).
      const int file_dim = static_cast<int>(i) + 1;
      if (chw[i] == 0 && has_shape && dims.Get(file_dim).has_dim_value()) {
        chw[i] = dims.Get(file_dim).dim_value();
      }
      if (chw[i] <= 0) {
        throw util::InputError(fmt::format(
            "{}: graph input '{}': dimension {} is {}; expected a positive size{}", path,
            input.name(), file_dim, chw[i] == 0 ? "not fixed in the file" : std::to_string(chw[i]),
            chw[i] == 0 ? " (only height and width can be given, with --input HxW)" : ""));
      }
    }
    return chw;
  }
  if (!has_shape) {
    throw util::InputError(fmt::format(
        "{}: graph input '{}' has no shape in the file; expected a shape with fixed sizes",
        path, input.name()));
  }
  std::vector<int64_t> chw;
  for (int i = 1; i < dims.size(); ++i) {
    const auto& d = dims.Get(i);
    if (!d.has_dim_value()) {
      throw util::InputError(fmt::format(
          "{}: graph input '{}': dimension {} is symbolic ('{}'), expected a fixed size; pass "
          "--input HxW to give the height and width",
          path, input.name(), i, d.has_dim_param() ? d.dim_param() : std::string("?")));
    }
    if (d.dim_value() <= 0) {
      throw util::InputError(fmt::format("{}: graph input '{}': dimension {} is {}; expected "
                                         "a positive size",
                                         path, input.name(), i, d.dim_value()));
    }
    chw.push_back(d.dim_value());
  }
  return chw;
}

onnx::ModelProto ParseModel(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxOnnxBytes) {
    throw util::InputError(fmt::format(
        "{}: the file is {} bytes; expected at most {} (2 GiB, the protobuf limit)", path, size,
        kMaxOnnxBytes));
  }
  const std::string bytes = util::ReadFile(path, kMaxOnnxBytes);
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    throw util::InputError(
        path + ": not a valid ONNX model: the protobuf data is truncated or corrupt");
  }
  if (model.ir_version() <= 0) {
    throw util::InputError(path + ": not a valid ONNX model: ir_version is missing");
  }
  if (!model.has_graph()) {
    throw util::InputError(path + ": not a valid ONNX model: it has no graph");
  }
  return model;
}

}  // namespace

Network ImportOnnx(const std::string& path, const OnnxImportOptions& options) {
  const onnx::ModelProto model = ParseModel(path);
  int64_t opset = -1;
  for (const auto& entry : model.opset_import()) {
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = entry.version();
  }
  if (opset <= 0) {
    throw util::InputError(
        path + ": not a valid ONNX model: it has no opset_import for the default ONNX domain");
  }
  const onnx::GraphProto& graph = model.graph();
  if (graph.sparse_initializer_size() > 0) {
    throw util::InputError(fmt::format("{}: sparse initializer '{}' is not supported; expected "
                                       "dense initializers",
                                       path, graph.sparse_initializer(0).values().name()));
  }

  Network net;
  net.set_name(fs::path(path).stem().string());
  net.set_opset(opset);

  // Roles of initializers, from how nodes use them.
  std::map<std::string, Role> roles;
  for (const auto& node : graph.node()) {
    for (int i = 0; i < node.input_size(); ++i) {
      Role& r = roles[node.input(i)];
      r = std::max(r, InputRole(node.op_type(), i));
    }
  }

  // Graph inputs that are not initializers, in declaration order.
  std::set<std::string> initializer_names;
  for (const auto& init : graph.initializer()) {
    if (!initializer_names.insert(init.name()).second) {
      throw util::InputError(
          fmt::format("{}: initializer '{}' is defined more than once", path, init.name()));
    }
  }
  for (const auto& input : graph.input()) {
    if (initializer_names.count(input.name())) continue;
    const int id = net.AddValue(input.name());
    // The first input is the image: its size drives Finalize's shape pass, which
    // feeds it float zeros. A first input of another element type (token indices,
    // say) gets no size, and so no shape pass.
    const int32_t elem_type = input.type().tensor_type().elem_type();
    const bool is_image = net.num_inputs() == 0 &&
                          (elem_type == onnx::TensorProto::UNDEFINED ||
                           elem_type == onnx::TensorProto::FLOAT ||
                           elem_type == onnx::TensorProto::FLOAT16 ||
                           elem_type == onnx::TensorProto::DOUBLE);
    net.AddInput(id, is_image ? InputChw(path, input, options) : std::vector<int64_t>{});
  }

  for (const auto& init : graph.initializer()) {
    torch::Tensor t = TensorFromProto(init, fmt::format("{}: initializer '{}'", path, init.name()));
    const auto it = roles.find(init.name());
    const Role role = it == roles.end() ? Role::kConstant : it->second;
    const bool is_float = t.is_floating_point();
    net.SetInitializer(net.AddValue(init.name()), std::move(t),
                       is_float && role == Role::kTrainable, is_float && role == Role::kBuffer);
  }

  std::set<std::string> node_names;
  for (const auto& node : graph.node()) {
    if (!node.name().empty()) node_names.insert(node.name());
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& proto = graph.node(i);
    Node n;
    n.op_type = proto.op_type();
    n.name = proto.name();
    if (n.name.empty()) {
      n.name = fmt::format("{}_{}", n.op_type, i);
      while (node_names.count(n.name)) n.name += "_";
      node_names.insert(n.name);
    }
    if (!proto.domain().empty() && proto.domain() != "ai.onnx") {
      throw util::InputError(fmt::format(
          "{}: node {} '{}': operator '{}' of domain '{}' is not supported; expected operators "
          "of the default ONNX domain",
          path, i, n.name, n.op_type, proto.domain()));
    }
    for (const auto& name : proto.input()) {
      n.inputs.push_back(name.empty() ? -1 : net.AddValue(name));
    }
    for (const auto& name : proto.output()) {
      n.outputs.push_back(name.empty() ? -1 : net.AddValue(name));
    }
    const bool supported = LookupKernel(n.op_type) != nullptr;
    for (const auto& attr : proto.attribute()) {
      const std::string where =
          fmt::format("{}: node '{}' ({}): attribute '{}'", path, n.name, n.op_type, attr.name());
      auto value = ConvertAttribute(attr, where);
      if (value) {
        n.attrs[attr.name()] = std::move(*value);
      } else if (supported) {
        // Unsupported operators are reported by Finalize; here the operator is known
        // but the attribute is of a kind no kernel reads.
        throw util::InputError(fmt::format(
            "{}: has type {}; expected INT, FLOAT, STRING, INTS, FLOATS or TENSOR", where,
            AttributeTypeName(attr)));
      }
    }
    net.AddNode(std::move(n));
  }

  for (const auto& output : graph.output()) net.AddOutput(net.AddValue(output.name()));
  net.Finalize(path);
  return net;
}

torch::Tensor ReadOnnxTensor(const std::string& path) {
  const std::string bytes = util::ReadFile(path, kMaxOnnxBytes);
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    throw util::InputError(
        path + ": not a valid ONNX tensor: the protobuf data is truncated or corrupt");
  }
  return TensorFromProto(proto, fmt::format("{}: tensor '{}'", path, proto.name()));
}

}  // namespace haq::graph
