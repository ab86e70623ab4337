#pragma once
/// Resuming `haq train` from its checkpoint: the recipe must match, then the model,
/// the optimizer, the epoch count and the history come back.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "graph/network.h"
#include "train/sgd.h"

namespace haq::train {

struct TrainingResumed {
  int64_t start_epoch = 0;                               ///< epochs already trained
  nlohmann::json history = nlohmann::json::array();      ///< their reports
};

/// Loads the checkpoint at `path` into `net` and `sgd` after checking that it was
/// trained with `recipe` (every key equal). util::InputError naming the file and
/// the first field that differs, or the malformed meta field.
TrainingResumed ResumeTraining(const std::string& path, const nlohmann::json& recipe,
                               graph::Network& net, Sgd& sgd);

}  // namespace haq::train
