// haq worker: joins a search run and evaluates the policies it is sent
// (search/workers.h).
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "search/workers.h"
#include "util/error.h"

namespace haq::cli {

Action RegisterWorker(CLI::App& app) {
  auto o = std::make_shared<search::WorkerOptions>();
  app.add_option("--connect", o->connect,
                 "The run's store: HOST:PORT (haq search --listen) or file:PATH (its run "
                 "directory's workers.store, on this machine); default: torchrun's "
                 "MASTER_ADDR:MASTER_PORT");
  app.add_option("--token-file", o->token_file,
                 "The run's token: a copy of its run directory's worker.token, owner-only (chmod 600)")
      ->required();
  app.add_option("--threads", o->threads,
                 "Intra-op threads (default: the run's --threads-per-worker; results are "
                 "bit-identical only for the same value)")
      ->check(CLI::Range(int64_t{0}, int64_t{4096}));
  app.add_flag("--exit-with-parent", o->exit_with_parent,
               "Stop when the parent process ends (the workers haq search --workers starts)");
  app.footer(
      "The worker builds the model, data and calibration from the run's settings (the same model\n"
      "file and data directory must exist here), proves it holds the run's token, and is refused\n"
      "unless its haq version and what it built match the coordinator's. The store is not\n"
      "encrypted: use it on a trusted network only. Example (the run: haq search ... --parallel 8\n"
      "--listen 10.0.0.1:29511 --out runs/big):\n"
      "  haq worker --connect 10.0.0.1:29511 --token-file ~/big.token");
  return [o] {
    if (o->connect.empty()) {
      const char* addr = std::getenv("MASTER_ADDR");
      const char* port = std::getenv("MASTER_PORT");
      if (addr == nullptr || port == nullptr) {
        throw util::InputError(
            "--connect: expected HOST:PORT or file:PATH (or MASTER_ADDR and MASTER_PORT in the "
            "environment, as torchrun sets them), got neither");
      }
      o->connect = fmt::format("{}:{}", addr, port);
    }
    search::RunWorker(*o);
  };
}

}  // namespace haq::cli
