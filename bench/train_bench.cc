// Training and evaluation throughput of the compact Fashion-MNIST models on
// synthetic 1x28x28 batches (the data pipeline is measured separately): one SGD
// step (forward, backward, update) at batch 128, and inference at batch 512; the
// episode benchmark's step in float and fake-quantized; fake quantization alone,
// fused against ATen's composite.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <thread>

#include "graph/zoo.h"
#include "quant/policy_hook.h"
#include "relu6_apart.h"
#include "quant/quantizers.h"
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

enum class StepKind { kFloat, kFakeQuant, kFakeQuantReluSixApart };

// The episode benchmark's network (mobilenet_v2_cifar, 3x32x32, batch 64): one
// SGD step in full precision or through a uniform 8-bit fake-quantization hook
// (each ReLU6 fused into the next layer's input quantizer, or run apart), with the
// input in contiguous (NCHW) or channels-last memory format.
void BM_CifarStep(benchmark::State& state, StepKind kind, bool channels_last) {
  SetThreads();
  auto net = haq::graph::BuildZooModel("mobilenet_v2_cifar");
  haq::train::Sgd sgd(net, {0.9, 4e-5, false});
  const int64_t batch = 64;
  auto x = torch::randn({batch, 3, 32, 32});
  if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch::randint(0, 10, {batch}, torch::kLong);
  haq::quant::PolicyHook hook(net, haq::hw::UniformPolicy(net.LayerShapes(1), 8, 8));
  haq::bench::ReluSixApart apart(hook);
  haq::graph::LayerHook* ctx_hook = nullptr;
  if (kind != StepKind::kFloat) {
    ctx_hook = kind == StepKind::kFakeQuant ? static_cast<haq::graph::LayerHook*>(&hook) : &apart;
    // Fixed clips (timing only): weights at 1, activations at 6, unsigned.
    hook.context().Preset(hook.policy(), std::vector<std::vector<double>>(net.quant_layers().size(), {1.0}),
                          std::vector<double>(net.quant_layers().size(), 6.0),
                          std::vector<bool>(net.quant_layers().size(), false));
  }
  const auto step = [&] {
    sgd.ZeroGrad();
    auto loss = torch::nn::functional::cross_entropy(net.Forward(x, true, ctx_hook), y);
    loss.backward();
    sgd.Step(0.001);
  };
  // Two untimed steps first (first-touch page faults, oneDNN primitives), so that
  // short repetitions interleaved at random measure the steady step.
  step();
  step();
  for (auto _ : state) step();
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}

// One activation tensor of the episode benchmark's network at batch 64 (its widest:
// 64 x 96 x 16 x 16, channels-last), forward and backward, side by side: 8-bit
// fake quantization by the fused kernels (LinearQuantize) and by ATen's composite
// of the same definition (LinearQuantizeComposite); ReLU6 (hardtanh) alone; and
// ReLU6 fused into the 8-bit quantizer (ClampThenLinearQuantize).
enum class ActivationOp { kFused, kComposite, kReluSix, kReluSixFused };

void BM_FakeQuant(benchmark::State& state, ActivationOp op) {
  SetThreads();
  const auto x = torch::randn({64, 96, 16, 16}).contiguous(torch::MemoryFormat::ChannelsLast).requires_grad_(true);
  const auto g = torch::randn_like(x);
  for (auto _ : state) {
    torch::Tensor q;
    switch (op) {
      case ActivationOp::kFused: q = haq::quant::LinearQuantize(x, 2.0, 8, false); break;
      case ActivationOp::kComposite: q = haq::quant::LinearQuantizeComposite(x, 2.0, 8, false); break;
      case ActivationOp::kReluSix: q = torch::hardtanh(x, 0.0, 6.0); break;
      case ActivationOp::kReluSixFused: q = haq::quant::ClampThenLinearQuantize(x, 0.0, 6.0, 2.0, 8, false); break;
    }
    const auto grad = torch::autograd::grad({q}, {x}, {g});
    benchmark::DoNotOptimize(grad[0].data_ptr());
  }
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(x.numel() * state.iterations()), benchmark::Counter::kIsRate);
}

// A 224-px zoo model's fine-tune step as an episode takes it (issue 23's estimate of
// an ImageNet-100 search): batch 32, channels-last, uniform 8-bit fake quantization
// with fixed clips, at 1 and 2 intra-op threads (the argument) for the scaling.
void BM_Step224(benchmark::State& state, const char* model) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  auto net = haq::graph::BuildZooModel(model);
  haq::train::Sgd sgd(net, {0.9, 4e-5, false});
  const int64_t batch = 32;
  const auto x = torch::randn({batch, 3, 224, 224}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch::randint(0, 1000, {batch}, torch::kLong);
  haq::quant::PolicyHook hook(net, haq::hw::UniformPolicy(net.LayerShapes(1), 8, 8));
  const size_t layers = net.quant_layers().size();
  hook.context().Preset(hook.policy(), std::vector<std::vector<double>>(layers, {1.0}),
                        std::vector<double>(layers, 6.0), std::vector<bool>(layers, false));
  bool warm = false;
  for (auto _ : state) {
    if (!warm) {  // one untimed step first: first-touch page faults, oneDNN primitives
      state.PauseTiming();
      sgd.ZeroGrad();
      torch::nn::functional::cross_entropy(net.Forward(x, true, &hook), y).backward();
      state.ResumeTiming();
      warm = true;
    }
    sgd.ZeroGrad();
    auto loss = torch::nn::functional::cross_entropy(net.Forward(x, true, &hook), y);
    loss.backward();
    sgd.Step(0.001);
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_Step224, mobilenet_v2, "mobilenet_v2")
    ->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);
BENCHMARK_CAPTURE(BM_FakeQuant, fused, ActivationOp::kFused)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_FakeQuant, composite, ActivationOp::kComposite)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_FakeQuant, relu6, ActivationOp::kReluSix)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_FakeQuant, relu6_fused, ActivationOp::kReluSixFused)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, float_nchw, StepKind::kFloat, false)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, float_channels_last, StepKind::kFloat, true)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, fakequant8_nchw, StepKind::kFakeQuant, false)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, fakequant8_channels_last, StepKind::kFakeQuant, true)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, fakequant8_relu6_apart_nchw, StepKind::kFakeQuantReluSixApart, false)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CifarStep, fakequant8_relu6_apart_channels_last, StepKind::kFakeQuantReluSixApart, true)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_CAPTURE(BM_TrainStep, resnet20_fmnist, "resnet20_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, mobilenet_v2_fmnist, "mobilenet_v2_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Eval, resnet20_fmnist, "resnet20_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Eval, mobilenet_v2_fmnist, "mobilenet_v2_fmnist")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
