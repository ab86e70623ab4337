#pragma once
/// What quantizing one trained network needs that does not depend on the policy, so
/// that a search evaluating hundreds of policies computes it once:
///
/// - activation statistics: a seeded sample of every quantizable layer's input over
///   N calibration batches, taken from the full-precision network (so they are the
///   same for every policy), and from them the clip per (layer, bits);
/// - per (layer, bits): the weight clip chosen from the trained weights, the
///   quantized trained weight, and (k-means) the clustering.
///
/// Caches are keyed by (layer, bits) and are only ever used for the tensors they
/// were computed from: a weight whose storage or version differs (a fine-tuned
/// clone, a weight changed in place) is quantized afresh with the cached clip.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/loader.h"
#include "graph/network.h"
#include "hw/policy.h"
#include "quant/quantizers.h"

namespace haq::quant {

enum class WeightMethod { kLinear, kKMeans };
/// "linear" / "kmeans".
std::string WeightMethodName(WeightMethod m);
/// Parses "linear" / "kmeans"; util::InputError naming `field` otherwise.
WeightMethod ParseWeightMethod(const std::string& text, const std::string& field);

struct QuantOptions {
  WeightMethod method = WeightMethod::kLinear;
  /// Linear weights: one clip per output channel (each channel's max |w|) instead of
  /// one per layer. Beyond the paper; KL clipping is per layer only.
  bool per_channel = false;
  /// KL clipping below this many bits, the maximum at and above (HAQ: 5).
  int kl_below_bits = 5;
  /// Values sampled per layer and calibration batch for the activation statistics.
  int64_t samples_per_batch = 1 << 16;
  /// Lloyd iterations for k-means.
  int kmeans_iters = 100;
  uint64_t seed = 0;
};

/// Parameters of one layer's weight quantizer.
struct WeightQuantizer {
  int bits = 8;
  /// Linear: the clip (one value, or one per output channel along `axis`).
  std::vector<double> clips;
  int64_t axis = 0;
  /// K-means: the clustering of the trained weights.
  std::optional<KMeansResult> kmeans;
};

class QuantContext {
 public:
  /// `net` must outlive the context and keep its trained weights; its layers define
  /// the layer indices used below.
  QuantContext(const graph::Network& net, QuantOptions options);

  const graph::Network& net() const { return net_; }
  const QuantOptions& options() const { return options_; }

  /// Samples every layer's input over `batches` batches of `loader` (epoch 0) with the
  /// network in full precision, replacing earlier statistics and clips. Throws
  /// util::InputError if the loader yields no batch.
  void CollectActivationStats(data::BatchLoader& loader, int64_t batches);
  bool has_activation_stats() const { return !act_signed_.empty(); }
  int64_t calibration_batches() const { return calibration_batches_; }

  /// The activation clip of `layer` at `bits` (cached): the maximum for a layer that
  /// reads the network's input, ChooseClip otherwise. Throws util::InputError naming
  /// the layer when no statistics were collected.
  double ActivationClip(size_t layer, int bits);
  /// True when calibration saw a negative input value (unsigned after ReLU/ReLU6).
  bool ActivationSigned(size_t layer) const;

  /// The weight quantizer of `layer` at `bits`, fitted on the trained weights (cached).
  const WeightQuantizer& Weights(size_t layer, int bits);

  /// `weight` (layer `layer`'s weight, trained or fine-tuned) quantized at `bits`:
  /// the cached result when `weight` is the trained tensor itself; otherwise linear
  /// with the cached clips and the straight-through gradient, or for k-means the
  /// cached assignment over `centroids` (a [k] tensor, typically trainable; the
  /// cached centroids when undefined).
  torch::Tensor QuantizeWeight(size_t layer, int bits, const torch::Tensor& weight,
                               const torch::Tensor& centroids = {});

  /// Fixes clips instead of computing them (a saved quantized model): per layer at
  /// the given policy's bits, the linear weight clips (empty for k-means: the saved
  /// weights hold at most 2^b distinct values, which k-means then recovers exactly)
  /// and the activation clip and signedness. Activation clips at other bit widths
  /// are then unknown (util::InputError).
  void Preset(const hw::Policy& policy, const std::vector<std::vector<double>>& weight_clips,
              const std::vector<double>& activation_clips,
              const std::vector<bool>& activation_signed);

  int64_t weight_cache_hits() const { return weight_hits_; }
  int64_t weight_cache_misses() const { return weight_misses_; }

 private:
  struct CachedWeight {
    WeightQuantizer quantizer;
    torch::Tensor quantized;  // of the trained weight, undefined until needed
    uint32_t quantized_version = 0;  // the trained weight's version it was made from
  };
  CachedWeight& Entry(size_t layer, int bits);

  const graph::Network& net_;
  QuantOptions options_;
  std::vector<std::map<int, CachedWeight>> weights_;  // per layer, by bits
  std::vector<torch::Tensor> act_samples_;             // per layer
  std::vector<bool> act_signed_;
  std::vector<std::map<int, double>> act_clips_;       // per layer, by bits
  int64_t calibration_batches_ = 0;
  int64_t weight_hits_ = 0;
  int64_t weight_misses_ = 0;
};

/// The axis of a quantizable layer's weight that indexes its output channels (Conv:
/// 0; Gemm: 0 with transB, else 1; MatMul: the last).
int64_t OutputAxis(const graph::Network& net, size_t layer);

}  // namespace haq::quant
