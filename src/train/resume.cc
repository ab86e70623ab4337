#include "train/resume.h"

#include <fmt/format.h>

#include "train/checkpoint.h"
#include "util/error.h"
#include "util/json.h"

namespace haq::train {

TrainingResumed ResumeTraining(const std::string& path, const nlohmann::json& recipe,
                               graph::Network& net, Sgd& sgd) {
  const Checkpoint c = LoadCheckpoint(path);
  const std::string where = path + ": meta";
  const nlohmann::json old_recipe = c.meta.value("recipe", nlohmann::json::object());
  if (!old_recipe.is_object()) {
    throw util::InputError(
        fmt::format("{}: recipe: expected an object, got {}", where, old_recipe.dump()));
  }
  for (const auto& [key, value] : recipe.items()) {
    const nlohmann::json was = old_recipe.value(key, nlohmann::json());
    if (was != value) {
      throw util::InputError(fmt::format(
          "{}: --resume: the checkpoint was trained with {} = {}, these flags give {}; rerun "
          "with the same flags or choose another --out",
          path, key, was.dump(), value.dump()));
    }
  }
  net.LoadStateDict(c.model_state, path);
  sgd.LoadState(c.optimizer_state, path);
  TrainingResumed r;
  r.start_epoch = util::JsonFieldOr<int64_t>(c.meta, "epoch", where, 0);
  if (r.start_epoch < 0) {
    throw util::InputError(fmt::format("{}: epoch: expected at least 0, got {}", where, r.start_epoch));
  }
  r.history = c.meta.value("history", nlohmann::json::array());
  if (!r.history.is_array()) {
    throw util::InputError(
        fmt::format("{}: history: expected an array, got {}", where, r.history.dump()));
  }
  return r;
}

}  // namespace haq::train
