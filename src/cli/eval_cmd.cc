#include <fmt/format.h>
#include <torch/torch.h>

#include <memory>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/quant_options.h"
#include "train/model_io.h"
#include "train/trainer.h"

namespace haq::cli {

namespace {

struct EvalCliOptions {
  std::string model;
  DataOptions data;
  QuantCliOptions quant;
  std::string split = "test";
  int64_t batch = 512;
  std::string hw;
};

void RunEval(const EvalCliOptions& o) {
  const bool use_train = o.split == "val";
  auto [m, d] = train::LoadModelWithData(o.model, o.data, /*train=*/use_train);
  if (use_train) d = SplitTrainVal(d, o.data).val;
  data::BatchLoader loader = MakeLoader(d, o.batch, false, 0, {});

  std::string quantized;
  train::QuantizedModel q = ModelQuantization(m, o.quant, o.data, stderr, quantized);
  const graph::Network& net = *q.net;
  // A full-precision model is costed (and sized) as uniform 8-bit on hardware.
  const hw::Policy policy = q.hook ? q.hook->policy() : hw::UniformPolicy(net.LayerShapes(1), 8, 8);
  const train::EvalResult r = train::Evaluate(net, loader, q.hook.get(), stderr);
  fmt::print("model {}, {}\n", m.description, quantized);
  fmt::print("data {} ({} images)\n", d.name, r.images);
  const int threads = torch::get_num_threads();
  fmt::print("top-1 {:.2f}%  top-5 {:.2f}%  loss {:.4f}  {:.0f} images/s ({} thread{}, batch {})\n",
             r.top1, r.top5, r.loss, r.ImagesPerSecond(), threads, threads == 1 ? "" : "s", o.batch);
  const double fp_mb = static_cast<double>(PolicyWeightBits(net, hw::UniformPolicy(net.LayerShapes(1), 8, 8))) * 4 / 8e6;
  const double mb = q.hook ? static_cast<double>(PolicyWeightBits(net, policy)) / 8e6 : fp_mb;
  fmt::print("layer weights {:.4f} MB ({:.2f}x smaller than float32)\n", mb, fp_mb / mb);
  if (!o.hw.empty()) {
    fmt::print("{}{}\n", CostSummary(net, policy, o.hw),
               q.hook ? "" : " (full precision costed as uniform 8-bit)");
  }
}

}  // namespace

Action RegisterEval(CLI::App& app) {
  auto o = std::make_shared<EvalCliOptions>();
  app.add_option("--model", o->model,
                 "Zoo name (shipped weights), checkpoint .pt (quantized ones included) or .onnx file")
      ->required();
  AddDataOptions(app, o->data);
  AddQuantOptions(app, o->quant, /*finetune=*/true);
  app.add_option("--split", o->split, "test (the test set) or val (the held-out training images)")
      ->check(CLI::IsMember({"test", "val"}));
  app.add_option("--batch", o->batch, "Batch size")->check(CLI::Range(1, 65536));
  app.add_option("--hw", o->hw, "Also print the policy's cost on this hardware (name or .yaml)");
  app.footer(
      "Examples:\n"
      "  haq eval --model resnet20_fmnist\n"
      "  haq eval --model resnet20_fmnist --bits 4 --finetune-steps 200 --hw bismo-edge\n"
      "  haq eval --model mobilenet_v2_fmnist --policy best_policy.json --hw bitfusion\n"
      "  haq eval --model quantized.pt\n"
      "  haq eval --model exported.onnx");
  return [o] { RunEval(*o); };
}

}  // namespace haq::cli
