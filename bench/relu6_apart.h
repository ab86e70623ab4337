#pragma once
// A PolicyHook with its ReLU6 fusion undone, for benchmarks that time the fusion
// side by side: each clamp runs as hardtanh before the layer's input quantizer
// (LayerHook::ClampedInput's default), as haq ran it before the fusion.
#include "graph/network.h"
#include "quant/policy_hook.h"

namespace haq::bench {

class ReluSixApart : public graph::LayerHook {
 public:
  explicit ReluSixApart(quant::PolicyHook& inner) : inner_(inner) {}
  torch::Tensor Weight(size_t layer, const torch::Tensor& w) override { return inner_.Weight(layer, w); }
  torch::Tensor Input(size_t layer, const torch::Tensor& x) override { return inner_.Input(layer, x); }

 private:
  quant::PolicyHook& inner_;
};

}  // namespace haq::bench
