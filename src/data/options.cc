#include "data/options.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/error.h"

namespace haq::data {

Dataset LoadDataset(const DataOptions& o, bool train) {
  if (o.dataset == "cifar10") {
    if (o.dir.empty()) {
      throw util::InputError("--data-dir: cifar10 needs the directory of its binary version "
                             "(data_batch_1.bin ... test_batch.bin)");
    }
    return LoadCifar10(o.dir, train);
  }
  return LoadFashionMnist(o.dir.empty() ? kFashionMnistDir : o.dir, train);
}

SplitData SplitTrainVal(const Dataset& d, const DataOptions& o) {
  if (o.val >= d.size()) {
    throw util::InputError(fmt::format("--val: expected fewer than the {} training images, got {}",
                                       d.size(), o.val));
  }
  const Split s = SeededSplit(d.size(), d.size() - o.val, o.val, o.split_seed);
  torch::Tensor train = s.first;
  if (o.subset > 0) train = train.slice(0, 0, std::min(o.subset, train.size(0)));
  return {Subset(d, train), Subset(d, s.second)};
}

BatchLoader MakeLoader(const Dataset& d, int64_t batch, bool shuffle, uint64_t seed,
                       Augment augment) {
  LoaderOptions lo;
  lo.batch_size = batch;
  lo.shuffle = shuffle;
  lo.seed = seed;
  lo.augment = augment;
  return BatchLoader(d, lo);
}

}  // namespace haq::data
