#include "cli/data_options.h"

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

}  // namespace haq::cli
