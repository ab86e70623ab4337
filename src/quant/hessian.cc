#include "quant/hessian.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "quant/policy_hook.h"
#include "util/error.h"
#include "util/progress.h"

namespace haq::quant {

namespace F = torch::nn::functional;

namespace {

/// Gives the forward pass the weight leaves and adds a zero leaf to every input,
/// so gradients with respect to both can be taken.
class BlockHook : public graph::LayerHook {
 public:
  explicit BlockHook(std::vector<torch::Tensor> weights)
      : weights_(std::move(weights)), deltas_(weights_.size()) {}
  torch::Tensor Weight(size_t layer, const torch::Tensor& w) override {
    if (w.sizes() != weights_[layer].sizes()) {
      throw util::InputError(fmt::format("Hessian: layer {}: the weight the network uses has another "
                                         "shape than its initializer",
                                         layer));
    }
    return weights_[layer];
  }
  torch::Tensor Input(size_t layer, const torch::Tensor& x) override {
    deltas_[layer] = torch::zeros_like(x).requires_grad_(true);
    return x + deltas_[layer];
  }
  std::vector<torch::Tensor> Leaves() const {
    std::vector<torch::Tensor> out = weights_;
    out.insert(out.end(), deltas_.begin(), deltas_.end());
    return out;
  }

 private:
  std::vector<torch::Tensor> weights_;
  std::vector<torch::Tensor> deltas_;
};

/// Records each layer's input.
class InputRecorder : public graph::LayerHook {
 public:
  explicit InputRecorder(size_t layers) : inputs(layers) {}
  torch::Tensor Weight(size_t, const torch::Tensor& w) override { return w; }
  torch::Tensor Input(size_t layer, const torch::Tensor& x) override {
    inputs[layer] = x;
    return x;
  }
  std::vector<torch::Tensor> inputs;
};

torch::Tensor LayerWeight(const graph::Network& net, size_t layer) {
  return net.Initializer(net.quant_layers()[layer].weight_value);
}

double SquaredDistance(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).pow(2).sum().item<double>();
}

}  // namespace

std::string CurvatureName(Curvature c) {
  return c == Curvature::kHessian ? "hessian" : "gauss-newton";
}

Curvature ParseCurvature(const std::string& text, const std::string& field) {
  if (text == "gauss-newton") return Curvature::kGaussNewton;
  if (text == "hessian") return Curvature::kHessian;
  throw util::InputError(
      fmt::format("{}: expected \"gauss-newton\" or \"hessian\", got \"{}\"", field, text));
}

HessianOperator::HessianOperator(const graph::Network& net, const data::Dataset& images,
                                 int64_t batch)
    : net_(net), layers_(net.quant_layers().size()) {
  if (batch < 1) throw util::InputError(fmt::format("Hessian: expected a batch >= 1, got {}", batch));
  if (images.size() < 1) throw util::InputError("Hessian: expected at least 1 image, got 0");
  data::BatchLoader loader(images, {.batch_size = batch});
  InputRecorder rec(layers_);
  torch::NoGradGuard no_grad;
  std::vector<int64_t> rows(layers_, 0);
  std::vector<std::vector<int64_t>> input_shape(layers_);
  for (data::Batch b; loader.Next(b);) {
    chunk_images_.push_back(b.images);
    chunk_labels_.push_back(b.labels);
    total_ += b.labels.size(0);
    net_.Forward(b.images, /*training=*/false, &rec);
    for (size_t l = 0; l < layers_; ++l) input_shape[l] = rec.inputs[l].sizes().vec();
  }
  for (size_t l = 0; l < layers_; ++l) shapes_.push_back(LayerWeight(net_, l).sizes().vec());
  for (size_t l = 0; l < layers_; ++l) {
    input_shape[l][0] = total_;
    shapes_.push_back(input_shape[l]);
  }
}

