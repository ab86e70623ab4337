#pragma once
/// Applying a policy to a network: a graph::LayerHook that fake-quantizes each
/// quantizable layer's weight (symmetric linear, clip by KL below `kl_below_bits`,
/// else max) and its input activation (linear with a calibrated clip; unsigned when
/// no calibration value was negative, e.g. after ReLU/ReLU6, else signed).
/// a_bits == 0 leaves a layer's input in full precision (HAQ's first layer). A layer
/// that reads the network's input directly is clipped at the maximum whatever its
/// bits: an image is not a heavy-tailed activation, and KL clipping of a normalised
/// Fashion-MNIST image at 4 bits clips the garment to the level of its background.
#include <vector>

#include "data/loader.h"
#include "graph/network.h"
#include "hw/policy.h"

namespace haq::quant {

struct QuantOptions {
  /// KL clipping below this many bits, the maximum at and above (HAQ: 5).
  int kl_below_bits = 5;
  /// Values sampled per layer and calibration batch for the activation statistics.
  int64_t samples_per_batch = 1 << 16;
  uint64_t seed = 0;
};

class PolicyHook : public graph::LayerHook {
 public:
  /// `policy` must match `net`'s quantizable layers (util::InputError otherwise).
  PolicyHook(const graph::Network& net, hw::Policy policy, QuantOptions options = {});

  /// Runs `batches` batches of `loader` through the network (full precision) and
  /// sets each layer's activation clip and signedness from what its input saw.
  void Calibrate(data::BatchLoader& loader, int64_t batches);
  bool calibrated() const { return calibrated_; }

  /// Weight clips are chosen from the weights the network had at construction.
  /// With gradients disabled the quantized weight is computed once and reused; a
  /// forward pass with gradients enabled (training) drops that cache, so weights
  /// changed by training are re-quantized. Weights changed any other way (e.g.
  /// LoadStateDict) need a new PolicyHook.
  torch::Tensor Weight(size_t layer, const torch::Tensor& weight) override;
  torch::Tensor Input(size_t layer, const torch::Tensor& input) override;

  /// Per layer: the weight clip, activation clip and whether the input is signed.
  const std::vector<double>& weight_clips() const { return weight_clips_; }
  const std::vector<double>& activation_clips() const { return act_clips_; }
  const std::vector<bool>& activation_signed() const { return act_signed_; }

 private:
  const graph::Network& net_;
  hw::Policy policy_;
  QuantOptions options_;
  std::vector<double> weight_clips_;
  std::vector<torch::Tensor> weight_cache_;  // quantized weights when no gradient is needed
  std::vector<double> act_clips_;
  std::vector<bool> act_signed_;
  bool calibrated_ = false;
  bool recording_ = false;
  std::vector<std::vector<torch::Tensor>> samples_;  // per layer, during calibration
  std::vector<double> min_seen_;
  int64_t batch_counter_ = 0;
};

}  // namespace haq::quant
