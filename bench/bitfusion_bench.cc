// Bit Fusion per-layer search on ResNet-50 layers (224x224, batch 16), uncached.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "hw/bitfusion.h"

namespace {

using haq::hw::BitFusionConfig;
using haq::hw::BitFusionConvShape;

BitFusionConvShape Square(int64_t k, int64_t stride, int64_t out, int64_t in_c, int64_t out_c,
                          bool im2col) {
  return BitFusionConvShape{16, k, k, stride, stride, out, out, in_c, out_c, im2col};
}

// Arg 0 selects the layer; arg 1 is w = a bits.
const std::vector<BitFusionConvShape>& Layers() {
  static const std::vector<BitFusionConvShape> layers = {
      Square(7, 2, 112, 3, 64, true),      // conv1 (im2col)
      Square(3, 1, 56, 64, 64, false),     // layer1.0.conv2
      Square(1, 1, 56, 256, 64, false),    // layer1.1.conv1
      Square(3, 2, 14, 256, 256, false),   // layer3.0.conv2
      Square(1, 2, 7, 1024, 2048, false),  // layer4.0.downsample
      Square(1, 1, 1, 2048, 1000, false),  // fc
  };
  return layers;
}

void BM_BitFusionLayerUncached(benchmark::State& state) {
  const BitFusionConfig cfg;
  const BitFusionConvShape& shape = Layers()[static_cast<size_t>(state.range(0))];
  const int bits = static_cast<int>(state.range(1));
  for (auto _ : state) {
    benchmark::DoNotOptimize(haq::hw::SimulateBitFusionConvUncached(cfg, shape, bits, bits));
  }
}
BENCHMARK(BM_BitFusionLayerUncached)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {8, 4, 2}})
    ->Unit(benchmark::kMicrosecond);

// The reference search, for scale (one layer).
void BM_BitFusionLayerReference(benchmark::State& state) {
  const BitFusionConfig cfg;
  const BitFusionConvShape& shape = Layers()[static_cast<size_t>(state.range(0))];
  for (auto _ : state) {
    benchmark::DoNotOptimize(haq::hw::SimulateBitFusionConvReference(cfg, shape, 4, 4));
  }
}
BENCHMARK(BM_BitFusionLayerReference)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond);

// Every ResNet-50 quantizable layer at every (w, a) in 1..8 through the cached
// entry point, starting from an empty cache each iteration.
std::vector<BitFusionConvShape> ResNet50Layers() {
  std::vector<BitFusionConvShape> layers = {Square(7, 2, 112, 3, 64, true)};
  const int64_t blocks[4] = {3, 4, 6, 3};
  const int64_t widths[4] = {64, 128, 256, 512};
  int64_t in_c = 64;
  int64_t side = 56;
  for (int stage = 0; stage < 4; ++stage) {
    for (int64_t block = 0; block < blocks[stage]; ++block) {
      const int64_t w = widths[stage];
      const int64_t stride = (block == 0 && stage > 0) ? 2 : 1;
      const int64_t out = side / stride;
      layers.push_back(Square(1, 1, side, in_c, w, false));
      layers.push_back(Square(3, stride, out, w, w, false));
      layers.push_back(Square(1, 1, out, w, 4 * w, false));
      if (block == 0) layers.push_back(Square(1, stride, out, in_c, 4 * w, false));
      in_c = 4 * w;
      side = out;
    }
  }
  layers.push_back(Square(1, 1, 1, 2048, 1000, false));
  return layers;
}

void BM_BitFusionResNet50Table(benchmark::State& state) {
  const BitFusionConfig cfg;
  const std::vector<BitFusionConvShape> layers = ResNet50Layers();
  for (auto _ : state) {
    haq::hw::ClearBitFusionCache();
    int64_t total_cycles = 0;
    for (const BitFusionConvShape& shape : layers) {
      for (int w = 1; w <= 8; ++w) {
        for (int a = 1; a <= 8; ++a) {
          total_cycles += haq::hw::SimulateBitFusionConv(cfg, shape, w, a).cycles;
        }
      }
    }
    benchmark::DoNotOptimize(total_cycles);
  }
  state.counters["layers"] = static_cast<double>(layers.size());
}
BENCHMARK(BM_BitFusionResNet50Table)->Unit(benchmark::kMillisecond);

}  // namespace