template <typename Each>
void HessianOperator::ForEachChunk(const std::vector<torch::Tensor>& v, Each&& each) const {
  if (v.size() != 2 * layers_) {
    throw util::InputError(fmt::format("Hessian: expected {} blocks, got {}", 2 * layers_, v.size()));
  }
  for (size_t k = 0; k < v.size(); ++k) {
    if (v[k].sizes().vec() != shapes_[k]) {
      throw util::InputError(fmt::format("Hessian: block {}: the vector has another shape", k));
    }
  }
  int64_t offset = 0;
  for (size_t c = 0; c < chunk_images_.size(); ++c) {
    std::vector<torch::Tensor> w;
    for (size_t l = 0; l < layers_; ++l) {
      w.push_back(LayerWeight(net_, l).detach().requires_grad_(true));
    }
    BlockHook hook(w);
    const torch::Tensor logits = net_.Forward(chunk_images_[c], /*training=*/false, &hook);
    const torch::Tensor loss =
        F::cross_entropy(logits, chunk_labels_[c], F::CrossEntropyFuncOptions().reduction(torch::kSum)) /
        static_cast<double>(total_);
    const std::vector<torch::Tensor> leaves = hook.Leaves();
    const int64_t rows = chunk_labels_[c].size(0);
    std::vector<torch::Tensor> vc;  // v restricted to this chunk
    for (size_t k = 0; k < leaves.size(); ++k) {
      vc.push_back(k < layers_ ? v[k] : v[k].narrow(0, offset, rows));
    }
    const auto grads = torch::autograd::grad({loss}, leaves, {}, /*retain_graph=*/true,
                                             /*create_graph=*/true, /*allow_unused=*/true);
    torch::Tensor dot = torch::zeros({}, logits.options());
    for (size_t k = 0; k < grads.size(); ++k) {
      if (grads[k].defined()) dot = dot + (grads[k] * vc[k]).sum();
    }
    std::vector<torch::Tensor> hv(leaves.size());
    if (dot.requires_grad()) {
      hv = torch::autograd::grad({dot}, leaves, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                 /*allow_unused=*/true);
    }
    for (size_t k = 0; k < hv.size(); ++k) {
      if (!hv[k].defined()) hv[k] = torch::zeros_like(vc[k]);
    }
    each(offset, vc, hv);
    offset += rows;
  }
}

std::vector<torch::Tensor> HessianOperator::Multiply(const std::vector<torch::Tensor>& v) const {
  std::vector<torch::Tensor> out(2 * layers_);
  for (size_t k = 0; k < 2 * layers_; ++k) out[k] = torch::zeros(shapes_[k]);
  ForEachChunk(v, [&](int64_t offset, const std::vector<torch::Tensor>&,
                      const std::vector<torch::Tensor>& hv) {
    for (size_t k = 0; k < hv.size(); ++k) {
      if (k < layers_) {
        out[k] += hv[k];
      } else {
        out[k].narrow(0, offset, hv[k].size(0)).copy_(hv[k]);
      }
    }
  });
  return out;
}

std::vector<double> HessianOperator::BlockQuadratics(const std::vector<torch::Tensor>& v) const {
  std::vector<double> q(2 * layers_, 0.0);
  ForEachChunk(v, [&](int64_t, const std::vector<torch::Tensor>& vc,
                      const std::vector<torch::Tensor>& hv) {
    for (size_t k = 0; k < hv.size(); ++k) {
      q[k] += (vc[k].to(torch::kDouble) * hv[k].to(torch::kDouble)).sum().item<double>();
    }
  });
  return q;
}

std::vector<double> HessianOperator::GaussNewtonSample(at::Generator& gen) const {
  std::vector<double> q(2 * layers_, 0.0);
  for (size_t c = 0; c < chunk_images_.size(); ++c) {
    std::vector<torch::Tensor> w;
    for (size_t l = 0; l < layers_; ++l) {
      w.push_back(LayerWeight(net_, l).detach().requires_grad_(true));
    }
    BlockHook hook(w);
    const torch::Tensor logits = net_.Forward(chunk_images_[c], /*training=*/false, &hook);
    // u = A^(1/2) z with A^(1/2) = diag(s) (I - s s^T), s = sqrt(p): (I - s s^T) is a
    // projection as |s| = 1, so A^(1/2) A^(1/2)^T = diag(s)(I - s s^T)diag(s) = A.
    const torch::Tensor s = torch::softmax(logits.detach(), 1).sqrt();
    const torch::Tensor z = torch::randint(0, 2, logits.sizes(), gen, logits.options()) * 2 - 1;
    const torch::Tensor u =
        s * (z - s * (s * z).sum(1, /*keepdim=*/true)) / std::sqrt(static_cast<double>(total_));
    const auto grads = torch::autograd::grad({(u * logits).sum()}, hook.Leaves(), {},
                                             /*retain_graph=*/false, /*create_graph=*/false,
                                             /*allow_unused=*/true);
    for (size_t k = 0; k < grads.size(); ++k) {
      if (grads[k].defined()) q[k] += grads[k].to(torch::kDouble).pow(2).sum().item<double>();
    }
  }
  return q;
}

