// Seconds per policy evaluation, the unit of work the search repeats hundreds of
// times: apply a random policy (bits 2..8) to the shipped MobileNet-V2-style
// Fashion-MNIST model, calibrate, (optionally fine-tune K steps of batch 64) and
// evaluate on the reward set (5,000 held-out training images).
//
//   fresh:  a new QuantContext per policy (clips, quantized weights and
//           activation statistics computed anew, 4 calibration batches of 256);
//   reused: one context for all policies, as the search runs (statistics once,
//           quantized weights per (layer, bits) once).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <random>
#include <thread>

#include "data/dataset.h"
#include "train/model_io.h"
#include "train/quantized.h"
#include "train/trainer.h"

namespace {

using namespace haq;

struct Setup {
  train::LoadedModel model;
  data::Dataset reward, tune;
  Setup() {
    torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    train::ModelRequest req;
    req.spec = "mobilenet_v2_fmnist";
    model = train::LoadModel(req);
    const data::Dataset train = data::LoadFashionMnist(data::kFashionMnistDir, true);
    // The same held-out split `haq train` left out (seed 0, 5,000 images).
    const auto split = data::SeededSplit(train.size(), train.size() - 5000, 5000, 0);
    reward = data::Subset(train, split.second);
    tune = data::Subset(train, split.first.slice(0, 0, 2000));
  }
};

Setup& Get() {
  static Setup s;
  return s;
}

data::BatchLoader Loader(const data::Dataset& d, int64_t batch, bool shuffle) {
  data::LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  return data::BatchLoader(d, o);
}

hw::Policy RandomPolicy(const graph::Network& net, std::mt19937_64& rng) {
  hw::Policy p = hw::UniformPolicy(net.LayerShapes(1), 8, 8);
  for (auto& l : p.layers) {
    l.w_bits = 2 + static_cast<int>(rng() % 7);
    l.a_bits = 2 + static_cast<int>(rng() % 7);
  }
  return p;
}

void BM_PolicyEval(benchmark::State& state, bool reuse) {
  Setup& s = Get();
  const int64_t steps = state.range(0);
  std::mt19937_64 rng(1);
  auto shared = std::make_shared<quant::QuantContext>(s.model.net, quant::QuantOptions{});
  double top1 = 0;
  for (auto _ : state) {
    auto ctx = reuse ? shared : std::make_shared<quant::QuantContext>(s.model.net, quant::QuantOptions{});
    if (!ctx->has_activation_stats()) {
      auto calib = Loader(s.reward, 256, true);
      ctx->CollectActivationStats(calib, 4);
    }
    auto tune = Loader(s.tune, 64, true);
    train::FineTuneOptions fo;
    fo.steps = steps;
    auto q = train::ApplyPolicy(s.model.net, ctx, RandomPolicy(s.model.net, rng), &tune, fo);
    auto eval = Loader(s.reward, 500, false);
    top1 += train::Evaluate(*q.net, eval, q.hook.get()).top1;
  }
  state.counters["top1"] = top1 / static_cast<double>(state.iterations());
  state.counters["weight_cache_hits"] = static_cast<double>(shared->weight_cache_hits());
}

BENCHMARK_CAPTURE(BM_PolicyEval, fresh, false)->Arg(0)->Unit(benchmark::kSecond)->Iterations(6);
BENCHMARK_CAPTURE(BM_PolicyEval, reused, true)->Arg(0)->Unit(benchmark::kSecond)->Iterations(6);
BENCHMARK_CAPTURE(BM_PolicyEval, reused, true)->Arg(32)->Unit(benchmark::kSecond)->Iterations(4);

}  // namespace
