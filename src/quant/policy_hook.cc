#include "quant/policy_hook.h"

#include <fmt/format.h>

#include <limits>

#include "quant/quantizers.h"
#include "util/error.h"

namespace haq::quant {

PolicyHook::PolicyHook(const graph::Network& net, hw::Policy policy, QuantOptions options)
    : net_(net), policy_(std::move(policy)), options_(options) {
  hw::CheckPolicyMatches(policy_, net.LayerShapes(1), net.name());
  const size_t n = net.quant_layers().size();
  weight_clips_.resize(n);
  weight_cache_.resize(n);
  act_clips_.assign(n, 0.0);
  act_signed_.assign(n, true);
  for (size_t i = 0; i < n; ++i) {
    torch::NoGradGuard no_grad;
    const torch::Tensor& w = net.Initializer(net.quant_layers()[i].weight_value);
    weight_clips_[i] = ChooseClip(w, policy_.layers[i].w_bits, /*is_signed=*/true,
                                  options_.kl_below_bits);
  }
}

torch::Tensor PolicyHook::Weight(size_t layer, const torch::Tensor& weight) {
  const int bits = policy_.layers[layer].w_bits;
  if (!torch::GradMode::is_enabled()) {
    // Inference: weights do not change between forward passes; quantize once.
    if (!weight_cache_[layer].defined()) {
      weight_cache_[layer] = LinearQuantize(weight, weight_clips_[layer], bits, true);
    }
    return weight_cache_[layer];
  }
  weight_cache_[layer] = torch::Tensor();  // training moves the weights
  return LinearQuantize(weight, weight_clips_[layer], bits, true);
}

torch::Tensor PolicyHook::Input(size_t layer, const torch::Tensor& input) {
  if (recording_) {
    // Calibration: keep a seeded random sample of this batch's values.
    const torch::Tensor flat = input.detach().reshape({-1});
    min_seen_[layer] = std::min(min_seen_[layer], flat.min().item<double>());
    torch::Tensor sample = flat;
    if (flat.numel() > options_.samples_per_batch) {
      auto gen = at::detail::createCPUGenerator(options_.seed * 1000003 + static_cast<uint64_t>(batch_counter_) * 131 + layer);
      sample = flat.index({torch::randint(flat.numel(), {options_.samples_per_batch}, gen,
                                          torch::TensorOptions().dtype(torch::kLong))});
    }
    samples_[layer].push_back(sample.clone());
    return input;
  }
  const int bits = policy_.layers[layer].a_bits;
  if (bits == 0) return input;
  if (!calibrated_) {
    throw util::InputError(fmt::format(
        "layer '{}': activations are quantized to {} bits but were never calibrated",
        net_.quant_layers()[layer].name, bits));
  }
  return LinearQuantize(input, act_clips_[layer], bits, act_signed_[layer]);
}

void PolicyHook::Calibrate(data::BatchLoader& loader, int64_t batches) {
  const size_t n = net_.quant_layers().size();
  samples_.assign(n, {});
  min_seen_.assign(n, std::numeric_limits<double>::infinity());
  recording_ = true;
  {
    torch::NoGradGuard no_grad;
    loader.StartEpoch(0);
    data::Batch batch;
    for (batch_counter_ = 0; batch_counter_ < batches && loader.Next(batch); ++batch_counter_) {
      net_.Forward(batch.images, /*training=*/false, this);
    }
  }
  recording_ = false;
  if (batch_counter_ == 0) {
    throw util::InputError("calibration: expected at least one batch of data, got none");
  }
  for (size_t i = 0; i < n; ++i) {
    const torch::Tensor all = torch::cat(samples_[i]);
    act_signed_[i] = min_seen_[i] < 0.0;
    const int bits = policy_.layers[i].a_bits;
    const graph::Node& node = net_.nodes()[static_cast<size_t>(net_.quant_layers()[i].node)];
    const bool reads_network_input = node.inputs[0] == net_.input_values().front();
    if (bits == 0) {
      act_clips_[i] = 0.0;
    } else if (reads_network_input) {
      act_clips_[i] = MaxClip(all, act_signed_[i]);
    } else {
      act_clips_[i] = ChooseClip(all, bits, act_signed_[i], options_.kl_below_bits);
    }
  }
  samples_.clear();
  calibrated_ = true;
}

}  // namespace haq::quant
