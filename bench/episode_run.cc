// The episode benchmark: the work HAQ's released code was timed on (see
// bench/README.md, "Episode benchmark"), run through haq's own search loop, with
// seconds per episode split the same way (agent actions and wall, calibration,
// fine-tune epoch, DDPG updates, checkpoint) and the process's peak memory.
//
//   build/bench/episode_run [--episodes N] [--warmup W] [--pretrain-images N]
//                           [--work DIR] [--threads T]
//
// Data "Fashion-MNIST-32": the 60,000 training images padded to 32x32, normalised,
// copied to 3 channels; a seeded shuffle gives 1,000 validation and the next 2,000
// fine-tune/reward images; batch 64. Model: MobileNet-V2 width 1.0, stride-1 stem
// (zoo mobilenet_v2_cifar: 53 layers, 24.46 M MACs per image), pretrained once for
// one epoch on --pretrain-images images and cached in --work. Episode: 106 actions
// (bits 2..8), cost sum(MACs x w x a) against 0.6 x the 8-bit cost with HAQ's
// wall, the policy applied with KL clipping below 5 bits, one fine-tune epoch over
// the 2,000 images (SGD lr 1e-3, momentum 0.9, weight decay 4e-5, straight-through
// estimator), reward from the fine-tune's running top-1, one DDPG update per step in
// learning episodes, full-precision weights restored for the next episode.
#include <fmt/format.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "data/dataset.h"
#include "data/loader.h"
#include "graph/zoo.h"
#include "quant/context.h"
#include "search/machine.h"
#include "search/run.h"
#include "search/env.h"
#include "search/search.h"
#include "train/checkpoint.h"
#include "train/quantized.h"
#include "train/sgd.h"
#include "train/trainer.h"

