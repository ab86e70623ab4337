#include "hw/cost_model.h"

#include <fmt/format.h>

#include "hw/bismo.h"
#include "hw/bitfusion.h"
#include "util/error.h"

namespace haq::hw {

const char* BoundName(Bound bound) { return bound == Bound::kCompute ? "compute" : "memory"; }

double Cost::BufferPj() const {
  double pj = 0.0;
  for (const auto& b : buffers) pj += b.EnergyPj();
  return pj;
}

void CheckBits(int w_bits, int a_bits) {
  if (w_bits < 1 || w_bits > 8) {
    throw util::InputError(fmt::format("w_bits: expected an integer in 1..8, got {}", w_bits));
  }
  if (a_bits < 1 || a_bits > 8) {
    throw util::InputError(fmt::format("a_bits: expected an integer in 1..8, got {}", a_bits));
  }
}

namespace {

class BismoModel final : public CostModel {
 public:
  explicit BismoModel(HardwareSpec spec) : spec_(std::move(spec)) {}
  Cost Evaluate(const LayerShape& layer, int w_bits, int a_bits) const override {
    CheckBits(w_bits, a_bits);
    Validate(layer);
    return EvaluateBismo(std::get<BismoConfig>(spec_.config), spec_.clock_hz, layer, w_bits,
                         a_bits);
  }
  const HardwareSpec& spec() const override { return spec_; }

 private:
  HardwareSpec spec_;
};

class BitFusionModel final : public CostModel {
 public:
  explicit BitFusionModel(HardwareSpec spec) : spec_(std::move(spec)) {}
  Cost Evaluate(const LayerShape& layer, int w_bits, int a_bits) const override {
    CheckBits(w_bits, a_bits);
    return EvaluateBitFusion(std::get<BitFusionConfig>(spec_.config), spec_.clock_hz, layer,
                             w_bits, a_bits);
  }
  const HardwareSpec& spec() const override { return spec_; }

 private:
  HardwareSpec spec_;
};

}  // namespace

std::unique_ptr<CostModel> MakeCostModel(const HardwareSpec& spec) {
  if (std::holds_alternative<BismoConfig>(spec.config)) return std::make_unique<BismoModel>(spec);
  return std::make_unique<BitFusionModel>(spec);
}

}  // namespace haq::hw
