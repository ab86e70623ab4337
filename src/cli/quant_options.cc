#include "cli/quant_options.h"

#include <fmt/format.h>

#include "hw/cost_model.h"
#include "hw/cost_table.h"
#include "hw/spec.h"

namespace haq::cli {

void AddQuantOptions(CLI::App& app, QuantCliOptions& o, bool finetune) {
  auto* policy =
      app.add_option("--policy", o.policy, "Quantization policy JSON (object form or HAQ's [[w,a],...])");
  app.add_option("--bits", o.bits, "Uniform quantization: weight (and activation) bits")
      ->check(CLI::Range(1, 8))
      ->excludes(policy);
  app.add_option("--act-bits", o.act_bits,
                 "With --bits: activation bits, 0 = full precision (default: --bits; with "
                 "--kmeans: 0, weights only)")
      ->check(CLI::Range(0, 8));
  app.add_flag("--kmeans", o.kmeans, "K-means weight quantization (2^b centroids) instead of linear");
  app.add_flag("--per-channel", o.per_channel,
               "Linear weights: one clip per output channel (its max |w|) instead of per layer");
  app.add_option("--kl-below", o.kl_below_bits,
                 "KL-divergence clipping below this many bits, the maximum at and above (HAQ: 5)")
      ->check(CLI::Range(1, 9));
  app.add_option("--calib-batches", o.calib_batches,
                 "Batches of held-out training images that calibrate activation ranges")
      ->check(CLI::Range(1, 100000));
  app.add_option("--quant-seed", o.seed, "Seed of calibration sampling and k-means++");
  if (finetune) {
    app.add_option("--finetune-steps", o.finetune_steps,
                   "Fine-tune the quantized model for this many batches (straight-through "
                   "estimator; k-means: centroids)")
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
    app.add_option("--finetune-lr", o.finetune_lr, "Fine-tuning learning rate (SGD, momentum 0.9)")
        ->check(CLI::PositiveNumber);
    app.add_flag("--finetune-cosine", o.finetune_cosine,
                 "Cosine learning-rate decay over the fine-tune instead of a constant rate");
    app.add_option("--finetune-batch", o.finetune_batch, "Fine-tuning batch size")
        ->check(CLI::Range(1, 65536));
    app.add_option("--finetune-augment", o.finetune_augment,
                   "Fine-tuning augmentation: none, flip, or crop-flip (RandomResizedCrop and flips)")
        ->check(CLI::IsMember(data::FineTuneAugmentNames()));
  }
}

bool WantsQuantization(const QuantCliOptions& o) { return !o.policy.empty() || o.bits > 0; }

hw::Policy RequestedPolicy(const QuantCliOptions& o, const graph::Network& net) {
  const auto layers = net.LayerShapes(1);
  hw::Policy p;
  if (!o.policy.empty()) {
    p = hw::LoadPolicy(o.policy);
  } else {
    const int a = o.act_bits >= 0 ? o.act_bits : (o.kmeans ? 0 : o.bits);
    p = hw::UniformPolicy(layers, o.bits, a);
    p.source = a == o.bits ? fmt::format("uniform {} bits", o.bits)
                           : fmt::format("uniform {}-bit weights, {} activations", o.bits,
                                         a == 0 ? std::string("full-precision")
                                                : fmt::format("{}-bit", a));
  }
  hw::CheckPolicyMatches(p, layers, net.name());
  return p;
}

train::QuantizedModel QuantizeFromFlags(const graph::Network& net, const QuantCliOptions& o,
                                        const DataOptions& data, std::FILE* progress) {
  quant::QuantOptions qo;
  qo.method = o.kmeans ? quant::WeightMethod::kKMeans : quant::WeightMethod::kLinear;
  qo.per_channel = o.per_channel;
  qo.kl_below_bits = o.kl_below_bits;
  qo.seed = o.seed;
  hw::Policy policy = RequestedPolicy(o, net);
  auto ctx = std::make_shared<quant::QuantContext>(net, qo);
  const data::ModelInput input = train::InputOf(net);
  const SplitData split = SplitTrainVal(LoadDataset(data, /*train=*/true, &input), data);
  data::BatchLoader calib = MakeLoader(split.val, 256, /*shuffle=*/true, o.seed, {});
  ctx->CollectActivationStats(calib, o.calib_batches);
  train::FineTuneOptions fo;
  fo.steps = o.finetune_steps;
  fo.lr = o.finetune_lr;
  fo.cosine = o.finetune_cosine;
  if (o.finetune_steps == 0) return train::ApplyPolicy(net, ctx, policy, nullptr, fo, progress);
  data::BatchLoader tune = MakeLoader(split.train, o.finetune_batch, /*shuffle=*/true, o.seed,
                                      data::FineTuneAugment(o.finetune_augment));
  return train::ApplyPolicy(net, ctx, policy, &tune, fo, progress);
}

train::QuantizedModel ModelQuantization(const train::LoadedModel& m, const QuantCliOptions& o,
                                        const DataOptions& data, std::FILE* progress,
                                        std::string& description) {
  train::QuantizedModel q;
  description = "full precision";
  if (WantsQuantization(o)) {
    q = QuantizeFromFlags(m.net, o, data, progress);
    description = fmt::format("quantized ({}, {})", q.hook->policy().source,
                              quant::WeightMethodName(q.hook->context().options().method));
  } else {
    q.net = &m.net;
    if (m.checkpoint) q.hook = train::HookFromCheckpoint(m.net, *m.checkpoint, m.checkpoint_path);
    if (q.hook) description = "quantized (as saved)";
  }
  return q;
}

int64_t PolicyWeightBits(const graph::Network& net, const hw::Policy& policy) {
  const auto layers = net.LayerShapes(1);
  int64_t bits = 0;
  for (size_t i = 0; i < layers.size(); ++i) bits += hw::WeightBits(layers[i], policy.layers[i].w_bits);
  return bits;
}

std::string CostSummary(const graph::Network& net, const hw::Policy& policy,
                        const std::string& hw_name) {
  if (hw_name.empty()) return "";
  const hw::HardwareSpec spec = hw::LoadHardware(hw_name);
  const auto cost = hw::EvaluatePolicy(*hw::MakeCostModel(spec), net.LayerShapes(spec.batch), policy);
  const auto eight = hw::EvaluatePolicy(*hw::MakeCostModel(spec), net.LayerShapes(spec.batch),
                                        hw::UniformPolicy(net.LayerShapes(spec.batch), 8, 8));
  std::string energy = cost.has_energy ? fmt::format("{:.4f} mJ ({:.3f}x of 8-bit)",
                                                     cost.energy_pj * 1e-9,
                                                     cost.energy_pj / eight.energy_pj)
                                       : std::string("n/a");
  return fmt::format("cost on {} (batch {}): latency {:.4f} ms ({:.3f}x of uniform 8-bit), energy {}",
                     spec.name, spec.batch, cost.seconds * 1e3, cost.seconds / eight.seconds, energy);
}

}  // namespace haq::cli
