#include "report/layer_table.h"

#include <fmt/format.h>

#include "util/format.h"

namespace haq::report {

std::string LayerTable(const std::vector<hw::LayerShape>& layers, const hw::Policy& policy,
                       const hw::PolicyCost& cost, LayerTableStyle style) {
  const bool full = style == LayerTableStyle::kCost;
  std::string out =
      full ? fmt::format("{:>3}  {:<24} {:<9} {:<28} {:>2} {:>2} {:>13} {:>9} {:>11} {:<7}\n", "#",
                         "layer", "kind", "shape", "w", "a", "cycles", "ms", "energy_uJ", "bound")
           : fmt::format("{:>3}  {:<24} {:<9} {:>2} {:>2} {:>10} {:>11} {:<7}\n", "#", "layer",
                         "kind", "w", "a", "ms", "energy_uJ", "bound");
  for (size_t i = 0; i < layers.size(); ++i) {
    const hw::LayerShape& l = layers[i];
    const hw::LayerBits& b = policy.layers[i];
    const hw::Cost& c = cost.layers[i];
    const std::string a_bits = b.a_bits == 0 ? std::string("-") : std::to_string(b.a_bits);
    const std::string energy =
        c.has_energy ? fmt::format("{:.{}f}", c.EnergyPj() * 1e-6, full ? 1 : 2) : "-";
    out += full ? fmt::format("{:>3}  {:<24} {:<9} {:<28} {:>2} {:>2} {:>13} {:>9.3f} {:>11} {:<7}\n",
                              i, l.name, hw::KindName(l.kind), l.Summary(), b.w_bits, a_bits,
                              util::GroupDigits(c.cycles), c.seconds * 1e3, energy,
                              hw::BoundName(c.bound))
                : fmt::format("{:>3}  {:<24} {:<9} {:>2} {:>2} {:>10.4f} {:>11} {:<7}\n", i, l.name,
                              hw::KindName(l.kind), b.w_bits, a_bits, c.seconds * 1e3, energy,
                              hw::BoundName(c.bound));
  }
  return out;
}

}  // namespace haq::report
