#include "train/quantized.h"

#include <fmt/format.h>

#include "util/error.h"
#include "util/json.h"
#include "util/progress.h"

namespace haq::train {

namespace F = torch::nn::functional;

FineTuneResult FineTune(graph::Network& net, quant::PolicyHook& hook, data::BatchLoader& loader,
                        const FineTuneOptions& o, std::FILE* progress) {
  FineTuneResult r;
  if (o.steps <= 0) return r;
  Sgd sgd(net, o.sgd);
  const auto centroids = hook.TrainableCentroids();
  for (size_t i = 0; i < centroids.size(); ++i) {
    sgd.AddParameter(fmt::format("centroids.{}", i), centroids[i], 0.0);
  }
  util::Progress bar(progress, "fine-tune", o.steps, "steps");
  int64_t epoch = 0, correct = 0;
  double loss_sum = 0.0;
  loader.StartEpoch(epoch);
  data::Batch batch;
  while (r.steps < o.steps) {
    if (!loader.Next(batch)) {
      if (r.steps == 0 && epoch > 0) break;  // an empty loader
      loader.StartEpoch(++epoch);
      if (!loader.Next(batch)) {
        throw util::InputError("fine-tuning: expected at least one batch of data, got none");
      }
    }
    const double lr = o.cosine ? CosineLr(o.lr, static_cast<double>(r.steps),
                                          static_cast<double>(o.steps), 0.0)
                               : o.lr;
    sgd.ZeroGrad();
    const torch::Tensor images =
        o.channels_last && batch.images.dim() == 4
            ? batch.images.contiguous(torch::MemoryFormat::ChannelsLast)
            : batch.images;
    const torch::Tensor logits = net.Forward(images, /*training=*/true, &hook);
    const torch::Tensor loss = F::cross_entropy(logits, batch.labels);
    loss.backward();
    sgd.Step(lr);
    const int64_t n = batch.labels.size(0);
    loss_sum += loss.item<double>();
    correct += logits.detach().argmax(1).eq(batch.labels).sum().item<int64_t>();
    r.images += n;
    ++r.steps;
    bar.Update(r.steps, fmt::format("loss {:.3f}", loss_sum / static_cast<double>(r.steps)));
  }
  r.seconds = bar.ElapsedSeconds();
  bar.Finish(fmt::format("{} steps", r.steps));
  if (r.steps > 0) {
    r.loss = loss_sum / static_cast<double>(r.steps);
    r.top1 = 100.0 * static_cast<double>(correct) / static_cast<double>(r.images);
  }
  return r;
}

QuantizedModel ApplyPolicy(const graph::Network& trained,
                           std::shared_ptr<quant::QuantContext> context, const hw::Policy& policy,
                           data::BatchLoader* loader, const FineTuneOptions& options,
                           std::FILE* progress) {
  QuantizedModel q;
  if (options.steps > 0) {
    if (loader == nullptr) {
      throw util::InputError("fine-tuning: expected a training data loader, got none");
    }
    q.tuned = std::make_unique<graph::Network>(trained.Clone());
    q.net = q.tuned.get();
    q.hook = std::make_unique<quant::PolicyHook>(context, *q.tuned, policy);
    q.finetune = FineTune(*q.tuned, *q.hook, *loader, options, progress);
  } else {
    // No training: the trained network itself, so the context's cached quantized
    // weights apply.
    q.net = &trained;
    q.hook = std::make_unique<quant::PolicyHook>(context, trained, policy);
  }
  return q;
}

namespace {

constexpr const char* kRecordKey = "quantization";

}  // namespace

Checkpoint QuantizedCheckpoint(QuantizedModel& q, const std::string& model) {
  Checkpoint c;
  c.model = model;
  c.model_state = q.net->StateDict();
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < q.net->quant_layers().size(); ++i) {
      const int value = q.net->quant_layers()[i].weight_value;
      const std::string& name = q.net->value_names()[static_cast<size_t>(value)];
      c.model_state[name] = q.hook->Weight(i, q.net->Initializer(value)).detach().clone();
    }
  }
  quant::QuantContext& ctx = q.hook->context();
  const auto& opts = ctx.options();
  nlohmann::json rec;
  rec["method"] = quant::WeightMethodName(opts.method);
  rec["per_channel"] = opts.per_channel;
  rec["kl_below_bits"] = opts.kl_below_bits;
  rec["calibration_batches"] = ctx.calibration_batches();
  rec["finetune_steps"] = q.finetune.steps;
  rec["policy"] = nlohmann::json::parse(hw::PolicyToJson(q.hook->policy(), q.net->name(), ""));
  rec["weight_clips"] = q.hook->WeightClips();
  rec["activation_clips"] = q.hook->ActivationClips();
  rec["activation_signed"] = q.hook->ActivationSigned();
  c.meta[kRecordKey] = rec;
  return c;
}

std::unique_ptr<quant::PolicyHook> HookFromCheckpoint(const graph::Network& net,
                                                      const Checkpoint& checkpoint,
                                                      const std::string& source) {
  if (!checkpoint.meta.contains(kRecordKey)) return nullptr;
  const std::string where = fmt::format("{}: meta.{}", source, kRecordKey);
  const nlohmann::json& rec = checkpoint.meta.at(kRecordKey);
  quant::QuantOptions o;
  if (rec.contains("per_channel") && rec["per_channel"].is_boolean()) {
    o.per_channel = rec["per_channel"].get<bool>();
  }
  const auto& method = util::JsonMember(rec, "method", where);
  if (!method.is_string()) {
    throw util::InputError(fmt::format("{}.method: expected a string, got {}", where, method.type_name()));
  }
  o.method = quant::ParseWeightMethod(method.get<std::string>(), where + ".method");
  hw::Policy policy = hw::ParsePolicy(util::JsonMember(rec, "policy", where).dump(), where + ".policy");
  hw::CheckPolicyMatches(policy, net.LayerShapes(1), net.name());
  const size_t n = policy.layers.size();
  const auto& wc = util::JsonMember(rec, "weight_clips", where);
  const auto& ac = util::JsonMember(rec, "activation_clips", where);
  const auto& as = util::JsonMember(rec, "activation_signed", where);
  if (!wc.is_array() || wc.size() != n || !ac.is_array() || ac.size() != n || !as.is_array() ||
      as.size() != n) {
    throw util::InputError(fmt::format(
        "{}: expected weight_clips, activation_clips and activation_signed arrays of {} entries "
        "(one per layer)",
        where, n));
  }
  std::vector<std::vector<double>> weight_clips;
  std::vector<bool> signs;
  for (size_t i = 0; i < n; ++i) {
    weight_clips.push_back(util::JsonNumbers(wc[i], fmt::format("{}.weight_clips[{}]", where, i)));
    if (!as[i].is_boolean()) {
      throw util::InputError(fmt::format("{}.activation_signed[{}]: expected true or false, got {}",
                                         where, i, as[i].type_name()));
    }
    signs.push_back(as[i].get<bool>());
  }
  const std::vector<double> act_clips = util::JsonNumbers(ac, where + ".activation_clips");
  auto ctx = std::make_shared<quant::QuantContext>(net, o);
  ctx->Preset(policy, weight_clips, act_clips, signs);
  return std::make_unique<quant::PolicyHook>(ctx, net, std::move(policy));
}

}  // namespace haq::train