TraceEstimate HutchinsonTraces(const HessianOperator& h, const HutchinsonOptions& o,
                               std::FILE* progress) {
  if (o.max_probes < 2 || o.min_probes < 2 || o.min_probes > o.max_probes) {
    throw util::InputError(fmt::format(
        "Hutchinson: expected 2 <= min probes <= max probes, got {} and {}", o.min_probes,
        o.max_probes));
  }
  if (!(o.tolerance > 0) || !std::isfinite(o.tolerance)) {
    throw util::InputError(fmt::format("Hutchinson: expected a tolerance > 0, got {}", o.tolerance));
  }
  const size_t blocks = h.block_shapes().size();
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  // Welford's running mean and sum of squared deviations, per block.
  std::vector<double> mean(blocks, 0.0), m2(blocks, 0.0);
  TraceEstimate est;
  util::Progress bar(progress, "hessian", o.max_probes, "probes");
  for (int64_t p = 1; p <= o.max_probes; ++p) {
    std::vector<double> q;
    if (o.curvature == Curvature::kHessian) {
      std::vector<torch::Tensor> v;
      for (const auto& shape : h.block_shapes()) {
        v.push_back(torch::randint(0, 2, shape, gen, torch::kFloat) * 2 - 1);
      }
      q = h.BlockQuadratics(v);
    } else {
      q = h.GaussNewtonSample(gen);
    }
    double worst = 0.0;
    for (size_t k = 0; k < blocks; ++k) {
      const double d = q[k] - mean[k];
      mean[k] += d / static_cast<double>(p);
      m2[k] += d * (q[k] - mean[k]);
      const double se = std::sqrt(m2[k] / static_cast<double>(p - 1) / static_cast<double>(p));
      const double rel = se == 0 ? 0.0 : (mean[k] == 0 ? INFINITY : se / std::abs(mean[k]));
      if (p > 1) worst = std::max(worst, rel);
    }
    est.probes = p;
    if (p > 1) bar.Update(p, fmt::format("worst relative error {:.3g}", worst));
    if (p >= o.min_probes && worst <= o.tolerance) {
      est.converged = true;
      break;
    }
  }
  est.mean = mean;
  for (size_t k = 0; k < blocks; ++k) {
    est.se.push_back(std::sqrt(m2[k] / static_cast<double>(est.probes - 1) /
                               static_cast<double>(est.probes)));
  }
  return est;
}

SensitivityTable ComputeSensitivity(QuantContext& context, const data::Dataset& images,
                                    const SensitivityOptions& options, nlohmann::json computed_for,
                                    std::FILE* progress) {
  if (!context.has_activation_stats()) {
    throw util::InputError("sensitivity: the quantization context has no calibration statistics");
  }
  const auto start = std::chrono::steady_clock::now();
  const graph::Network& net = context.net();
  const size_t layers = net.quant_layers().size();
  const HessianOperator h(net, images, options.batch);
  const TraceEstimate est = HutchinsonTraces(h, options.hutchinson, progress);

  // The quantizers a policy applies: one hook per width, every layer at it.
  std::vector<std::unique_ptr<PolicyHook>> hooks;
  for (int b = 1; b <= 8; ++b) {
    hw::Policy p;
    p.source = fmt::format("sensitivity {} bits", b);
    for (const auto& q : net.quant_layers()) p.layers.push_back({q.name, b, b});
    hooks.push_back(std::make_unique<PolicyHook>(
        std::shared_ptr<QuantContext>(&context, [](QuantContext*) {}), net, p));
  }
  SensitivityTable t;
  t.computed_for = std::move(computed_for);
  t.probes = est.probes;
  t.converged = est.converged;
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < layers; ++l) {
    LayerSensitivity s;
    s.name = net.quant_layers()[l].name;
    const torch::Tensor w = LayerWeight(net, l);
    s.weights = w.numel();
    s.weight_trace = est.mean[l];
    s.weight_trace_se = est.se[l];
    s.input_trace = est.mean[layers + l];
    s.input_trace_se = est.se[layers + l];
    for (int b = 1; b <= 8; ++b) s.weight_error[b - 1] = SquaredDistance(hooks[b - 1]->Weight(l, w), w);
    t.layers.push_back(std::move(s));
  }
  data::BatchLoader loader(images, {.batch_size = options.batch});
  InputRecorder rec(layers);
  for (data::Batch batch; loader.Next(batch);) {
    net.Forward(batch.images, /*training=*/false, &rec);
    for (size_t l = 0; l < layers; ++l) {
      t.layers[l].inputs += rec.inputs[l].numel();
      for (int b = 1; b <= 8; ++b) {
        t.layers[l].input_error[b - 1] +=
            SquaredDistance(hooks[b - 1]->Input(l, rec.inputs[l]), rec.inputs[l]);
      }
    }
  }
  t.seconds = util::SecondsSince(start);
  return t;
}

}  // namespace haq::quant
