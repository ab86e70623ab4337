#include "hw/cost_table.h"

#include <fmt/format.h>

#include <atomic>
#include <exception>
#include <ostream>
#include <thread>

#include "util/error.h"
#include "util/file.h"
#include "util/npy.h"

namespace haq::hw {

namespace {
size_t Index(size_t layer, int w_bits, int a_bits) {
  return layer * kMaxBits * kMaxBits + static_cast<size_t>((w_bits - 1) * kMaxBits + (a_bits - 1));
}
}  // namespace

const Cost& CostTable::At(size_t layer, int w_bits, int a_bits) const {
  CheckBits(w_bits, a_bits);
  if (layer >= layers.size()) {
    throw util::InputError(fmt::format("cost table of {} on {}: layer index {} out of range 0..{}",
                                       model, hardware, layer, layers.size() - 1));
  }
  return entries[Index(layer, w_bits, a_bits)];
}

CostTable BuildCostTable(const CostModel& model, const std::vector<LayerShape>& layers,
                         const std::string& model_name, int threads) {
  CheckLayerCount(layers, model_name);
  CostTable t;
  t.model = model_name;
  t.hardware = model.spec().name;
  t.layers = layers;
  t.entries.resize(layers.size() * kMaxBits * kMaxBits);
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    try {
      for (size_t i = next++; i < layers.size() && !failed; i = next++) {
        for (int w = 1; w <= kMaxBits; ++w) {
          for (int a = 1; a <= kMaxBits; ++a) t.entries[Index(i, w, a)] = model.Evaluate(layers[i], w, a);
        }
      }
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < std::max(threads, 1); ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  return t;
}

namespace {
void Accumulate(PolicyCost& total, const Cost& c, const LayerShape& layer, int w_bits) {
  total.cycles += c.cycles;
  total.seconds += c.seconds;
  total.has_energy = c.has_energy;
  total.energy_pj += c.EnergyPj();
  total.weight_bits += WeightBits(layer, w_bits);
  total.dram_bits += c.dram_read_bits + c.dram_write_bits;
  total.layers.push_back(c);
}
}  // namespace

PolicyCost SumPolicy(const CostTable& table, const Policy& policy) {
  CheckPolicyMatches(policy, table.layers, table.model);
  PolicyCost total;
  for (size_t i = 0; i < table.layers.size(); ++i) {
    const auto& b = policy.layers[i];
    Accumulate(total, table.At(i, b.w_bits, CostABits(b)), table.layers[i], b.w_bits);
  }
  return total;
}

PolicyCost EvaluatePolicy(const CostModel& model, const std::vector<LayerShape>& layers,
                          const Policy& policy) {
  CheckLayerCount(layers, policy.source);
  PolicyCost total;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& b = policy.layers.at(i);
    Accumulate(total, model.Evaluate(layers[i], b.w_bits, CostABits(b)), layers[i], b.w_bits);
  }
  return total;
}

void SaveCostTableCsv(const CostTable& t, const std::filesystem::path& path) {
  util::WriteFileAtomic(path, [&](std::ostream& out) {
    std::vector<std::string> buffer_names;
    if (!t.entries.empty()) {
      for (const auto& b : t.entries.front().buffers) buffer_names.push_back(b.name);
    }
    out << "layer_index,layer,kind,w_bits,a_bits,cycles,seconds,compute_cycles,bound,"
           "energy_pj,energy_compute_pj";
    for (const auto& n : buffer_names) out << ",energy_" << n << "_buffer_pj";
    out << ",energy_dram_pj,dram_read_bits,dram_write_bits,weight_bits,weight_bytes\n";
    for (size_t i = 0; i < t.layers.size(); ++i) {
      const LayerShape& l = t.layers[i];
      for (int w = 1; w <= kMaxBits; ++w) {
        for (int a = 1; a <= kMaxBits; ++a) {
          const Cost& c = t.At(i, w, a);
          auto energy = [&](double pj) { return c.has_energy ? fmt::format("{}", pj) : "nan"; };
          out << fmt::format("{},{},{},{},{},{},{},{},{},{},{}", i, l.name, KindName(l.kind), w, a,
                             c.cycles, c.seconds, c.compute_cycles, BoundName(c.bound),
                             energy(c.EnergyPj()), energy(c.compute_pj));
          for (const auto& b : c.buffers) out << ',' << energy(b.EnergyPj());
          const int64_t wbits = WeightBits(l, w);
          out << fmt::format(",{},{},{},{},{}\n", energy(c.dram_pj), c.dram_read_bits,
                             c.dram_write_bits, wbits, static_cast<double>(wbits) / 8.0);
        }
      }
    }
  });
}

void SaveCostTableNpy(const CostTable& t, const std::filesystem::path& path) {
  util::NpyInt64 a;
  a.shape = {static_cast<int64_t>(t.layers.size()), kMaxBits, kMaxBits};
  a.data.reserve(t.entries.size());
  for (const auto& c : t.entries) a.data.push_back(c.cycles);
  util::WriteNpyAtomic(path, a);
}

void SaveCostTable(const CostTable& t, const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".csv") return SaveCostTableCsv(t, path);
  if (ext == ".npy") return SaveCostTableNpy(t, path);
  throw util::InputError(fmt::format("{}: table file: expected a .csv or .npy extension, got '{}'",
                                     path.string(), ext));
}

}  // namespace haq::hw
