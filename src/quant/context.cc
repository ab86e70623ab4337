#include "quant/context.h"

#include <fmt/format.h>

#include <limits>

#include "util/error.h"

namespace haq::quant {

std::string WeightMethodName(WeightMethod m) {
  return m == WeightMethod::kKMeans ? "kmeans" : "linear";
}

WeightMethod ParseWeightMethod(const std::string& text, const std::string& field) {
  if (text == "linear") return WeightMethod::kLinear;
  if (text == "kmeans") return WeightMethod::kKMeans;
  throw util::InputError(fmt::format("{}: expected 'linear' or 'kmeans', got '{}'", field, text));
}

int64_t OutputAxis(const graph::Network& net, size_t layer) {
  const graph::QuantLayer& q = net.quant_layers().at(layer);
  const graph::Node& node = net.nodes()[static_cast<size_t>(q.node)];
  const int64_t dims = net.Initializer(q.weight_value).dim();
  if (node.op_type == "Conv") return 0;
  if (node.op_type == "Gemm") return node.Int("transB", 0) != 0 ? 0 : 1;
  return dims - 1;  // MatMul: x @ W, W is [..., in, out]
}

namespace {

// Full-precision pass that keeps a seeded sample of every layer's input.
class Recorder : public graph::LayerHook {
 public:
  Recorder(size_t layers, int64_t samples_per_batch, uint64_t seed)
      : samples_(layers), min_seen_(layers, std::numeric_limits<double>::infinity()),
        samples_per_batch_(samples_per_batch), seed_(seed) {}

  torch::Tensor Weight(size_t, const torch::Tensor& weight) override { return weight; }
  torch::Tensor Input(size_t layer, const torch::Tensor& input) override {
    const torch::Tensor flat = input.detach().reshape({-1});
    min_seen_[layer] = std::min(min_seen_[layer], flat.min().item<double>());
    torch::Tensor sample = flat;
    if (flat.numel() > samples_per_batch_) {
      auto gen = at::detail::createCPUGenerator(seed_ * 1000003 +
                                                static_cast<uint64_t>(batch) * 131 + layer);
      sample = flat.index({torch::randint(flat.numel(), {samples_per_batch_}, gen,
                                          torch::TensorOptions().dtype(torch::kLong))});
    }
    samples_[layer].push_back(sample.clone());
    return input;
  }

  int64_t batch = 0;
  std::vector<std::vector<torch::Tensor>> samples_;
  std::vector<double> min_seen_;

