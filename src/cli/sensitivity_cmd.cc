// haq sensitivity: the per-layer Hessian-trace sensitivity the ILP strategy
// minimises (quant/sensitivity.h), printed and written as JSON.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "search/run.h"

namespace haq::cli {

namespace {

struct SensitivityCliOptions {
  search::RunSettings settings;
  std::string out = "sensitivity.json";
};

void RunSensitivity(const SensitivityCliOptions& o) {
  const quant::SensitivityTable t = search::ComputeRunSensitivity(o.settings, stderr);
  fmt::print("sensitivity of {} on {} training images: {} Hutchinson probes{}, {:.1f} s\n",
             o.settings.model, o.settings.hessian_images, t.probes,
             t.converged ? fmt::format(" (every trace within {:g} relative standard error)",
                                       o.settings.hessian_tol)
                         : " (cap reached before every trace met the tolerance)",
             t.seconds);
  fmt::print("expected loss increase tr(H)/n x ||Q_b(T) - T||^2 of the weight (w) and the input "
             "(a) at b bits:\n");
  fmt::print("{:>3} {:<28} {:>9} {:>11} {:>6} {:>11} {:>6} {:>10} {:>10} {:>10} {:>10}\n", "#",
             "layer", "weights", "tr(H_W)/n", "±", "tr(H_x)/n", "±", "w 2-bit", "w 4-bit",
             "a 2-bit", "a 4-bit");
  for (size_t l = 0; l < t.layers.size(); ++l) {
    const quant::LayerSensitivity& s = t.layers[l];
    const double wn = s.weight_trace / static_cast<double>(s.weights);
    const double xn = s.input_trace / static_cast<double>(s.inputs);
    auto rel = [](double se, double v) { return v == 0 ? 0.0 : 100.0 * se / std::abs(v); };
    fmt::print("{:>3} {:<28} {:>9} {:>11.3e} {:>5.1f}% {:>11.3e} {:>5.1f}% {:>10.3e} {:>10.3e} "
               "{:>10.3e} {:>10.3e}\n",
               l, s.name, s.weights, wn, rel(s.weight_trace_se, s.weight_trace), xn,
               rel(s.input_trace_se, s.input_trace), s.WeightPerturbation(2),
               s.WeightPerturbation(4), s.InputPerturbation(2), s.InputPerturbation(4));
  }
  quant::WriteSensitivity(o.out, t);
  fmt::print("wrote {}\n", o.out);
}

}  // namespace

Action RegisterSensitivity(CLI::App& app) {
  auto o = std::make_shared<SensitivityCliOptions>();
  AddRunFlags(app, o->settings,
              {"model", "quantizer", "tune_images", "calib_batches", "seed", "dataset", "data_dir",
               "validation", "split_seed", "subset", "curvature", "hessian_images", "hessian_probes",
               "hessian_tol"});
  app.add_option("--out", o->out, "The JSON file to write")->capture_default_str();
  app.footer(
      "The table `haq search --agent ilp` computes with the same flags (and keeps in its run\n"
      "directory as sensitivity.json). Example:\n"
      "  haq sensitivity --model mobilenet_v2_fmnist --hessian-probes 50 --out sens.json");
  return [o] { RunSensitivity(*o); };
}

}  // namespace haq::cli
