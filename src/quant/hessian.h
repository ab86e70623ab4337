#pragma once
/// Hessian traces of a network's loss by Hutchinson's method, and from them the
/// per-layer sensitivity table (quant/sensitivity.h) the ILP strategy minimises.
///
/// The loss is the mean cross-entropy of the full-precision network (evaluation mode:
/// batch norm on its running statistics) over a fixed set of images. The blocks are
/// every quantizable layer's weight and every such layer's input activation (over all
/// the images; the gradient with respect to an input comes from a zero tensor added
/// to it). Hessian-vector products are double backward passes; one Rademacher probe v
/// (every entry +-1, from a seeded generator) over all blocks at once gives, for each
/// block B, the unbiased sample v_B . (H v)_B of tr(H_BB).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "graph/network.h"
#include "quant/context.h"
#include "quant/sensitivity.h"

namespace haq::quant {

/// Which curvature's block traces are estimated.
///
/// - kHessian: Hutchinson on the Hessian itself, v_B . (H v)_B by double backward.
///   One probe over all blocks carries every off-diagonal block's noise into each
///   block's sample, and the samples can be negative.
/// - kGaussNewton: the generalised Gauss-Newton matrix G = sum_n J_n^T A_n J_n / N
///   (J_n the logits' Jacobian, A_n = diag(p_n) - p_n p_n^T the cross-entropy's
///   Hessian in the logits), sampled as ||g_B||^2 with g = d/dtheta sum_n u_n . f_n
///   and u_n = A_n^(1/2) z_n / sqrt(N), z Rademacher, squared per chunk: one backward
///   pass per chunk, never negative, no cross-block noise. For a network that is
///   piecewise linear in each block (convolutions, Gemm, batch norm in evaluation,
///   ReLU/ReLU6, pooling, additions: every zoo model) the second derivative of the
///   logits within a block is zero, so G's diagonal blocks equal the Hessian's and
///   both estimate the same traces (tests/quant/hessian_test.cc checks it).
enum class Curvature { kGaussNewton, kHessian };
/// "gauss-newton" / "hessian".
std::string CurvatureName(Curvature c);
/// Parses "gauss-newton" / "hessian"; util::InputError naming `field` otherwise.
Curvature ParseCurvature(const std::string& text, const std::string& field);

/// The Hessian of the loss on `images` as an operator on the 2L blocks: [0, L) the
/// layers' weights, [L, 2L) their inputs ([N, ...] over the N images).
class HessianOperator {
 public:
  /// `images` is read in chunks of `batch` (the products sum over the chunks).
  HessianOperator(const graph::Network& net, const data::Dataset& images, int64_t batch);
  size_t num_layers() const { return layers_; }
  /// The shape of every block.
  const std::vector<std::vector<int64_t>>& block_shapes() const { return shapes_; }
  /// H v, one tensor per block (v: one tensor of the block's shape per block).
  std::vector<torch::Tensor> Multiply(const std::vector<torch::Tensor>& v) const;
  /// For each block B, v_B . (H v)_B, without keeping H v (less memory).
  std::vector<double> BlockQuadratics(const std::vector<torch::Tensor>& v) const;
  /// One Gauss-Newton sample (see Curvature): for each block, ||g_B||^2 summed over
  /// the chunks, with the probes drawn from `gen`.
  std::vector<double> GaussNewtonSample(at::Generator& gen) const;

 private:
  template <typename Each>
  void ForEachChunk(const std::vector<torch::Tensor>& v, Each&& each) const;

  const graph::Network& net_;
  std::vector<torch::Tensor> chunk_images_;
  std::vector<torch::Tensor> chunk_labels_;
  int64_t total_ = 0;
  size_t layers_ = 0;
  std::vector<std::vector<int64_t>> shapes_;
};

struct HutchinsonOptions {
  Curvature curvature = Curvature::kGaussNewton;
  /// Stop when every block's standard error is at most `tolerance` x |its estimate|
  /// (after at least `min_probes`), or after `max_probes`.
  double tolerance = 0.1;
  int64_t min_probes = 4;
  int64_t max_probes = 100;
  uint64_t seed = 0;
};

struct TraceEstimate {
  std::vector<double> mean;  ///< per block
  std::vector<double> se;    ///< standard error of the mean (sample sd / sqrt(probes))
  int64_t probes = 0;
  bool converged = false;
};

/// Hutchinson's estimate of every block's trace. `progress` (optional) gets a line
/// per probe at most every few seconds, with the worst relative error and an ETA.
TraceEstimate HutchinsonTraces(const HessianOperator& h, const HutchinsonOptions& options,
                               std::FILE* progress = nullptr);

struct SensitivityOptions {
  HutchinsonOptions hutchinson;
  int64_t batch = 64;  ///< images per chunk of the products
};

/// The sensitivity table of `context`'s network on `images`: traces by Hutchinson,
/// weight errors of the context's weight quantizers on the trained weights, input
/// errors of its calibrated activation quantizers on the layers' inputs. Needs a
/// calibrated context (util::InputError otherwise). `computed_for` is stored as is.
SensitivityTable ComputeSensitivity(QuantContext& context, const data::Dataset& images,
                                    const SensitivityOptions& options,
                                    nlohmann::json computed_for, std::FILE* progress = nullptr);

}  // namespace haq::quant
