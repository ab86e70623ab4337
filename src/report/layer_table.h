#pragma once
/// The per-layer cost table `haq cost` and `haq search` print: layer, kind, bits,
/// latency, energy and the bounding resource of each layer under a policy.
#include <string>
#include <vector>

#include "hw/cost_table.h"
#include "hw/layer_shape.h"
#include "hw/policy.h"

namespace haq::report {

enum class LayerTableStyle {
  kCost,    ///< haq cost: with each layer's shape and cycles; ms to 3 decimals, uJ to 1
  kSearch,  ///< haq search: ms to 4 decimals, uJ to 2
};

/// The header line and one line per layer, each ending in '\n'.
std::string LayerTable(const std::vector<hw::LayerShape>& layers, const hw::Policy& policy,
                       const hw::PolicyCost& cost, LayerTableStyle style);

}  // namespace haq::report
