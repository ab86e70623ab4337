// The `haq` executable: parses the command line, runs one subcommand, and turns
// library errors into messages and exit codes (0 ok, 1 bad input or failure,
// 2 bad usage).
#include <fmt/format.h>

#include <torch/torch.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include "cli/commands.h"
#include "util/error.h"
#include "util/threads.h"

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f), a write fails with EFBIG and is reported like
  // a full disk (the file named, the old version kept) instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{
      "haq: hardware-aware mixed-precision quantization (HAQ, Wang et al., CVPR 2019).\n"
      "Finds per-layer weight/activation bit widths under a latency, energy or size budget\n"
      "given by an accelerator's cost model.",
      "haq"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "haq 0.1.0");
  std::map<CLI::App*, haq::cli::Action> actions;
  auto add = [&](const char* name, const char* help, auto registrar) {
    CLI::App* sub = app.add_subcommand(name, help);
    actions[sub] = registrar(*sub);
  };
  add("cost", "Per-layer latency, energy and size of a model on a hardware spec",
      haq::cli::RegisterCost);
  add("list", "List built-in models or hardware specs", haq::cli::RegisterList);
  add("train", "Train a zoo model on a dataset, checkpointing every epoch", haq::cli::RegisterTrain);
  add("eval", "Top-1/top-5 accuracy and throughput of a model", haq::cli::RegisterEval);
  add("quantize", "Apply a policy (linear or k-means), optionally fine-tune, save the result",
      haq::cli::RegisterQuantize);
  add("search", "HAQ search: per-layer bits under a latency, energy or size budget (resumable)",
      haq::cli::RegisterSearch);
  add("sensitivity", "Per-layer Hessian-trace sensitivity (what --agent ilp minimises), as JSON",
      haq::cli::RegisterSensitivity);
  add("sweep", "Pareto sweep: a search per budget, the front against uniform widths (resumable)",
      haq::cli::RegisterSweep);
  add("report", "HTML report of a search run (or --compare several runs)", haq::cli::RegisterReport);
  add("export", "Export a quantized model: ONNX (QDQ, opset 13) or bit-packed weights",
      haq::cli::RegisterExport);
  add("worker", "Join a search run (haq search --parallel K) and evaluate the policies it sends",
      haq::cli::RegisterWorker);

  // CLI11 reports a misspelt command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->get_name() == argv[1];
    }
    if (!known) {
      fmt::print(stderr, "unknown command '{}'; expected one of: {}\nRun with --help for more "
                 "information.\n", argv[1], names);
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version exit 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    // LibTorch's intra-op threads: OMP_NUM_THREADS when set (several haq processes
    // sharing a machine should divide its cores: two 2-thread processes on 2 cores
    // run about 3x slower than two 1-thread ones), else every core.
    torch::set_num_threads(haq::util::ThreadsFromEnvironment(
        std::getenv("OMP_NUM_THREADS"),
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))));
    for (const auto& [sub, action] : actions) {
      if (sub->parsed()) action();
    }
  } catch (const haq::util::InputError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "haq: error: {}\n", e.what());
    return 1;
  } catch (const haq::util::IoError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "haq: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "haq: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
