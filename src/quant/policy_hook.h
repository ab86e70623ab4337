#pragma once
/// Applying a policy to a network: a graph::LayerHook that fake-quantizes each
/// quantizable layer's weight and its input activation.
///
/// - Weights: symmetric linear (clip by KL below `kl_below_bits`, else the maximum;
///   optionally one max clip per output channel), or k-means with 2^b centroids.
///   Biases stay in full precision, as in HAQ.
/// - Activations: linear with a calibrated clip; unsigned when calibration saw no
///   negative value (e.g. after ReLU/ReLU6), else signed. a_bits == 0 leaves a
///   layer's input in full precision (HAQ's first layer). A layer that reads the
///   network's input directly is clipped at the maximum whatever its bits: an image
///   is not a heavy-tailed activation, and KL clipping of a normalised Fashion-MNIST
///   image at 4 bits clips the garment to the level of its background.
///
/// Clips, clusterings and quantized trained weights come from a QuantContext shared
/// by every hook of one search, so they are computed once per (layer, bits).
/// Fine-tuning runs a clone of the network with the same context: linear weights
/// train through the straight-through estimator with the clips fixed; k-means
/// layers train their centroids (TrainableCentroids), each centroid moving by the
/// mean of its members' gradients, the assignment fixed.
#include <memory>
#include <vector>

#include "data/loader.h"
#include "graph/network.h"
#include "hw/policy.h"
#include "quant/context.h"

namespace haq::quant {

class PolicyHook : public graph::LayerHook {
 public:
  /// Quantizes `net` (the context's network, or a clone of it) with `policy`, which
  /// must match its quantizable layers (util::InputError otherwise).
  PolicyHook(std::shared_ptr<QuantContext> context, const graph::Network& net, hw::Policy policy);
  /// A hook with a context of its own.
  PolicyHook(const graph::Network& net, hw::Policy policy, QuantOptions options = {});

  /// Collects the context's activation statistics from `batches` batches of
  /// `loader` unless it already has them.
  void Calibrate(data::BatchLoader& loader, int64_t batches);
  bool calibrated() const { return context_->has_activation_stats(); }

  /// K-means policies: per layer, a trainable copy of the centroids that Weight
  /// uses from now on; the gradient reaching each centroid is the mean of its
  /// members' gradients (Deep Compression). Empty for linear policies.
  std::vector<torch::Tensor> TrainableCentroids();

  /// With gradients disabled, a weight is quantized once and reused until it changes
  /// (a new tensor or an in-place update); with gradients enabled it is quantized on
  /// every pass with the straight-through estimator.
  torch::Tensor Weight(size_t layer, const torch::Tensor& weight) override;
  torch::Tensor Input(size_t layer, const torch::Tensor& input) override;
  /// A ReLU6 (or any two-sided Clip) feeding the layer, fused into its input
  /// quantizer: one pass forward and one backward (ClampThenLinearQuantize).
  torch::Tensor ClampedInput(size_t layer, const torch::Tensor& input, double lo, double hi) override;

  const hw::Policy& policy() const { return policy_; }
  QuantContext& context() { return *context_; }
  /// Per layer: the weight clips (one, or one per output channel; empty for k-means).
  std::vector<std::vector<double>> WeightClips();
  /// Per layer: the activation clip (0 for a_bits == 0) and whether it is signed.
  std::vector<double> ActivationClips();
  std::vector<bool> ActivationSigned() const;

 private:
  struct Cached {
    torch::Tensor source;  // the weight it was made from
    uint32_t version = 0;
    torch::Tensor quantized;
  };
  std::shared_ptr<QuantContext> context_;
  const graph::Network& net_;
  hw::Policy policy_;
  std::vector<Cached> cache_;
  std::vector<torch::Tensor> centroids_;  // trainable k-means centroids, per layer
};

}  // namespace haq::quant
