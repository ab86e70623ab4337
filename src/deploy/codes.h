#pragma once
/// A quantized network's weights as integer codes: what both exports (ONNX with
/// QuantizeLinear/DequantizeLinear, and the bit-packed deployment format) are made
/// from, and what the packed format reads back.
///
/// Every quantized weight value is (code - zero_point) * scale exactly, in float32:
/// - linear, b >= 2 bits: code = q + n, zero_point = n = 2^(b-1) - 1, q in -n..n, so
///   codes span 0..2^b - 2 (at most 2^b - 1 values, the symmetric grid);
/// - linear, 1 bit: the binary weights {-c, +c}: code 0 or 1, zero_point 0.5, scale 2c;
/// - k-means: code = index into the layer's codebook of at most 2^b float32 values.
/// Linear scales are one per layer or one per output channel (axis 0 of a Conv
/// weight, the output axis of a Gemm/MatMul weight).
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/network.h"
#include "quant/policy_hook.h"

namespace haq::deploy {

struct LayerCodes {
  std::string name;
  std::string scheme;           ///< "linear" or "kmeans"
  int bits = 8;                 ///< weight bits
  std::vector<int64_t> shape;   ///< the weight's shape
  torch::Tensor codes;          ///< int64, `shape`, values 0..2^bits - 1
  // linear
  std::vector<double> scales;   ///< one, or one per slice along `axis` (float32 values)
  int64_t axis = 0;
  double zero_point = 0.0;      ///< n = 2^(b-1) - 1, or 0.5 for 1 bit
  // k-means
  std::vector<double> codebook;  ///< float32 values, ascending
  // the layer's input activation (not packed: for the manifest and the ONNX export)
  int a_bits = 0;               ///< 0: full precision
  double a_clip = 0.0;
  bool a_signed = false;
};

/// The codes of every quantizable layer of `net` as `hook` quantizes it (a fine-tuned
/// network and its hook, or a saved quantized model and HookFromCheckpoint's hook).
/// Checks that decoding reproduces the hook's quantized weights bit for bit; a
/// mismatch is a bug and throws std::logic_error naming the layer.
std::vector<LayerCodes> ExtractCodes(const graph::Network& net, quant::PolicyHook& hook);

/// The float32 weight the codes stand for.
torch::Tensor DecodeWeight(const LayerCodes& layer);

/// The axis of a quantizable layer's weight along which output channels lie: 0 for
/// Conv and for Gemm with transB = 1, 1 for Gemm with transB = 0 and for MatMul.
int64_t OutputAxis(const graph::Node& node);

/// Bits of all codes: sum over layers of (number of weights) x bits; the model-size
/// cost of the policy.
int64_t PackedBits(const std::vector<LayerCodes>& layers);

/// Writes the packed format into directory `dir` (created if absent):
///   weights.bin   every layer's codes in layer order, each code `bits` wide,
///                 least significant bit first, no padding between layers; the file
///                 is ceil(PackedBits / 8) bytes, the final byte zero-padded
///   manifest.json format, model, input normalisation, and per layer: name, kind,
///                 shape, bits, bit offset, scheme, scales / axis / zero_point or
///                 codebook, activation bits / clip / scale / signedness; the size
///                 and CRC-32 of weights.bin
/// Each file is written atomically, weights.bin first: a manifest always describes a
/// complete weights.bin. util::IoError when the directory cannot be written.
void WritePacked(const std::vector<LayerCodes>& layers, const graph::Network& net,
                 const std::filesystem::path& dir);

/// Reads a packed export back. util::InputError naming the file and the field for a
/// malformed manifest, a weights.bin of the wrong size or checksum, or codes out of
/// range.
std::vector<LayerCodes> ReadPacked(const std::filesystem::path& dir);

}  // namespace haq::deploy
