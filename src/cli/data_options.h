#pragma once
/// Dataset flags shared by the commands that train or evaluate.
#include <CLI/CLI.hpp>

#include <string>

#include "data/dataset.h"
#include "data/loader.h"
#include "graph/network.h"
#include "train/model_io.h"

namespace haq::cli {

struct DataOptions {
  std::string dataset = "fashion-mnist";  ///< fashion-mnist | cifar10
  std::string dir;                        ///< "" = the dataset's default location
  int64_t val = 5000;                     ///< training images held out for validation
  int64_t subset = 0;                     ///< > 0: train on only this many (quick runs)
  uint64_t split_seed = 0;
};

void AddDataOptions(CLI::App& app, DataOptions& o);
data::Dataset LoadDataset(const DataOptions& o, bool train);

struct SplitData {
  data::Dataset train;
  data::Dataset val;
};
/// The seeded train/validation split of a training set.
SplitData SplitTrainVal(const data::Dataset& train_set, const DataOptions& o);

data::BatchLoader MakeLoader(const data::Dataset& d, int64_t batch, bool shuffle, uint64_t seed,
                             data::Augment augment);

/// Throws util::InputError if the network's input shape differs from the data's.
void CheckModelFitsData(const graph::Network& net, const data::Dataset& d);

/// Loads a model argument (train::LoadModel) for use on `d`: normalised with the
/// data's statistics unless its checkpoint has its own, and checked to fit.
train::LoadedModel LoadModelForData(const std::string& model, const data::Dataset& d);

}  // namespace haq::cli
