#include "train/sgd.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "util/error.h"

namespace haq::train {

Sgd::Sgd(const graph::Network& net, SgdOptions options) : options_(options) {
  for (const auto& [name, tensor] : net.StateDict()) {
    if (!tensor.requires_grad()) continue;  // batch-norm statistics
    const bool decayed = net.IsLayerWeight(net.ValueId(name));
    params_.push_back({name, tensor, decayed ? options.weight_decay : 0.0, {}});
  }
}

void Sgd::AddParameter(std::string name, torch::Tensor tensor, double weight_decay) {
  params_.push_back({std::move(name), std::move(tensor), weight_decay, {}});
}

void Sgd::ZeroGrad() {
  for (auto& p : params_) {
    if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
  }
}

void Sgd::Step(double lr) {
  torch::NoGradGuard no_grad;
  for (auto& p : params_) {
    if (!p.tensor.grad().defined()) continue;
    torch::Tensor d = p.tensor.grad();
    if (p.weight_decay != 0.0) d = d.add(p.tensor, p.weight_decay);
    if (options_.momentum != 0.0) {
      if (!p.momentum.defined()) {
        p.momentum = d.clone();
      } else {
        p.momentum.mul_(options_.momentum).add_(d);
      }
      d = options_.nesterov ? d.add(p.momentum, options_.momentum) : p.momentum;
    }
    p.tensor.add_(d, -lr);
  }
}

std::map<std::string, torch::Tensor> Sgd::State() const {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : params_) {
    if (p.momentum.defined()) out[p.name] = p.momentum;
  }
  return out;
}

void Sgd::LoadState(const std::map<std::string, torch::Tensor>& state, const std::string& source) {
  for (const auto& [name, t] : state) {
    bool found = false;
    for (auto& p : params_) {
      if (p.name != name) continue;
      if (t.sizes() != p.tensor.sizes()) {
        throw util::InputError(fmt::format("{}: optimizer state '{}': expected shape {}, got {}",
                                           source, name, fmt::join(p.tensor.sizes(), "x"),
                                           fmt::join(t.sizes(), "x")));
      }
      p.momentum = t.clone();
      found = true;
    }
    if (!found) {
      throw util::InputError(
          fmt::format("{}: optimizer state '{}' matches no parameter of the model", source, name));
    }
  }
}

double CosineLr(double base, double t, double total, double warmup) {
  if (warmup > 0 && t < warmup) return base * t / warmup;
  const double span = std::max(total - warmup, 1e-9);
  const double progress = std::clamp((t - warmup) / span, 0.0, 1.0);
  return base * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace haq::train
