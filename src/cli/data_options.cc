#include "cli/data_options.h"

#include <fmt/format.h>

#include "util/error.h"

namespace haq::cli {

void AddDataOptions(CLI::App& app, DataOptions& o) {
  app.add_option("--dataset", o.dataset, "fashion-mnist (Debian package) or cifar10 (binary version)")
      ->check(CLI::IsMember({"fashion-mnist", "cifar10"}));
  app.add_option("--data-dir", o.dir, "Dataset directory (default: the Debian package's for fashion-mnist)");
  app.add_option("--val", o.val, "Training images held out for validation (seeded split)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--split-seed", o.split_seed, "Seed of the train/validation split");
  app.add_option("--subset", o.subset, "Use only this many training images (quick runs; 0 = all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
}

data::Dataset LoadDataset(const DataOptions& o, bool train) {
  if (o.dataset == "cifar10") {
    if (o.dir.empty()) {
      throw util::InputError("--data-dir: cifar10 needs the directory of its binary version "
                             "(data_batch_1.bin ... test_batch.bin)");
    }
    return data::LoadCifar10(o.dir, train);
  }
  return data::LoadFashionMnist(o.dir.empty() ? data::kFashionMnistDir : o.dir, train);
}

SplitData SplitTrainVal(const data::Dataset& d, const DataOptions& o) {
  if (o.val >= d.size()) {
    throw util::InputError(fmt::format("--val: expected fewer than the {} training images, got {}",
                                       d.size(), o.val));
  }
  const data::Split s = data::SeededSplit(d.size(), d.size() - o.val, o.val, o.split_seed);
  torch::Tensor train = s.first;
  if (o.subset > 0) train = train.slice(0, 0, std::min(o.subset, train.size(0)));
  return {data::Subset(d, train), data::Subset(d, s.second)};
}

data::BatchLoader MakeLoader(const data::Dataset& d, int64_t batch, bool shuffle, uint64_t seed,
                             data::Augment augment) {
  data::LoaderOptions lo;
  lo.batch_size = batch;
  lo.shuffle = shuffle;
  lo.seed = seed;
  lo.augment = augment;
  return data::BatchLoader(d, lo);
}

void CheckModelFitsData(const graph::Network& net, const data::Dataset& d) {
  const std::vector<int64_t> data_chw = {d.channels(), d.height(), d.width()};
  if (net.input_spec().chw != data_chw) {
    throw util::InputError(fmt::format("model '{}' takes {} input, but {} has {} images", net.name(),
                                       fmt::join(net.input_spec().chw, "x"), d.name,
                                       fmt::join(data_chw, "x")));
  }
}

train::LoadedModel LoadModelForData(const std::string& model, const data::Dataset& d) {
  train::ModelRequest req;
  req.spec = model;
  train::LoadedModel m = train::LoadModel(req);
  if (m.net.input_spec().mean.empty()) m.net.set_normalization(d.mean, d.std);
  CheckModelFitsData(m.net, d);
  return m;
}

}  // namespace haq::cli
