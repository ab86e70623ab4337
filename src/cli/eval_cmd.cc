#include <fmt/format.h>
#include <torch/torch.h>

#include <memory>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "train/model_io.h"
#include "train/trainer.h"

namespace haq::cli {

namespace {

struct EvalCliOptions {
  std::string model;
  DataOptions data;
  std::string split = "test";
  int64_t batch = 512;
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
  const train::EvalResult r = train::Evaluate(m.net, loader, nullptr, stderr);
  fmt::print("model {}\n", m.description);
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
  app.footer(
      "Examples:\n"
      "  haq eval --model resnet20_fmnist\n"
      "  haq eval --model my_checkpoint.pt --split val\n"
      "  haq eval --model exported.onnx");
  return [o] { RunEval(*o); };
}

}  // namespace haq::cli
