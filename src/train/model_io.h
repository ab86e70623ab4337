#pragma once
/// Resolving a model argument to a Network: a zoo name (with its shipped pretrained
/// checkpoint when the repository has one), a haq checkpoint (.pt), or an ONNX file.
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/options.h"
#include "graph/network.h"
#include "train/checkpoint.h"

namespace haq::train {

struct ModelRequest {
  std::string spec;  ///< zoo name, path.pt or path.onnx
  /// Input height x width override (ONNX files with symbolic sizes; zoo models at
  /// another resolution). Empty: the model's own.
  std::vector<int64_t> input_hw;
  /// For zoo names: load the shipped checkpoint if there is one (default), or
  /// start from a fresh seeded initialisation.
  bool pretrained = true;
  uint64_t seed = 0;
};

struct LoadedModel {
  graph::Network net;
  /// The checkpoint the tensors came from, if any (its meta has the recipe).
  std::optional<Checkpoint> checkpoint;
  std::string checkpoint_path;
  std::string description;  ///< "resnet20_fmnist (shipped checkpoint models/...)"
};

/// Directory of the shipped checkpoints: $HAQ_MODEL_DIR, else the repository's models/.
std::string ShippedModelDir();
/// Path of a zoo model's shipped checkpoint, or "" if none is shipped.
std::string ShippedCheckpoint(const std::string& zoo_name);

/// Throws util::InputError for unknown names (with "did you mean"), unreadable or
/// mismatched files.
LoadedModel LoadModel(const ModelRequest& request);

/// Throws util::InputError if the network's input shape differs from the data's.
void CheckModelFitsData(const graph::Network& net, const data::Dataset& d);

/// Loads a model argument (LoadModel) for use on `d`: normalised with the data's
/// statistics unless its checkpoint has its own, and checked to fit.
LoadedModel LoadModelForData(const std::string& model, const data::Dataset& d);

/// What `net` takes, for data sets preprocessed to fit it (data::LoadDataset).
data::ModelInput InputOf(const graph::Network& net);

/// A model argument and the training (`train`) or test set `o` names, made to fit
/// each other: an image folder is preprocessed to the model's input (LoadDataset
/// with InputOf), then the model is loaded for it as by LoadModelForData.
struct ModelWithData {
  LoadedModel model;
  data::Dataset data;
};
ModelWithData LoadModelWithData(const std::string& model, const data::DataOptions& o, bool train);

}  // namespace haq::train
