#pragma once
/// Which dataset a command reads and how its training images are split: the
/// settings behind the dataset flags (cli/data_options.h) and the search's run
/// settings (search/run_settings.h).
#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "data/loader.h"

namespace haq::data {

struct DataOptions {
  std::string dataset = "fashion-mnist";  ///< fashion-mnist | cifar10
  std::string dir;                        ///< "" = the dataset's default location
  int64_t val = 5000;                     ///< training images held out for validation
  int64_t subset = 0;                     ///< > 0: train on only this many (quick runs)
  uint64_t split_seed = 0;
};

/// The training (`train`) or test set `o` names. util::InputError naming the flag.
Dataset LoadDataset(const DataOptions& o, bool train);

struct SplitData {
  Dataset train;
  Dataset val;
};
/// The seeded train/validation split of a training set (`--subset` cuts the
/// training part).
SplitData SplitTrainVal(const Dataset& train_set, const DataOptions& o);

BatchLoader MakeLoader(const Dataset& d, int64_t batch, bool shuffle, uint64_t seed,
                       Augment augment = {});

}  // namespace haq::data
