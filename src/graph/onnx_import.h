#pragma once
/// Reading ONNX files into a Network (network.h). The ModelProto is parsed with the
/// ONNX protobuf classes; every problem with the file (too large, truncated or
/// corrupt, unsupported data type or operator, inconsistent tensor sizes, symbolic
/// input dimensions) is reported as a util::InputError naming the file and the
/// offending node, tensor or input.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/network.h"

namespace haq::graph {

struct OnnxImportOptions {
  /// Channels, height and width of one example of the first graph input. Empty: take
  /// them from the file, where every dimension but the batch must then be fixed.
  /// Non-empty: overrides the file's dimensions (which may then be symbolic); it must
  /// have one value per non-batch dimension of the input.
  std::vector<int64_t> input_chw;
};

/// The largest ONNX file ImportOnnx reads (protobuf cannot parse more than 2 GiB).
inline constexpr std::uintmax_t kMaxOnnxBytes = std::uintmax_t{1} << 31;
/// The largest number of elements ImportOnnx accepts in one tensor.
inline constexpr int64_t kMaxOnnxTensorElements = int64_t{1} << 31;

/// Reads the ONNX model at `path` and returns a finalised Network named after the
/// file stem, with the default-domain opset as Network::opset().
///
/// - Graph inputs that are also initializers are not network inputs. The first real
///   input is the image input: its dimensions after the batch (dimension 0, which
///   may be symbolic) give InputSpec::chw, unless `options.input_chw` is given. If
///   that input is not of a floating-point type it is not an image: chw stays empty
///   (and Finalize enumerates layers without the shape pass).
/// - Initializers become tensors (DOUBLE is narrowed to float32; FLOAT, FLOAT16,
///   INT64, INT32, INT16, INT8, UINT8 and BOOL are supported). Float initializers
///   feeding Conv inputs 1 and 2, Gemm inputs 1 and 2, MatMul input 1 or
///   BatchNormalization inputs 1 and 2 are trainable; BatchNormalization inputs 3
///   and 4 are buffers; all others are constants.
/// - Nodes keep their ONNX attributes (INT, FLOAT, STRING, INTS, FLOATS, TENSOR);
///   nodes without a name are named "<OpType>_<index>".
///
/// Throws util::InputError for a file over kMaxOnnxBytes, one that is not a valid
/// ONNX model ("PATH: not a valid ONNX model: ..."), tensors stored in external
/// files, element counts that disagree with the stored data or exceed
/// kMaxOnnxTensorElements, symbolic input dimensions without `input_chw`, operators
/// outside the default domain and unsupported operators (Network::Finalize);
/// util::IoError if the file cannot be read.
Network ImportOnnx(const std::string& path, const OnnxImportOptions& options = {});

/// Reads one serialised onnx.TensorProto (the input_N.pb / output_N.pb files of the
/// ONNX backend test data) as a tensor, with the same type conversions and checks
/// as for initializers. Throws util::InputError / util::IoError naming `path`.
torch::Tensor ReadOnnxTensor(const std::string& path);

}  // namespace haq::graph