namespace {

using namespace haq;
namespace fs = std::filesystem;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

data::BatchLoader Loader(const data::Dataset& d, bool shuffle, uint64_t seed) {
  data::LoaderOptions o;
  o.batch_size = search::kFinetuneBatch;
  o.shuffle = shuffle;
  o.seed = seed;
  o.out_channels = 3;
  o.out_height = 32;
  o.out_width = 32;
  return data::BatchLoader(d, o);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t episodes = 18, warmup = 9, pretrain_images = 60000;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string work = "runs/episode_bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--episodes") episodes = std::stoll(value);
    else if (flag == "--warmup") warmup = std::stoll(value);
    else if (flag == "--pretrain-images") pretrain_images = std::stoll(value);
    else if (flag == "--work") work = value;
    else if (flag == "--threads") threads = std::stoi(value);
    else {
      fmt::print(stderr, "episode_run: unknown flag {}\n", flag);
      return 2;
    }
  }
  torch::set_num_threads(threads);
  fs::create_directories(work);

  const data::Dataset train = data::LoadFashionMnist(data::kFashionMnistDir, true);
  const data::Dataset test = data::LoadFashionMnist(data::kFashionMnistDir, false);
  const torch::Tensor order = data::SeededSplit(train.size(), 3000, train.size() - 3000, 0).first;
  const data::Dataset val = data::Subset(train, order.slice(0, 0, 1000));
  const data::Dataset tune = data::Subset(train, order.slice(0, 1000, 3000));

  // Pretrained model, cached.
  graph::Network net = graph::BuildZooModel("mobilenet_v2_cifar");
  net.set_normalization(train.mean, train.std);
  const fs::path ckpt = fs::path(work) / fmt::format("mobilenet_v2_cifar_{}.pt", pretrain_images);
  if (fs::exists(ckpt)) {
    net.LoadStateDict(train::LoadCheckpoint(ckpt).model_state, ckpt.string());
  } else {
    const data::Dataset pre = data::Subset(
        train, data::SeededSplit(train.size(), pretrain_images, train.size() - pretrain_images, 1).first);
    data::LoaderOptions lo;
    lo.batch_size = 128;
    lo.shuffle = true;
    lo.out_channels = 3;
    lo.out_height = lo.out_width = 32;
    data::BatchLoader pl(pre, lo);
    train::Sgd sgd(net, {0.9, 4e-5, false});
    train::TrainOptions to;
    to.epochs = 1;
    to.lr = 0.05;
    to.warmup_epochs = 0.1;
    train::Train(net, sgd, pl, nullptr, to, 0, [](const train::EpochReport&) {}, stderr);
    train::Checkpoint c;
    c.model = "mobilenet_v2_cifar";
    c.model_state = net.StateDict();
    train::SaveCheckpoint(c, ckpt);
  }
  {
    data::BatchLoader tl = Loader(test, false, 0);
    fmt::print("pretrained ({} images, 1 epoch): test top-1 {:.2f}%\n", pretrain_images,
               train::Evaluate(net, tl).top1);
  }

  // Environment: cost = MACs x w x a against 0.6 x the 8-bit cost.
  const auto layers = net.LayerShapes(1);
  hw::CostTable table;
  table.model = "mobilenet_v2_cifar";
  table.hardware = "bitops";
  table.layers = layers;
  for (const auto& l : layers) {
    for (int w = 1; w <= 8; ++w) {
      for (int a = 1; a <= 8; ++a) {
        hw::Cost c;
        c.seconds = static_cast<double>(l.MacsPerImage()) * w * a;
        table.entries.push_back(c);
      }
    }
  }
  search::EnvOptions eo;
  const search::QuantEnv env(layers, table, search::ParseBudget("latency=0.6"), eo);

  // Calibration: one batch of 64, once (full-precision statistics serve every policy).
  const auto t_cal = std::chrono::steady_clock::now();
  auto ctx = std::make_shared<quant::QuantContext>(net, quant::QuantOptions{});
  {
    data::BatchLoader cl = Loader(tune, true, 0);
    ctx->CollectActivationStats(cl, 1);
  }
  const double calibration_seconds = Seconds(t_cal);

  std::vector<double> clip_seconds;
  search::PolicyEvaluator evaluate = [&](const hw::Policy& p) {
    search::EvalOutcome out;
    // Clips for this policy's (layer, bits) pairs not seen before.
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t l = 0; l < p.layers.size(); ++l) {
      ctx->Weights(l, p.layers[l].w_bits);
      if (p.layers[l].a_bits > 0) ctx->ActivationClip(l, p.layers[l].a_bits);
    }
    clip_seconds.push_back(Seconds(t0));
    data::BatchLoader tl = Loader(tune, true, 0);
    train::FineTuneOptions fo;
    fo.steps = tl.NumBatches();
    fo.lr = 1e-3;
    const train::QuantizedModel q = train::ApplyPolicy(net, ctx, p, &tl, fo);
    out.accuracy = q.finetune.top1;
    out.finetune_seconds = q.finetune.seconds;
    return out;
  };

  // The agent as `haq search --agent ddpg --warmup W --seed 0` makes it.
  search::RunSettings run;
  run.agent = "ddpg";
  run.warmup = warmup;
  run.seed = 0;
  const std::unique_ptr<search::Agent> agent = search::MakeAgent(run, env, 0);
  search::SearchConfig cfg;
  cfg.episodes = episodes;
  cfg.fp_accuracy = 0.0;  // timing only; the reward's offset does not change the work
  cfg.out_dir = fs::path(work) / fmt::format("run_{}", std::chrono::steady_clock::now().time_since_epoch().count());
  cfg.settings = {{"benchmark", "episode"}};
  cfg.progress = stdout;
  cfg.machine = search::MachineInfo::Current;
  const search::SearchResult r = search::RunSearch(env, *agent, evaluate, cfg);

  std::vector<double> total, act, ft, upd, ckpt_s, total_learn;
  for (size_t i = 0; i < r.log.size(); ++i) {
    const auto& e = r.log[i];
    total.push_back(e.seconds);
    act.push_back(e.act_seconds);
    ft.push_back(e.finetune_seconds);
    upd.push_back(e.update_seconds);
    ckpt_s.push_back(e.checkpoint_seconds);
    if (e.episode >= warmup) total_learn.push_back(e.seconds);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  fmt::print("\nepisode benchmark: {} episodes ({} warm-up), {} threads\n", r.log.size(), warmup, threads);
  fmt::print("median seconds per episode: {:.2f} (all), {:.2f} (learning episodes)\n", Median(total),
             Median(total_learn));
  fmt::print("  fine-tune epoch (32 steps of 64)  {:.2f}\n", Median(ft));
  fmt::print("  DDPG updates (106 per learning episode) {:.3f} (median over learning episodes: {:.3f})\n",
             Median(upd), Median(std::vector<double>(upd.begin() + std::min<int64_t>(warmup, upd.size()), upd.end())));
  fmt::print("  agent actions + wall              {:.4f}\n", Median(act));
  fmt::print("  clips for new (layer, bits) pairs {:.3f} (first episode {:.3f})\n", Median(clip_seconds),
             clip_seconds.empty() ? 0.0 : clip_seconds.front());
  fmt::print("  checkpoint (agent, log, state)    {:.3f}\n", Median(ckpt_s));
  fmt::print("  calibration (once per run)        {:.2f}\n", calibration_seconds);
  fmt::print("peak memory (max RSS) {:.2f} GiB\n", static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0));
  return 0;
}
