#include "quant/policy_hook.h"

#include <fmt/format.h>

#include "util/error.h"

namespace haq::quant {

PolicyHook::PolicyHook(std::shared_ptr<QuantContext> context, const graph::Network& net,
                       hw::Policy policy)
    : context_(std::move(context)), net_(net), policy_(std::move(policy)) {
  hw::CheckPolicyMatches(policy_, net.LayerShapes(1), net.name());
  if (net.quant_layers().size() != context_->net().quant_layers().size()) {
    throw util::InputError(fmt::format(
        "network '{}' has {} quantizable layers but the quantization context was built for "
        "'{}' with {}",
        net.name(), net.quant_layers().size(), context_->net().name(),
        context_->net().quant_layers().size()));
  }
  cache_.resize(policy_.layers.size());
  centroids_.resize(policy_.layers.size());
}

PolicyHook::PolicyHook(const graph::Network& net, hw::Policy policy, QuantOptions options)
    : PolicyHook(std::make_shared<QuantContext>(net, options), net, std::move(policy)) {}

void PolicyHook::Calibrate(data::BatchLoader& loader, int64_t batches) {
  if (!context_->has_activation_stats()) context_->CollectActivationStats(loader, batches);
}

std::vector<torch::Tensor> PolicyHook::TrainableCentroids() {
  std::vector<torch::Tensor> out;
  if (context_->options().method != WeightMethod::kKMeans) return out;
  for (size_t i = 0; i < policy_.layers.size(); ++i) {
    const KMeansResult& km = *context_->Weights(i, policy_.layers[i].w_bits).kmeans;
    torch::Tensor c = km.centroids.detach().clone().set_requires_grad(true);
    const int64_t k = c.size(0);
    const torch::Tensor counts =
        torch::bincount(km.assignment.reshape({-1}), {}, k).clamp_min(1).to(c.scalar_type());
    // Autograd sums the members' gradients into each centroid; divide by the count.
    c.register_hook([counts](const torch::Tensor& grad) { return grad / counts; });
    centroids_[i] = c;
    out.push_back(c);
  }
  return out;
}

torch::Tensor PolicyHook::Weight(size_t layer, const torch::Tensor& weight) {
  const int bits = policy_.layers[layer].w_bits;
  if (torch::GradMode::is_enabled()) {
    cache_[layer] = {};
    return context_->QuantizeWeight(layer, bits, weight, centroids_[layer]);
  }
  Cached& c = cache_[layer];
  if (c.quantized.defined() && c.source.is_same(weight) && c.version == weight._version()) {
    return c.quantized;
  }
  c.source = weight;
  c.version = weight._version();
  c.quantized = context_->QuantizeWeight(layer, bits, weight, centroids_[layer].defined()
                                                                  ? centroids_[layer].detach()
                                                                  : torch::Tensor());
  return c.quantized;
}

torch::Tensor PolicyHook::Input(size_t layer, const torch::Tensor& input) {
  const int bits = policy_.layers[layer].a_bits;
  if (bits == 0) return input;
  return LinearQuantize(input, context_->ActivationClip(layer, bits), bits,
                        context_->ActivationSigned(layer));
}

torch::Tensor PolicyHook::ClampedInput(size_t layer, const torch::Tensor& input, double lo, double hi) {
  const int bits = policy_.layers[layer].a_bits;
  if (bits == 0) return torch::hardtanh(input, lo, hi);
  return ClampThenLinearQuantize(input, lo, hi, context_->ActivationClip(layer, bits), bits,
                                 context_->ActivationSigned(layer));
}

std::vector<std::vector<double>> PolicyHook::WeightClips() {
  std::vector<std::vector<double>> out;
  for (size_t i = 0; i < policy_.layers.size(); ++i) {
    out.push_back(context_->Weights(i, policy_.layers[i].w_bits).clips);
  }
  return out;
}

std::vector<double> PolicyHook::ActivationClips() {
  std::vector<double> out;
  for (size_t i = 0; i < policy_.layers.size(); ++i) {
    const int bits = policy_.layers[i].a_bits;
    out.push_back(bits == 0 ? 0.0 : context_->ActivationClip(i, bits));
  }
  return out;
}

std::vector<bool> PolicyHook::ActivationSigned() const {
  std::vector<bool> out;
  for (size_t i = 0; i < policy_.layers.size(); ++i) out.push_back(context_->ActivationSigned(i));
  return out;
}

}  // namespace haq::quant
