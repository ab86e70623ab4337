#pragma once
/// Quantizers used by HAQ (see docs/reference haq-method.md, "Quantizers"): linear
/// (symmetric signed for weights, unsigned for post-ReLU activations) with a
/// straight-through estimator, the clipping value (KL-divergence calibration as in
/// TensorRT, or the maximum), and 1-d k-means quantization for the model-size
/// experiments. All functions are pure: they never modify their inputs. Bad input
/// throws util::InputError naming the argument, what was expected and what was found.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "quant/fake_quant_kernels.h"

namespace haq::quant {

/// Linear quantization of `x` (a floating-point tensor of any shape) to `bits` bits
/// (1..8) with clipping value `clip`.
///
/// - Signed (weights), bits >= 2: scale = clip / (2^(bits-1) - 1); values are
///   clamped to [-clip, clip] and rounded (half to even) to the nearest multiple of
///   scale, giving at most 2^bits - 1 distinct values {-n..n} * scale,
///   n = 2^(bits-1) - 1.
/// - Signed, 1 bit: binary, x >= 0 -> +clip, x < 0 -> -clip (two values; the
///   symmetric grid {-clip, 0, +clip} would need 3 values). Its step is 2 * clip,
///   so the error |q - clamp(x)| is at most clip = step / 2 as for the other widths.
/// - Unsigned (activations): scale = clip / (2^bits - 1); values clamped to
///   [0, clip] and rounded to multiples of scale (at most 2^bits values).
/// - clip <= 0: the result is all zeros.
///
/// Straight-through estimator: the forward value is exactly the quantized value; the
/// gradient with respect to x is 1 where x lies inside the clipping range (bounds
/// included) and 0 outside, i.e. the gradient of clamp(x). An empty `x` gives an
/// empty result. Throws util::InputError for bits outside 1..8, a non-finite clip,
/// or an undefined or non-floating-point x.
torch::Tensor LinearQuantize(const torch::Tensor& x, double clip, int bits, bool is_signed);

/// LinearQuantize(torch::hardtanh(x, lo, hi), clip, bits, is_signed) in one pass:
/// an activation's clamp (ReLU6) fused into the quantizer of the layer it feeds.
/// The same values bit for bit, and the same gradient: hardtanh's (1 strictly
/// inside [lo, hi], as nn.ReLU6 trains) times the quantizer's straight-through one
/// (1 on [-clip or 0, clip], bounds included). Throws util::InputError as
/// LinearQuantize does, and for lo > hi or a NaN bound.
torch::Tensor ClampThenLinearQuantize(const torch::Tensor& x, double lo, double hi, double clip, int bits,
                                      bool is_signed);

/// LinearQuantize's definition through ATen's composite operators (clamp, divide,
/// round, multiply, and the straight-through sum q + (c - c.detach())), as haq
/// computed it before the fused kernels: several passes over memory, the same bits
/// for float32. Kept as the reference the kernels are tested and benchmarked
/// against; x must be floating point, bits in 1..8, clip finite (not checked).
torch::Tensor LinearQuantizeComposite(const torch::Tensor& x, double clip, int bits, bool is_signed);

/// Signed linear quantization with one clipping value per slice of `x` along `axis`
/// (per output channel for a weight): slice j is quantized exactly as
/// LinearQuantize(slice_j, clips[j], bits, true) would, including the 1-bit and
/// clip <= 0 cases and the straight-through gradient, in one vectorised pass.
/// Throws util::InputError for bits outside 1..8, an axis outside x's dimensions,
/// clips whose length differs from x.size(axis), or non-finite clips.
torch::Tensor LinearQuantizePerChannel(const torch::Tensor& x, const std::vector<double>& clips,
                                       int64_t axis, int bits);

/// The parameters of LinearQuantize(x, clip, bits, is_signed) for the fused kernels
/// (fake_quant_kernels.h): the bounds and LinearScale's step rounded to float32, as
/// ATen rounds a double scalar. Throws util::InputError for bits outside 1..8.
FakeQuantParams FakeQuantParamsOf(double clip, int bits, bool is_signed);

/// The step between neighbouring quantized values of LinearQuantize (clip <= 0: 0);
/// 2 * clip for signed 1 bit.
double LinearScale(double clip, int bits, bool is_signed);

/// Number of groups KlClip merges the histogram of the magnitudes into: the number of
/// quantized values on [0, clip], 2^(bits-1) for signed (0 and n steps, as TensorRT's
/// 128 for int8), 2^bits for unsigned. (2^(bits-1) - 1 would leave signed 2 bits with
/// one group, for which Q always equals the normalised P at the first candidate, so
/// KL = 0 picks one bin.)
int KlLevels(int bits, bool is_signed);

/// The clipping value minimising the KL divergence between the distribution of the
/// values and its quantized version (TensorRT-style calibration). Exactly:
///
/// 1. Values: v = |x| (signed) or x (unsigned), keeping only v > 0: values the
///    quantizer maps to exactly 0 whatever the clip (zeros; negatives when unsigned)
///    carry no information about the clip, and a ReLU output's many zeros would
///    otherwise dominate the first bin and drag the clip to a few bins. m = max v;
///    if no value is kept the result is 0.
/// 2. Histogram h[0..B-1], B = num_bins, over [0, m]: value v (as a double) goes to
///    bin min(floor(v * B / m), B - 1); bin width w = m / B.
/// 3. For each candidate i = L..B, L = KlLevels(bits, is_signed):
///    - P = h[0..i-1] with the outliers sum(h[i..B-1]) added to P[i-1];
///    - Q is built from the clipped bins h[0..i-1] (without the outliers): they are
///      split into L groups of g = floor(i / L) consecutive bins (the last group
///      also takes the remaining i - L*g bins); each group's total count is spread
///      uniformly over the bins of the group where P is non-zero (Q = 0 where P = 0);
///    - P and Q are normalised to sum 1 (if Q sums to 0 the candidate is skipped);
///      smoothing of zeros: Q entries that are 0 where P > 0 are replaced by 1e-10;
///    - KL(P||Q) = sum over j with P_j > 0 of P_j * ln(P_j / Q_j).
/// 4. The result is the upper bin edge i * w of the candidate with the smallest KL
///    (the smallest i on ties).
///
/// Signed 1 bit is the exception: LinearQuantize is then binary {-c, +c}, a single
/// magnitude level for which this search is degenerate (one group: Q equals the
/// normalised P at the first candidate); the result is mean |x| instead, the
/// least-squares-optimal c for sign(x) * c (as in binary-weight networks).
///
/// Throws util::InputError for bits outside 1..8, num_bins < L, an empty, undefined
/// or non-floating-point x, or non-finite values.
double KlClip(const torch::Tensor& x, int bits, bool is_signed, int num_bins = 2048);

/// max |x| (signed) or max x (unsigned; never below 0). Throws util::InputError for an
/// empty, undefined or non-floating-point x, or non-finite values.
double MaxClip(const torch::Tensor& x, bool is_signed);

/// The clip HAQ's released code uses: KlClip when bits < kl_below_bits (5 there),
/// otherwise MaxClip.
double ChooseClip(const torch::Tensor& x, int bits, bool is_signed, int kl_below_bits);

/// Result of KMeans1d.
struct KMeansResult {
  torch::Tensor centroids;   ///< float [k], sorted ascending
  torch::Tensor assignment;  ///< int64, x's shape: index of each value's centroid
};

/// 1-d k-means of the values of `x` (any shape), as in Deep Compression / HAQ.
///
/// k is reduced to the number of distinct values of x. Initialisation: k-means++
/// driven by a std::mt19937_64 seeded with `seed` (independent of torch's RNG, so the
/// result depends only on x, k and seed): the first centre is value (r % n), each
/// next one is drawn with probability proportional to its squared distance to the
/// nearest chosen centre (u = top 53 bits of r as a fraction of the total). When x has
/// more than 2^20 values, the initialisation runs on 2^20 values drawn with
/// replacement by the same generator (unless those hold fewer than k distinct values);
/// the Lloyd iterations always use all values. Lloyd iterations: assign each value to
/// its nearest centroid (ties to the smaller centroid), stop when no assignment
/// changes or after `max_iters` iterations, otherwise move each centroid to the mean
/// of its members (a centroid without members stays where it is). When the
/// iterations run out, one last assignment step is made, so every value is always
/// assigned to its nearest returned centroid.
///
/// Throws util::InputError for k < 1, max_iters < 1, an empty, undefined or
/// non-floating-point x, or non-finite values.
KMeansResult KMeans1d(const torch::Tensor& x, int k, uint64_t seed, int max_iters = 100);

/// centroids[assignment], in x's dtype and shape. The gradient with respect to `x` is
/// passed straight through (identity), so a fine-tuning loop gets dLoss/dWeights in
/// x.grad and turns it into centroid updates with CentroidGradient. Throws
/// util::InputError when the assignment's shape differs from x's.
torch::Tensor KMeansQuantize(const torch::Tensor& x, const KMeansResult& r);

/// Per centroid, the mean of the gradients of its members (0 for a centroid without
/// members): the centroid update rule of Deep Compression / HAQ. `grad_wrt_weights`
/// has the assignment's shape; the result is a float [k] tensor. Throws
/// util::InputError on a shape mismatch or an assignment outside 0..k-1.
torch::Tensor CentroidGradient(const torch::Tensor& grad_wrt_weights, const KMeansResult& r);

}  // namespace haq::quant
