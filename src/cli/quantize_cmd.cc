#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/quant_options.h"
#include "train/checkpoint.h"
#include "train/model_io.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::cli {

namespace {

struct QuantizeCliOptions {
  std::string model;
  DataOptions data;
  QuantCliOptions quant;
  std::string out;
  std::string hw;
};

void RunQuantize(const QuantizeCliOptions& o) {
  if (!WantsQuantization(o.quant)) {
    throw util::InputError("expected --policy FILE or --bits N: the policy to apply");
  }
  if (!o.out.ends_with(".pt")) {
    throw util::InputError(fmt::format("--out: expected a .pt checkpoint path, got '{}'", o.out));
  }
  util::CheckWritableDestination(o.out);  // before any work
  const auto [m, test] = train::LoadModelWithData(o.model, o.data, /*train=*/false);

  train::QuantizedModel q = QuantizeFromFlags(m.net, o.quant, o.data, stderr);
  data::BatchLoader loader = MakeLoader(test, 512, false, 0, {});
  const train::EvalResult r = train::Evaluate(*q.net, loader, q.hook.get(), stderr);

  // The base the checkpoint's tensors belong to: the zoo name or ONNX file (a .pt
  // input names its own base).
  const std::string base = m.checkpoint ? m.checkpoint->model : o.model;
  train::Checkpoint c = train::QuantizedCheckpoint(q, base);
  c.meta["normalization"] = {{"mean", q.net->input_spec().mean}, {"std", q.net->input_spec().std}};
  c.meta["source_model"] = m.description;
  c.meta["test_top1"] = r.top1;
  c.meta["test_top5"] = r.top5;
  if (q.finetune.steps > 0) {
    c.meta["quantization"]["finetune"] = {{"steps", q.finetune.steps},
                                          {"lr", o.quant.finetune_lr},
                                          {"cosine", o.quant.finetune_cosine},
                                          {"batch", o.quant.finetune_batch},
                                          {"augment", o.quant.finetune_augment},
                                          {"train_loss", q.finetune.loss}};
  }
  train::SaveCheckpoint(c, o.out);

  const hw::Policy& policy = q.hook->policy();
  fmt::print("model {}, {} ({})\n", m.description, policy.source,
             quant::WeightMethodName(q.hook->context().options().method));
  if (q.finetune.steps > 0) {
    fmt::print("fine-tuned {} steps ({} images) in {:.1f} s, final training loss {:.4f}\n",
               q.finetune.steps, q.finetune.images, q.finetune.seconds, q.finetune.loss);
  }
  fmt::print("test top-1 {:.2f}%  top-5 {:.2f}%  ({} images)\n", r.top1, r.top5, r.images);
  fmt::print("layer weights {:.4f} MB\n", static_cast<double>(PolicyWeightBits(*q.net, policy)) / 8e6);
  if (!o.hw.empty()) fmt::print("{}\n", CostSummary(*q.net, policy, o.hw));
  fmt::print("wrote {}\n", o.out);
}

}  // namespace

Action RegisterQuantize(CLI::App& app) {
  auto o = std::make_shared<QuantizeCliOptions>();
  app.add_option("--model", o->model, "Zoo name (shipped weights), checkpoint .pt or .onnx file")
      ->required();
  AddDataOptions(app, o->data);
  AddQuantOptions(app, o->quant, /*finetune=*/true);
  app.add_option("--out", o->out, "Quantized checkpoint to write (.pt)")->required();
  app.add_option("--hw", o->hw, "Also print the policy's cost on this hardware (name or .yaml)");
  app.footer(
      "Writes a checkpoint whose layer weights are their quantized values, with the policy\n"
      "and every clip in its meta; `haq eval --model OUT.pt` evaluates it as saved.\n"
      "Examples:\n"
      "  haq quantize --model resnet20_fmnist --bits 4 --finetune-steps 500 --out r20_w4a4.pt\n"
      "  haq quantize --model mobilenet_v2_fmnist --policy best_policy.json --out q.pt\n"
      "  haq quantize --model mobilenet_v2_fmnist --bits 2 --kmeans --finetune-steps 300 --out km2.pt");
  return [o] { RunQuantize(*o); };
}

}  // namespace haq::cli
