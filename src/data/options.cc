#include "data/options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "data/image_folder.h"
#include "util/error.h"

namespace haq::data {

namespace {

/// The normalisation of an image folder's images for a model taking `input`.
void SetNormalization(Dataset& d, const DataOptions& o, const ModelInput& input) {
  const auto c = static_cast<size_t>(input.geometry.channels);
  if (!input.mean.empty()) {
    d.mean = input.mean;
    d.std = input.std;
  } else if (!o.mean.empty() || !o.std.empty()) {
    for (const auto& [flag, values] : {std::pair{"--mean", &o.mean}, std::pair{"--std", &o.std}}) {
      if (values->size() != c) {
        throw util::InputError(fmt::format("{}: expected {} value(s), one per input channel of the model, got {}",
                                           flag, c, values->size()));
      }
    }
    for (double s : o.std) {
      if (!(s > 0)) throw util::InputError(fmt::format("--std: expected positive values, got {}", s));
    }
    d.mean = o.mean;
    d.std = o.std;
  } else if (c == 3) {
    d.mean.assign(std::begin(kImageNetMean), std::end(kImageNetMean));
    d.std.assign(std::begin(kImageNetStd), std::end(kImageNetStd));
  } else {
    throw util::InputError(fmt::format(
        "--mean/--std: the model has no normalisation of its own and takes {} channel(s); give --mean and --std "
        "(ImageNet's are used only for 3 channels)",
        c));
  }
}

Dataset LoadImageFolder(const DataOptions& o, bool train, const ModelInput* input) {
  if (o.dir.empty()) {
    throw util::InputError("--data-dir: imagefolder needs the folder holding train/ and val/ (one subfolder per class)");
  }
  if (input == nullptr) {
    throw util::InputError("--dataset imagefolder: this command cannot read image folders (no model fixes the image size)");
  }
  const std::vector<std::string> classes = ImageFolderClasses(o.dir, {o.classes});
  const ImageFolderListing listing = ListImageFolder(o.dir, train ? "train" : "val", classes);
  ImageCacheOptions co;
  co.dir = o.cache.empty() ? DefaultImageCacheDir() : o.cache;
  co.progress = o.progress;
  CachedImages cached = OpenImageCache(listing, input->geometry, co);
  Dataset d;
  d.name = "imagefolder " + listing.root.string();
  d.images = cached.images;
  d.mapped = true;
  d.labels = cached.labels;
  d.num_classes = static_cast<int64_t>(classes.size());
  d.class_names = classes;
  SetNormalization(d, o, *input);
  ValidateDataset(d);
  return d;
}

}  // namespace

const std::vector<std::string>& DatasetNames() {
  static const std::vector<std::string> kNames = {"fashion-mnist", "cifar10", "imagefolder"};
  return kNames;
}

std::string DefaultImageCacheDir() {
  if (const char* dir = std::getenv("HAQ_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/haq/images";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/haq/images";
  return ".haq-cache/images";
}

Dataset LoadDataset(const DataOptions& o, bool train, const ModelInput* input) {
  if (o.dataset == "imagefolder") return LoadImageFolder(o, train, input);
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

const std::vector<std::string>& FineTuneAugmentNames() {
  static const std::vector<std::string> kNames = {"none", "flip", "crop-flip"};
  return kNames;
}

Augment FineTuneAugment(const std::string& name) {
  Augment a;
  if (name == "flip" || name == "crop-flip") a.hflip = true;
  if (name == "crop-flip") a.random_resized_crop = true;
  if (name != "none" && !a.hflip) {
    throw util::InputError(fmt::format("--finetune-augment: expected one of {}, got '{}'",
                                       util::JoinNames(FineTuneAugmentNames()), name));
  }
  return a;
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
