#pragma once
/// Which dataset a command reads and how its training images are split: the
/// settings behind the dataset flags (cli/data_options.h) and the search's run
/// settings (search/run_settings.h).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image_cache.h"
#include "data/loader.h"

namespace haq::data {

struct DataOptions {
  std::string dataset = "fashion-mnist";  ///< fashion-mnist | cifar10 | imagefolder
  std::string dir;                        ///< "" = the dataset's default location
  int64_t val = 5000;                     ///< training images held out for validation
  int64_t subset = 0;                     ///< > 0: train on only this many (quick runs)
  uint64_t split_seed = 0;
  // Image folders only:
  std::string classes;                    ///< "" (all) | N (the first N sorted) | FILE
  std::string cache;                      ///< cache folder; "" = DefaultImageCacheDir()
  std::vector<double> mean, std;          ///< normalisation for a model without its own
  std::FILE* progress = nullptr;          ///< where cache builds report; nullptr = silent
};

/// The names of the data sets LoadDataset reads.
const std::vector<std::string>& DatasetNames();

/// What a model takes, for data sets preprocessed to fit it (image folders).
struct ModelInput {
  ImageGeometry geometry;
  std::vector<double> mean, std;  ///< empty: the model has no normalisation of its own
};

/// ImageNet's per-channel statistics (R, G, B) of pixel / 255, torchvision's.
inline constexpr double kImageNetMean[3] = {0.485, 0.456, 0.406};
inline constexpr double kImageNetStd[3] = {0.229, 0.224, 0.225};

/// $HAQ_CACHE_DIR, else $XDG_CACHE_HOME/haq/images, else $HOME/.cache/haq/images,
/// else .haq-cache/images.
std::string DefaultImageCacheDir();

/// The training (`train`) or test set `o` names. An image folder (DIR/train, or
/// DIR/val as the test set) needs `input`: its images are decoded and preprocessed
/// to the model's geometry through the cache (image_cache.h), and normalised with
/// the model's statistics, else --mean/--std, else ImageNet's for 3 channels.
/// util::InputError naming the flag.
Dataset LoadDataset(const DataOptions& o, bool train, const ModelInput* input = nullptr);

struct SplitData {
  Dataset train;
  Dataset val;
};
/// The seeded train/validation split of a training set (`--subset` cuts the
/// training part).
SplitData SplitTrainVal(const Dataset& train_set, const DataOptions& o);

/// The names --finetune-augment takes: none, flip, crop-flip.
const std::vector<std::string>& FineTuneAugmentNames();
/// The augmentation a name stands for: none; hflip; random_resized_crop + hflip.
/// util::InputError naming --finetune-augment for another name.
Augment FineTuneAugment(const std::string& name);

BatchLoader MakeLoader(const Dataset& d, int64_t batch, bool shuffle, uint64_t seed,
                       Augment augment = {});

}  // namespace haq::data
