#pragma once
/// Dataset flags shared by the commands that train or evaluate.
#include <CLI/CLI.hpp>

#include "data/options.h"
#include "train/model_io.h"

namespace haq::cli {

using data::DataOptions;
using data::LoadDataset;
using data::MakeLoader;
using data::SplitData;
using data::SplitTrainVal;
using train::CheckModelFitsData;
using train::LoadModelForData;

void AddDataOptions(CLI::App& app, DataOptions& o);

}  // namespace haq::cli
