#pragma once
/// The cost-model interface: a pure function of its hardware spec.
#include <memory>

#include "hw/cost.h"
#include "hw/layer_shape.h"
#include "hw/spec.h"

namespace haq::hw {

class CostModel {
 public:
  virtual ~CostModel() = default;
  /// Cost of `layer` (at its own batch) with `w_bits` weight and `a_bits`
  /// activation bits, each in 1..8. Throws util::InputError outside that range.
  virtual Cost Evaluate(const LayerShape& layer, int w_bits, int a_bits) const = 0;
  virtual const HardwareSpec& spec() const = 0;
};

/// The model for `spec.kind`.
std::unique_ptr<CostModel> MakeCostModel(const HardwareSpec& spec);

/// Throws util::InputError unless 1 <= bits <= 8.
void CheckBits(int w_bits, int a_bits);

}  // namespace haq::hw
