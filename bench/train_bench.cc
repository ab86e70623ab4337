// Training and evaluation throughput of the compact Fashion-MNIST models on
// synthetic 1x28x28 batches (the data pipeline is measured separately): one SGD
// step (forward, backward, update) at batch 128, and inference at batch 512.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <thread>

#include "graph/zoo.h"
#include "quant/policy_hook.h"
#include "train/sgd.h"

namespace {

void SetThreads() {
  torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

void BM_TrainStep(benchmark::State& state, const char* model) {
  SetThreads();
  auto net = haq::graph::BuildZooModel(model);
  haq::train::Sgd sgd(net, {});
  const int64_t batch = 128;
  const auto x = torch::randn({batch, 1, 28, 28});
  const auto y = torch::randint(0, 10, {batch}, torch::kLong);
  for (auto _ : state) {
    sgd.ZeroGrad();
    auto loss = torch::nn::functional::cross_entropy(net.Forward(x, true), y);
    loss.backward();
    sgd.Step(0.01);
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Eval(benchmark::State& state, const char* model) {
  SetThreads();
  auto net = haq::graph::BuildZooModel(model);
  torch::NoGradGuard no_grad;
  const int64_t batch = 512;
  const auto x = torch::randn({batch, 1, 28, 28});
  for (auto _ : state) benchmark::DoNotOptimize(net.Forward(x, false));
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}

// The episode benchmark's network (mobilenet_v2_cifar, 3x32x32, batch 64): one
// SGD step in full precision or through a uniform 8-bit fake-quantization hook,
// with the input in contiguous (NCHW) or channels-last memory format.
void BM_CifarStep(benchmark::State& state, bool quantized, bool channels_last) {
  SetThreads();
  auto net = haq::graph::BuildZooModel("mobilenet_v2_cifar");
  haq::train::Sgd sgd(net, {0.9, 4e-5, false});
  const int64_t batch = 64;
  auto x = torch::randn({batch, 3, 32, 32});
  if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch::randint(0, 10, {batch}, torch::kLong);
  haq::quant::PolicyHook hook(net, haq::hw::UniformPolicy(net.LayerShapes(1), 8, 8));
  auto ctx_hook = quantized ? &hook : nullptr;
  if (quantized) {
    // Fixed clips (timing only): weights at 1, activations at 6, unsigned.
    hook.context().Preset(hook.policy(), std::vector<std::vector<double>>(net.quant_layers().size(), {1.0}),
                          std::vector<double>(net.quant_layers().size(), 6.0),
                          std::vector<bool>(net.quant_layers().size(), false));
  }
  for (auto _ : state) {
    sgd.ZeroGrad();
    auto loss = torch::nn::functional::cross_entropy(net.Forward(x, true, ctx_hook), y);
    loss.backward();
    sgd.Step(0.001);
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_CifarStep, float_nchw, false, false)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, float_channels_last, false, true)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, fakequant8_nchw, true, false)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, fakequant8_channels_last, true, true)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_CAPTURE(BM_TrainStep, resnet20_fmnist, "resnet20_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, mobilenet_v2_fmnist, "mobilenet_v2_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Eval, resnet20_fmnist, "resnet20_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Eval, mobilenet_v2_fmnist, "mobilenet_v2_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
