#pragma once
/// Standard ONNX (opset 13) of a network, quantized or not, that other runtimes run.
///
/// For every quantizable layer with codes (deploy/codes.h):
/// - weight, linear: an int8 initializer of q (|q| <= 2^(b-1) - 1, or +-1 at 1 bit)
///   and a DequantizeLinear with the layer's scale (per output channel when the
///   clips are, or after batch-norm folding); k-means: a uint8 index initializer and
///   a Gather from the float codebook (times the folded batch-norm factor);
/// - input activation with a_bits > 0: Clip to the calibrated range, then a
///   QuantizeLinear/DequantizeLinear pair (uint8 unsigned, int8 signed) whose scale
///   is clip / (2^b - 1) (unsigned) or clip / (2^(b-1) - 1) (signed): the clipped
///   input maps to 0..2^b - 1 or -(2^(b-1) - 1)..2^(b-1) - 1, so every tensor is
///   restricted to its policy width inside its 8-bit container. Signed 1 bit (binary
///   {-c, +c}) is GreaterOrEqual + Where.
/// - a Conv followed only by BatchNormalization has the batch norm folded in: the
///   integer weights stay as they are, the scales become per channel.
/// Everything else is written as the executor runs it. The model is checked with
/// ONNX's checker before it is written (atomically).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "deploy/codes.h"
#include "graph/network.h"

namespace haq::deploy {

struct OnnxExportOptions {
  bool fold_batch_norm = true;
  /// Written as the model's metadata_props (e.g. the policy, input normalisation).
  std::map<std::string, std::string> metadata;
};

/// Exports `net`; `codes` from ExtractCodes (one per quantizable layer), or empty for
/// a full-precision export. Throws util::InputError for a graph that cannot be
/// expressed at opset 13 (imported at an older opset with operators whose meaning
/// changed), util::IoError when `path` cannot be written.
void ExportOnnx(const graph::Network& net, const std::vector<LayerCodes>& codes,
                const std::filesystem::path& path, const OnnxExportOptions& options = {});

}  // namespace haq::deploy