 private:
  int64_t samples_per_batch_;
  uint64_t seed_;
};

}  // namespace

QuantContext::QuantContext(const graph::Network& net, QuantOptions options)
    : net_(net), options_(options), weights_(net.quant_layers().size()) {
  if (options_.kl_below_bits < 1 || options_.kl_below_bits > 9) {
    throw util::InputError(
        fmt::format("kl_below_bits: expected 1..9, got {}", options_.kl_below_bits));
  }
}

void QuantContext::CollectActivationStats(data::BatchLoader& loader, int64_t batches) {
  const size_t n = net_.quant_layers().size();
  Recorder rec(n, options_.samples_per_batch, options_.seed);
  {
    torch::NoGradGuard no_grad;
    loader.StartEpoch(0);
    data::Batch batch;
    for (; rec.batch < batches && loader.Next(batch); ++rec.batch) {
      net_.Forward(batch.images, /*training=*/false, &rec);
    }
  }
  if (rec.batch == 0) {
    throw util::InputError("calibration: expected at least one batch of data, got none");
  }
  act_samples_.assign(n, {});
  act_signed_.assign(n, false);
  act_clips_.assign(n, {});
  for (size_t i = 0; i < n; ++i) {
    act_samples_[i] = torch::cat(rec.samples_[i]);
    act_signed_[i] = rec.min_seen_[i] < 0.0;
  }
  calibration_batches_ = rec.batch;
}

double QuantContext::ActivationClip(size_t layer, int bits) {
  if (!has_activation_stats()) {
    throw util::InputError(fmt::format(
        "layer '{}': activations are quantized to {} bits but were never calibrated",
        net_.quant_layers().at(layer).name, bits));
  }
  auto& clips = act_clips_.at(layer);
  if (auto it = clips.find(bits); it != clips.end()) return it->second;
  if (!act_samples_[layer].defined()) {
    throw util::InputError(fmt::format(
        "layer '{}': no activation range for {} bits: this quantized model was calibrated for "
        "its own policy only",
        net_.quant_layers()[layer].name, bits));
  }
  const graph::Node& node = net_.nodes()[static_cast<size_t>(net_.quant_layers()[layer].node)];
  const bool reads_network_input = node.inputs[0] == net_.input_values().front();
  const double clip = reads_network_input
                          ? MaxClip(act_samples_[layer], act_signed_[layer])
                          : ChooseClip(act_samples_[layer], bits, act_signed_[layer],
                                       options_.kl_below_bits);
  clips[bits] = clip;
  return clip;
}

bool QuantContext::ActivationSigned(size_t layer) const {
  return has_activation_stats() ? static_cast<bool>(act_signed_.at(layer)) : true;
}

QuantContext::CachedWeight& QuantContext::Entry(size_t layer, int bits) {
  auto& by_bits = weights_.at(layer);
  if (auto it = by_bits.find(bits); it != by_bits.end()) return it->second;
  torch::NoGradGuard no_grad;
  const torch::Tensor& w = net_.Initializer(net_.quant_layers()[layer].weight_value);
  CachedWeight e;
  e.quantizer.bits = bits;
  e.quantizer.axis = OutputAxis(net_, layer);
  if (options_.method == WeightMethod::kKMeans) {
    e.quantizer.kmeans = KMeans1d(w, 1 << bits, options_.seed * 7919 + layer,
                                  options_.kmeans_iters);
  } else if (options_.per_channel) {
    const torch::Tensor rows = w.movedim(e.quantizer.axis, 0).reshape({w.size(e.quantizer.axis), -1});
    const torch::Tensor maxima = rows.abs().amax(1).to(torch::kDouble).contiguous();
    e.quantizer.clips.assign(maxima.data_ptr<double>(), maxima.data_ptr<double>() + maxima.numel());
  } else {
    e.quantizer.clips = {ChooseClip(w, bits, /*is_signed=*/true, options_.kl_below_bits)};
  }
  return by_bits.emplace(bits, std::move(e)).first->second;
}

const WeightQuantizer& QuantContext::Weights(size_t layer, int bits) {
  return Entry(layer, bits).quantizer;
}

namespace {

torch::Tensor Apply(const WeightQuantizer& q, const torch::Tensor& weight,
                    const torch::Tensor& centroids) {
  if (q.kmeans) {
    const torch::Tensor& c = centroids.defined() ? centroids : q.kmeans->centroids;
    const torch::Tensor values = c.index_select(0, q.kmeans->assignment.reshape({-1}));
    // Straight through to the weight as well, so a caller that fine-tunes weights
    // rather than centroids still gets their gradient.
    torch::Tensor out = values.view(weight.sizes()).to(weight.scalar_type());
    if (weight.requires_grad() && !centroids.defined()) out = out + (weight - weight.detach());
    return out;
  }
  if (q.clips.size() == 1) return LinearQuantize(weight, q.clips[0], q.bits, /*is_signed=*/true);
  return LinearQuantizePerChannel(weight, q.clips, q.axis, q.bits);
}

}  // namespace

torch::Tensor QuantContext::QuantizeWeight(size_t layer, int bits, const torch::Tensor& weight,
                                           const torch::Tensor& centroids) {
  CachedWeight& e = Entry(layer, bits);
  const torch::Tensor& trained = net_.Initializer(net_.quant_layers()[layer].weight_value);
  const bool is_trained = weight.is_same(trained) && !centroids.defined() &&
                          !(torch::GradMode::is_enabled() && weight.requires_grad());
  if (!is_trained) return Apply(e.quantizer, weight, centroids);
  if (e.quantized.defined() && e.quantized_version == trained._version()) {
    ++weight_hits_;
    return e.quantized;
  }
  ++weight_misses_;
  torch::NoGradGuard no_grad;
  e.quantized = Apply(e.quantizer, trained, {});
  e.quantized_version = trained._version();
  return e.quantized;
}

void QuantContext::Preset(const hw::Policy& policy,
                          const std::vector<std::vector<double>>& weight_clips,
                          const std::vector<double>& activation_clips,
                          const std::vector<bool>& activation_signed) {
  const size_t n = net_.quant_layers().size();
  if (policy.layers.size() != n || weight_clips.size() != n || activation_clips.size() != n ||
      activation_signed.size() != n) {
    throw util::InputError(fmt::format(
        "quantization record: expected {} layers (policy, weight clips, activation clips, "
        "signedness), got {}, {}, {}, {}",
        n, policy.layers.size(), weight_clips.size(), activation_clips.size(),
        activation_signed.size()));
  }
  act_samples_.assign(n, {});
  act_signed_.assign(activation_signed.begin(), activation_signed.end());
  act_clips_.assign(n, {});
  for (size_t i = 0; i < n; ++i) {
    const auto& l = policy.layers[i];
    if (l.a_bits > 0) act_clips_[i][l.a_bits] = activation_clips[i];
    weights_[i].clear();
    if (weight_clips[i].empty()) continue;  // k-means: clustered again on demand
    CachedWeight e;
    e.quantizer.bits = l.w_bits;
    e.quantizer.axis = OutputAxis(net_, i);
    e.quantizer.clips = weight_clips[i];
    weights_[i].emplace(l.w_bits, std::move(e));
  }
}

}  // namespace haq::quant
