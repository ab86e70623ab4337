#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/quant_options.h"
#include "deploy/codes.h"
#include "deploy/onnx_export.h"
#include "train/model_io.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::cli {

namespace {

namespace fs = std::filesystem;

struct ExportCliOptions {
  std::string model;
  DataOptions data;
  QuantCliOptions quant;
  std::string format = "onnx";
  bool no_fold = false;
  std::string out;
};

// Checks, before any work, that `out` can receive the export.
void CheckDestination(const ExportCliOptions& o) {
  if (o.format == "onnx") {
    if (!o.out.ends_with(".onnx")) {
      throw util::InputError(fmt::format("--out: expected a .onnx file path, got '{}'", o.out));
    }
    util::CheckWritableDestination(o.out);
    return;
  }
  const fs::path dir(o.out);
  if (fs::exists(dir) && !fs::is_directory(dir)) {
    throw util::InputError(fmt::format(
        "--out: {}: expected a directory for the packed export (weights.bin, manifest.json), "
        "found a file", o.out));
  }
  util::CheckCreatableDirectory(dir);
}

void RunExport(const ExportCliOptions& o) {
  CheckDestination(o);
  const train::LoadedModel m = train::LoadModelWithData(o.model, o.data, /*train=*/true).model;
  std::string description;
  train::QuantizedModel q = ModelQuantization(m, o.quant, o.data, stderr, description);
  const graph::Network& net = *q.net;
  if (!q.hook && o.format == "packed") {
    throw util::InputError(fmt::format(
        "--format packed: {} is not quantized; give --policy FILE or --bits N, or a quantized "
        "checkpoint (haq quantize, or best_model.pt of haq search)", o.model));
  }
  std::vector<deploy::LayerCodes> codes;
  if (q.hook) codes = deploy::ExtractCodes(net, *q.hook);
  fmt::print("model {}, {}\n", m.description, description);

  if (o.format == "packed") {
    deploy::WritePacked(codes, net, o.out);
    const int64_t bits = PolicyWeightBits(net, q.hook->policy());
    const auto bytes = fs::file_size(fs::path(o.out) / "weights.bin");
    fmt::print("wrote {}/weights.bin ({} bytes = the policy's model size of {} bits, rounded up to "
               "whole bytes) and {}/manifest.json\n",
               o.out, bytes, bits, o.out);
    return;
  }
  deploy::OnnxExportOptions eo;
  eo.fold_batch_norm = !o.no_fold;
  eo.metadata["haq.model"] = m.description;
  eo.metadata["haq.input_mean"] = fmt::format("{}", fmt::join(net.input_spec().mean, ","));
  eo.metadata["haq.input_std"] = fmt::format("{}", fmt::join(net.input_spec().std, ","));
  eo.metadata["haq.input_note"] =
      "input = (pixel / 255 - mean) / std per channel, NCHW float32";
  if (q.hook) eo.metadata["haq.policy"] = hw::PolicyToJson(q.hook->policy(), net.name(), "");
  deploy::ExportOnnx(net, codes, o.out, eo);
  fmt::print("wrote {} (ONNX opset 13, {}{}, {} bytes)\n", o.out,
             q.hook ? "QuantizeLinear/DequantizeLinear at the policy's widths" : "full precision",
             q.hook && !o.no_fold ? ", batch norm folded" : "", fs::file_size(o.out));
}

}  // namespace

Action RegisterExport(CLI::App& app) {
  auto o = std::make_shared<ExportCliOptions>();
  app.add_option("--model", o->model,
                 "Zoo name (shipped weights), checkpoint .pt (quantized ones: their own policy and "
                 "fine-tuned weights) or .onnx file")
      ->required();
  AddDataOptions(app, o->data);
  AddQuantOptions(app, o->quant, /*finetune=*/true);
  app.add_option("--format", o->format,
                 "onnx: standard ONNX with QuantizeLinear/DequantizeLinear; packed: weights "
                 "bit-packed at their widths + manifest.json (a directory)")
      ->check(CLI::IsMember({"onnx", "packed"}));
  app.add_flag("--no-fold-bn", o->no_fold, "ONNX: keep batch normalization as separate nodes");
  app.add_option("--out", o->out, "The .onnx file, or the directory of a packed export")->required();
  app.footer(
      "Examples:\n"
      "  haq export --model mobilenet_v2_fmnist --policy runs/demo/best_policy.json --out q.onnx\n"
      "  haq export --model runs/demo/best_model.pt --out q.onnx\n"
      "  haq export --model runs/demo/best_model.pt --format packed --out q_packed");
  return [o] { RunExport(*o); };
}

}  // namespace haq::cli
