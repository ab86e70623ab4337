#pragma once
/// Checkpoints: a network's tensors (parameters and batch-norm statistics), the
/// optimizer's state and a JSON record of what produced them, in one file written
/// atomically. The file is a PyTorch zip archive (torch.load reads it in Python as
/// a dict: "format", "meta" (JSON text), "model" and "optimizer" (name -> tensor)).
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "graph/network.h"

namespace haq::train {

inline constexpr const char* kCheckpointFormat = "haq-checkpoint-1";

struct Checkpoint {
  /// What to build before loading the tensors: a zoo name, or an ONNX path.
  std::string model;
  /// Recipe, dataset, epoch, accuracy, ... (free-form, written by whoever saves).
  nlohmann::json meta = nlohmann::json::object();
  std::map<std::string, torch::Tensor> model_state;
  std::map<std::string, torch::Tensor> optimizer_state;
};

void SaveCheckpoint(const Checkpoint& checkpoint, const std::filesystem::path& path);
/// Throws util::InputError for a file that is not a haq checkpoint (naming it).
Checkpoint LoadCheckpoint(const std::filesystem::path& path);

}  // namespace haq::train
