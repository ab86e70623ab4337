// Building the full layers x 8 x 8 cost table of ResNet-50 (224x224, the spec's
// batch) on each built-in hardware, on one thread, with no memoised results.
#include <benchmark/benchmark.h>

#include "hw/bitfusion.h"
#include "hw/cost_table.h"
#include "hw/spec.h"
#include "hw/zoo.h"

namespace {

void BM_CostTableResNet50(benchmark::State& state, const char* hardware) {
  const auto spec = haq::hw::BuiltinHardware(hardware);
  haq::hw::ZooInput in;
  in.batch = spec.batch;
  const auto layers = haq::hw::ZooLayerShapes("resnet50", in);
  const auto model = haq::hw::MakeCostModel(spec);
  for (auto _ : state) {
    haq::hw::ClearBitFusionCache();
    auto table = haq::hw::BuildCostTable(*model, layers, "resnet50", /*threads=*/1);
    benchmark::DoNotOptimize(table.entries.data());
  }
  state.counters["entries"] = static_cast<double>(layers.size() * 64);
}

BENCHMARK_CAPTURE(BM_CostTableResNet50, bismo_edge, "bismo-edge")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CostTableResNet50, bismo_cloud, "bismo-cloud")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CostTableResNet50, bitfusion, "bitfusion")->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
