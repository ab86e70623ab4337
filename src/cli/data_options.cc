#include "cli/data_options.h"

namespace haq::cli {

void AddDataOptions(CLI::App& app, DataOptions& o) {
  o.progress = stderr;
  app.add_option("--dataset", o.dataset,
                 "fashion-mnist (Debian package), cifar10 (binary version) or imagefolder "
                 "(DIR/train/<class>/*, DIR/val/<class>/*)")
      ->check(CLI::IsMember(data::DatasetNames()));
  app.add_option("--data-dir", o.dir, "Dataset directory (default: the Debian package's for fashion-mnist)");
  app.add_option("--val", o.val, "Training images held out for validation (seeded split)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--split-seed", o.split_seed, "Seed of the train/validation split");
  app.add_option("--subset", o.subset, "Use only this many training images (quick runs; 0 = all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--classes", o.classes,
                 "imagefolder: keep the first N sorted classes (100: HAQ's ImageNet-100) or those a FILE lists");
  app.add_option("--cache", o.cache,
                 "imagefolder: folder of the preprocessed image cache (default: $HAQ_CACHE_DIR, else "
                 "~/.cache/haq/images)");
  app.add_option("--mean", o.mean, "imagefolder: per-channel mean of pixel/255 for a model without its own")
      ->delimiter(',');
  app.add_option("--std", o.std, "imagefolder: per-channel standard deviation, likewise")->delimiter(',');
}

}  // namespace haq::cli
