#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "train/checkpoint.h"
#include "train/model_io.h"
#include "train/resume.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::cli {

namespace {

struct TrainCliOptions {
  std::string model;
  std::string out;
  DataOptions data;
  int64_t epochs = 15;
  int64_t batch = 128;
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  double warmup = 1.0;
  double label_smoothing = 0.0;
  int64_t pad_crop = 2;
  bool hflip = true;
  uint64_t seed = 0;
  bool resume = false;
};

nlohmann::json Recipe(const TrainCliOptions& o) {
  return {{"model", o.model},          {"dataset", o.data.dataset},
          {"validation", o.data.val},  {"subset", o.data.subset},
          {"split_seed", o.data.split_seed}, {"epochs", o.epochs},
          {"batch", o.batch},          {"lr", o.lr},
          {"momentum", o.momentum},    {"weight_decay", o.weight_decay},
          {"nesterov", true},          {"warmup_epochs", o.warmup},
          {"label_smoothing", o.label_smoothing},
          {"augment", {{"pad_crop", o.pad_crop}, {"hflip", o.hflip}}},
          {"schedule", "cosine, stepped per batch"},
          {"seed", o.seed}};
}

// The model to train, a fresh seeded initialisation (without normalisation).
train::LoadedModel FreshModel(const TrainCliOptions& o) {
  train::ModelRequest req;
  req.spec = o.model;
  req.pretrained = false;
  req.seed = o.seed;
  return train::LoadModel(req);
}

// An epoch's line of the checkpoint's history.
nlohmann::json HistoryRow(const train::EpochReport& r) {
  return {{"epoch", r.epoch},           {"train_loss", r.train_loss},
          {"train_top1", r.train_top1}, {"val_top1", r.val.top1},
          {"seconds", r.seconds},       {"images_per_second", r.images_per_second}};
}

void RunTrain(const TrainCliOptions& o) {
  // Before any data is read or any epoch is trained.
  util::CheckWritableDestination(o.out);
  train::LoadedModel m = FreshModel(o);
  const data::ModelInput input = train::InputOf(m.net);
  const data::Dataset train_set = LoadDataset(o.data, /*train=*/true, &input);
  const SplitData split = SplitTrainVal(train_set, o.data);
  m.net.set_normalization(train_set.mean, train_set.std);
  CheckModelFitsData(m.net, train_set);

  train::Sgd sgd(m.net, {o.momentum, o.weight_decay, true});
  const nlohmann::json recipe = Recipe(o);
  nlohmann::json history = nlohmann::json::array();
  int64_t start_epoch = 0;
  if (o.resume && std::filesystem::exists(o.out)) {
    const train::TrainingResumed r = train::ResumeTraining(o.out, recipe, m.net, sgd);
    start_epoch = r.start_epoch;
    history = r.history;
    fmt::print("resuming {} after epoch {}\n", o.out, start_epoch);
  } else if (!o.resume && std::filesystem::exists(o.out)) {
    throw util::InputError(fmt::format(
        "{}: already exists; pass --resume to continue it, or choose another --out", o.out));
  }

  data::BatchLoader train_loader = MakeLoader(split.train, o.batch, /*shuffle=*/true, o.seed,
                                              {o.pad_crop, o.hflip});
  data::BatchLoader val_loader = MakeLoader(split.val, 512, false, o.seed, {});
  const int threads = torch::get_num_threads();
  fmt::print("training {} on {} ({} images, {} held out), {} epochs, {} thread{}\n", m.description,
             train_set.name, split.train.size(), split.val.size(), o.epochs, threads,
             threads == 1 ? "" : "s");
  std::fflush(stdout);

  auto save = [&](int64_t epoch, const nlohmann::json& extra) {
    train::Checkpoint c;
    c.model = o.model;
    c.meta = {{"recipe", recipe},
              {"epoch", epoch},
              {"history", history},
              {"normalization", {{"mean", train_set.mean}, {"std", train_set.std}}},
              {"input_chw", m.net.input_spec().chw}};
    for (const auto& [k, v] : extra.items()) c.meta[k] = v;
    c.model_state = m.net.StateDict();
    c.optimizer_state = sgd.State();
    train::SaveCheckpoint(c, o.out);
  };
  train::TrainOptions to;
  to.epochs = o.epochs;
  to.lr = o.lr;
  to.warmup_epochs = o.warmup;
  to.label_smoothing = o.label_smoothing;
  train::Train(m.net, sgd, train_loader, split.val.size() > 0 ? &val_loader : nullptr, to,
               start_epoch,
               [&](const train::EpochReport& r) {
                 history.push_back(HistoryRow(r));
                 fmt::print("epoch {}/{}: train loss {:.4f}, train top-1 {:.2f}%, val top-1 {:.2f}%, "
                            "{:.0f} img/s\n",
                            r.epoch, o.epochs, r.train_loss, r.train_top1, r.val.top1,
                            r.images_per_second);
                 std::fflush(stdout);
                 save(r.epoch, {});
               },
               stderr);

  // Final accuracy on the held-out test set, recorded in the checkpoint.
  const data::Dataset test_set = LoadDataset(o.data, /*train=*/false, &input);
  data::BatchLoader test_loader = MakeLoader(test_set, 512, false, 0, {});
  const train::EvalResult test = train::Evaluate(m.net, test_loader, nullptr, stderr);
  save(o.epochs, {{"test_top1", test.top1}, {"test_top5", test.top5}});
  fmt::print("test top-1 {:.2f}%, top-5 {:.2f}% on {} images; saved {}\n", test.top1, test.top5,
             test.images, o.out);
}

}  // namespace

Action RegisterTrain(CLI::App& app) {
  auto o = std::make_shared<TrainCliOptions>();
  app.add_option("--model", o->model, "Zoo model to train from scratch (haq list models)")->required();
  app.add_option("--out", o->out, "Checkpoint to write after every epoch (.pt)")->required();
  AddDataOptions(app, o->data);
  app.add_option("--epochs", o->epochs, "Epochs")->check(CLI::Range(1, 100000));
  app.add_option("--batch", o->batch, "Batch size")->check(CLI::Range(1, 65536));
  app.add_option("--lr", o->lr, "Peak learning rate (cosine schedule)")->check(CLI::Range(0.0, 100.0));
  app.add_option("--momentum", o->momentum, "SGD momentum (Nesterov)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--wd", o->weight_decay, "Weight decay on conv/fc weights")->check(CLI::Range(0.0, 1.0));
  app.add_option("--warmup", o->warmup, "Linear warm-up epochs")->check(CLI::Range(0.0, 1000.0));
  app.add_option("--label-smoothing", o->label_smoothing, "Label smoothing")->check(CLI::Range(0.0, 1.0));
  app.add_option("--pad-crop", o->pad_crop, "Augmentation: random crop after zero padding (pixels)")
      ->check(CLI::Range(0, 64));
  app.add_option("--hflip", o->hflip, "Augmentation: random horizontal flips (true/false)");
  app.add_option("--seed", o->seed, "Seed for initialisation, split, shuffling and augmentation");
  app.add_flag("--resume", o->resume, "Continue the checkpoint at --out (same flags required)");
  app.footer(
      "Examples:\n"
      "  haq train --model resnet20_fmnist --epochs 15 --out resnet20.pt\n"
      "  haq train --model resnet20_fmnist --epochs 15 --out resnet20.pt --resume\n"
      "  haq train --model mobilenet_v2_fmnist --epochs 20 --lr 0.05 --out mbv2.pt");
  return [o] { RunTrain(*o); };
}

}  // namespace haq::cli
