#include <fmt/format.h>
#include <torch/torch.h>

#include <memory>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "hw/cost_table.h"
#include "hw/policy.h"
#include "quant/policy_hook.h"
#include "train/model_io.h"
#include "train/trainer.h"

namespace haq::cli {

namespace {

struct EvalCliOptions {
  std::string model;
  DataOptions data;
  std::string split = "test";
  int64_t batch = 512;
  std::string policy;
  int bits = 0;
  int64_t calib_batches = 4;
};

void RunEval(const EvalCliOptions& o) {
  train::ModelRequest req;
  req.spec = o.model;
  train::LoadedModel m = train::LoadModel(req);
  const bool use_train = o.split == "val";
  data::Dataset d = LoadDataset(o.data, /*train=*/use_train);
  if (use_train) d = SplitTrainVal(d, o.data).val;
  if (m.net.input_spec().mean.empty()) m.net.set_normalization(d.mean, d.std);
  CheckModelFitsData(m.net, d);
  data::BatchLoader loader = MakeLoader(d, o.batch, false, 0, {});
  std::unique_ptr<quant::PolicyHook> hook;
  std::string quantized = "full precision";
  if (!o.policy.empty() || o.bits > 0) {
    const auto layers = m.net.LayerShapes(1);
    hw::Policy policy = o.policy.empty() ? hw::UniformPolicy(layers, o.bits, o.bits)
                                         : hw::LoadPolicy(o.policy);
    hw::CheckPolicyMatches(policy, layers, m.net.name());
    int64_t weight_bits = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      weight_bits += hw::WeightBits(layers[i], policy.layers[i].w_bits);
    }
    hook = std::make_unique<quant::PolicyHook>(m.net, std::move(policy));
    // Activation ranges come from held-out training images, never from the data
    // being evaluated.
    data::BatchLoader calib_loader =
        MakeLoader(SplitTrainVal(LoadDataset(o.data, true), o.data).val, o.batch, true, 0, {});
    hook->Calibrate(calib_loader, o.calib_batches);
    quantized = fmt::format("quantized ({}), weights {:.4f} MB",
                            o.policy.empty() ? fmt::format("uniform {} bits", o.bits) : o.policy,
                            static_cast<double>(weight_bits) / 8e6);
  }
  const train::EvalResult r = train::Evaluate(m.net, loader, hook.get(), stderr);
  fmt::print("model {}, {}\n", m.description, quantized);
  fmt::print("data {} ({} images)\n", d.name, r.images);
  fmt::print("top-1 {:.2f}%  top-5 {:.2f}%  loss {:.4f}  {:.0f} images/s ({} threads, batch {})\n",
             r.top1, r.top5, r.loss, r.ImagesPerSecond(), torch::get_num_threads(), o.batch);
}

}  // namespace

Action RegisterEval(CLI::App& app) {
  auto o = std::make_shared<EvalCliOptions>();
  app.add_option("--model", o->model,
                 "Zoo name (shipped weights), checkpoint .pt or .onnx file")
      ->required();
  AddDataOptions(app, o->data);
  app.add_option("--split", o->split, "test (the test set) or val (the held-out training images)")
      ->check(CLI::IsMember({"test", "val"}));
  app.add_option("--batch", o->batch, "Batch size")->check(CLI::Range(1, 65536));
  auto* policy = app.add_option("--policy", o->policy, "Evaluate with this quantization policy (JSON)");
  app.add_option("--bits", o->bits, "Evaluate uniformly quantized to this many bits")
      ->check(CLI::Range(1, 8))
      ->excludes(policy);
  app.add_option("--calib-batches", o->calib_batches,
                 "Batches of held-out training images that calibrate activation ranges")
      ->check(CLI::Range(1, 100000));
  app.footer(
      "Examples:\n"
      "  haq eval --model resnet20_fmnist\n"
      "  haq eval --model my_checkpoint.pt --split val\n"
      "  haq eval --model exported.onnx");
  return [o] { RunEval(*o); };
}

}  // namespace haq::cli
