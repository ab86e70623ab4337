#include "train/model_io.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "graph/onnx_import.h"
#include "graph/zoo.h"
#include "util/error.h"

namespace haq::train {

namespace fs = std::filesystem;

std::string ShippedModelDir() {
  if (const char* env = std::getenv("HAQ_MODEL_DIR"); env && *env) return env;
  return std::string(HAQ_SOURCE_DIR) + "/models";
}

std::string ShippedCheckpoint(const std::string& zoo_name) {
  const fs::path p = fs::path(ShippedModelDir()) / (zoo_name + ".pt");
  std::error_code ec;
  return fs::is_regular_file(p, ec) ? p.string() : std::string();
}

namespace {

graph::Network BuildBase(const std::string& spec, const ModelRequest& r) {
  if (spec.ends_with(".onnx")) {
    graph::OnnxImportOptions o;
    if (!r.input_hw.empty()) {
      // Only H and W are overridden; the channel count comes from the file (0).
      o.input_chw = {0, r.input_hw[0], r.input_hw[1]};
    }
    return graph::ImportOnnx(spec, o);
  }
  graph::ZooOptions z;
  z.seed = r.seed;
  if (!r.input_hw.empty()) {
    z.height = r.input_hw[0];
    z.width = r.input_hw[1];
  }
  return graph::BuildZooModel(spec, z);
}

}  // namespace

LoadedModel LoadModel(const ModelRequest& r) {
  LoadedModel m;
  std::string base = r.spec;
  if (r.spec.ends_with(".pt")) {
    m.checkpoint = LoadCheckpoint(r.spec);
    m.checkpoint_path = r.spec;
    base = m.checkpoint->model;
  } else if (r.pretrained && graph::IsZooModel(r.spec)) {
    m.checkpoint_path = ShippedCheckpoint(r.spec);
    if (!m.checkpoint_path.empty()) m.checkpoint = LoadCheckpoint(m.checkpoint_path);
  } else if (!r.spec.ends_with(".onnx") && !graph::IsZooModel(r.spec)) {
    const auto names = graph::ZooModelNames();
    throw util::InputError(fmt::format(
        "unknown model '{}'{}; give a zoo name ({}), a checkpoint (.pt) or an ONNX file (.onnx)",
        r.spec, util::DidYouMean(r.spec, names), util::JoinNames(names)));
  }
  m.net = BuildBase(base, r);
  if (m.checkpoint) {
    m.net.LoadStateDict(m.checkpoint->model_state, m.checkpoint_path);
    if (m.checkpoint->meta.contains("normalization")) {
      const auto& n = m.checkpoint->meta["normalization"];
      const size_t channels = m.net.input_spec().chw.empty() ? 0 : m.net.input_spec().chw[0];
      auto values = [&](const char* key) {
        const nlohmann::json* a = n.is_object() && n.contains(key) ? &n[key] : nullptr;
        std::vector<double> v;
        if (a != nullptr && a->is_array()) {
          for (const auto& x : *a) {
            if (x.is_number()) v.push_back(x.get<double>());
          }
        }
        if (a == nullptr || !a->is_array() || a->size() != channels || v.size() != channels) {
          throw util::InputError(fmt::format(
              "{}: meta.normalization.{}: expected {} numbers (one per input channel), got {}",
              m.checkpoint_path, key, channels, a != nullptr ? a->dump() : "none"));
        }
        return v;
      };
      // (in this order: function arguments are evaluated in no fixed order, and the
      // error must name the first bad field)
      std::vector<double> mean = values("mean");
      m.net.set_normalization(std::move(mean), values("std"));
    }
    m.description = fmt::format("{} (weights from {})", base, m.checkpoint_path);
  } else {
    m.description = r.spec.ends_with(".onnx") ? r.spec
                                              : fmt::format("{} (fresh initialisation, seed {})",
                                                            base, r.seed);
  }
  return m;
}

void CheckModelFitsData(const graph::Network& net, const data::Dataset& d) {
  const std::vector<int64_t> data_chw = {d.channels(), d.height(), d.width()};
  if (net.input_spec().chw != data_chw) {
    throw util::InputError(fmt::format("model '{}' takes {} input, but {} has {} images", net.name(),
                                       fmt::join(net.input_spec().chw, "x"), d.name,
                                       fmt::join(data_chw, "x")));
  }
}

namespace {
void FitToData(LoadedModel& m, const data::Dataset& d) {
  if (m.net.input_spec().mean.empty()) m.net.set_normalization(d.mean, d.std);
  CheckModelFitsData(m.net, d);
}
}  // namespace

LoadedModel LoadModelForData(const std::string& model, const data::Dataset& d) {
  ModelRequest req;
  req.spec = model;
  LoadedModel m = LoadModel(req);
  FitToData(m, d);
  return m;
}

data::ModelInput InputOf(const graph::Network& net) {
  const graph::InputSpec& in = net.input_spec();
  data::ModelInput input;
  input.geometry = {in.chw.at(0), in.chw.at(1), in.chw.at(2)};
  input.mean = in.mean;
  input.std = in.std;
  return input;
}

ModelWithData LoadModelWithData(const std::string& model, const data::DataOptions& o, bool train) {
  ModelRequest req;
  req.spec = model;
  ModelWithData out{LoadModel(req), {}};
  const data::ModelInput input = InputOf(out.model.net);
  out.data = data::LoadDataset(o, train, &input);
  FitToData(out.model, out.data);
  return out;
}

}  // namespace haq::train
