#pragma once
/// Evaluating a round's policies (`haq search --parallel K`) in worker processes, on
/// this machine or others, over a c10d store (LibTorch's distributed key-value store:
/// a FileStore in the run directory by default, so nothing listens on any network;
/// a TCPStore with --listen). The coordinator (`haq search`) keeps the agent and the
/// run directory; a worker (`haq worker`, or one of the --workers N the coordinator
/// starts) builds the model, data, calibration and cost table from the run's settings
/// and evaluates the policies it is sent. A policy's outcome depends only on the run's
/// settings, the policy and the worker's threads, so the log is the same whichever
/// worker evaluates which policy, with any number of workers.
///
/// Keys (all under "haq/"):
///   run                  the coordinator's: version, nonce, settings, threads
///   ranks                counter: a joining worker takes the next rank r
///   coordinator_beat     counter the coordinator advances every 0.5 s
///   w<r>/hello           the worker's Hello (worker_protocol.h)
///   w<r>/welcome         "ok", or "refused: WHY"
///   w<r>/beat            counter the worker advances every 0.5 s
///   w<r>/task<j>         its j-th task; w<r>/result<j> the outcome
///   stop                 the run is over
/// A worker whose beat stops for --worker-timeout seconds, or (local workers) whose
/// process ends, is reported with its rank and host, and its policy goes to another.
/// The header keeps LibTorch out.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "search/search.h"

namespace haq::search {

struct PoolOptions {
  std::filesystem::path run_dir;
  int64_t local_workers = 0;   ///< processes to start here (--workers)
  int64_t threads_per_worker = 1;
  std::string listen;          ///< "": a FileStore in run_dir; "HOST:PORT": a TCPStore
  double timeout_seconds = 60.0;
  std::string settings;        ///< settings.json text the workers build from
  std::string digest;          ///< RunWiring::Digest of the coordinator's wiring
  std::string executable;      ///< the haq binary local workers run ("": this one)
  std::FILE* notes = stderr;   ///< joins, refusals, lost workers
};

/// The coordinator's side. Starting it makes the store, writes the run's token
/// (EnsureRunToken) and starts the local workers; workers may join at any time.
class WorkerPool {
 public:
  explicit WorkerPool(PoolOptions options);
  /// Tells the workers to stop and waits for the local ones.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  /// Evaluates `tasks` on the workers (SearchConfig::evaluate_batch). Blocks until
  /// every one has a result; a lost worker's task goes to another.
  std::vector<EvalOutcome> Evaluate(const std::vector<EvalTask>& tasks);
  /// What `haq worker --connect` takes to join this run.
  std::string Address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct WorkerOptions {
  std::string connect;  ///< "HOST:PORT" (TCPStore) or "file:PATH" (FileStore)
  std::filesystem::path token_file;
  int64_t threads = 0;  ///< 0: the run's --threads-per-worker
  /// Exit when the parent process ends (the coordinator's own workers).
  bool exit_with_parent = false;
  std::FILE* log = stderr;
};

/// `haq worker`: joins the run at `connect`, builds what an episode needs from the
/// run's settings, presents its digest and token proof, then evaluates tasks until
/// the run stops. util::InputError when refused (the reason from the coordinator),
/// util::IoError when the coordinator is gone.
void RunWorker(const WorkerOptions& options);

}  // namespace haq::search
