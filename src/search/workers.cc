#include "search/workers.h"

#include <ATen/Parallel.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <thread>

#include "search/machine.h"
#include "search/run.h"
#include "search/worker_protocol.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/json.h"

extern char** environ;

namespace haq::search {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kStoreFile = "workers.store";
constexpr auto kPoll = std::chrono::milliseconds(10);
constexpr auto kBeat = std::chrono::milliseconds(500);
constexpr const char* kRunKey = "haq/run";
constexpr const char* kRanksKey = "haq/ranks";
constexpr const char* kCoordinatorBeat = "haq/coordinator_beat";
constexpr const char* kStopKey = "haq/stop";
constexpr const char* kByeKey = "bye";  // a worker's (WorkerKey): it saw the stop

std::string WorkerKey(int64_t rank, const std::string& what) { return fmt::format("haq/w{}/{}", rank, what); }

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string Text(const std::vector<uint8_t>& v) { return {v.begin(), v.end()}; }

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A store client for `address` ("file:PATH" or "HOST:PORT"); `server` makes the
// TCPStore's server (the coordinator's).
c10::intrusive_ptr<c10d::Store> Connect(const std::string& address, bool server, double timeout_s) {
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  if (address.starts_with("file:")) {
    auto store = c10::make_intrusive<c10d::FileStore>(address.substr(5), -1);
    store->setTimeout(timeout);
    return store;
  }
  const HostPort hp = ParseHostPort(address, server ? "--listen" : "--connect");
  c10d::TCPStoreOptions o;
  o.port = hp.port;
  o.isServer = server;
  o.waitWorkers = false;
  o.timeout = timeout;
  try {
    return c10::make_intrusive<c10d::TCPStore>(hp.host, o);
  } catch (const std::exception& e) {
    throw util::IoError(fmt::format("{} {}: {}", server ? "--listen" : "--connect", address, e.what()));
  }
}

// A counter's value (0 if it was never advanced).
int64_t Counter(c10d::Store& store, const std::string& key) { return store.add(key, 0); }

// Advances `key` every kBeat on its own store connection until destroyed.
class Heartbeat {
 public:
  Heartbeat(const std::string& address, std::string key, double timeout_s)
      : thread_([this, address, key = std::move(key), timeout_s] {
          try {
            auto store = Connect(address, false, timeout_s);
            while (!stop_) {
              store->add(key, 1);
              for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(kBeat / 10);
            }
          } catch (const std::exception&) {
            // The store is gone: the run is over, or the peer will notice the silence.
          }
        }) {}
  ~Heartbeat() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

}  // namespace

// --- the coordinator's side ---

struct WorkerPool::Impl {
  struct Worker {
    int64_t rank = 0;
    enum State { kJoining, kIdle, kBusy, kGone } state = kJoining;
    Hello hello;
    int64_t seq = 0;         // tasks sent so far
    size_t task = 0;         // index into the current tasks while busy
    int64_t beat = -1;       // last heartbeat counter seen
    Clock::time_point beat_changed;
    pid_t child = -1;        // a local worker's process
  };

  PoolOptions o;
  std::string address, token, nonce;
  c10::intrusive_ptr<c10d::Store> store;
  std::unique_ptr<Heartbeat> heartbeat;
  std::map<int64_t, Worker> workers;  // by rank
  std::vector<pid_t> children;        // local processes not yet matched to a rank
  int64_t spawned = 0;
  bool waiting_said = false;

  std::string Describe(const Worker& w) const {
    return w.hello.host.empty() ? fmt::format("worker {}", w.rank)
                                : fmt::format("worker {} ({}, pid {})", w.rank, w.hello.host, w.hello.pid);
  }

  void Spawn() {
    const fs::path log_dir = o.run_dir / "workers";
    fs::create_directories(log_dir);
    const std::string log = (log_dir / fmt::format("local-{}.log", spawned)).string();
    const std::string exe = o.executable.empty() ? fs::read_symlink("/proc/self/exe").string() : o.executable;
    std::vector<std::string> args = {exe, "worker", "--connect", address, "--token-file",
                                     (o.run_dir / "worker.token").string(), "--threads",
                                     std::to_string(o.threads_per_worker), "--exit-with-parent"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    // Nothing else of the coordinator's (the TCPStore's listening socket, run files)
    // stays open in the worker: a worker outliving a killed coordinator must not keep
    // its port.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid = -1;
    const int err = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
      throw util::IoError(fmt::format("--workers: cannot start {}: {}", exe, std::strerror(err)));
    }
    children.push_back(pid);
    ++spawned;
  }

  // Local processes that ended: their workers are gone. A local worker that ends
  // before it ever joined is an error (its log says why), not something to retry.
  void ReapChildren(const std::vector<EvalTask>* tasks, std::deque<size_t>* pending) {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      const std::string how = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                                : fmt::format("signal {}", WTERMSIG(status));
      std::erase(children, pid);
      bool known = false;
      for (auto& [rank, w] : workers) {
        if (w.child != pid) continue;
        known = true;
        if (w.state != Worker::kGone) Lose(w, fmt::format("its process ended ({})", how), tasks, pending);
      }
      if (!known) {
        throw util::IoError(fmt::format(
            "--workers: a local worker ended ({}) before it joined; see {}", how,
            (o.run_dir / "workers").string()));
      }
      if (spawned < 4 * o.local_workers) Spawn();  // keep the local count
    }
  }

  void Lose(Worker& w, const std::string& why, const std::vector<EvalTask>* tasks, std::deque<size_t>* pending) {
    const bool busy = w.state == Worker::kBusy;
    w.state = Worker::kGone;
    if (busy && tasks != nullptr) {
      pending->push_front(w.task);
      fmt::print(o.notes, "workers: lost {}: {}; episode {} goes to another worker\n", Describe(w), why,
                 (*tasks)[w.task].episode + 1);
    } else {
      fmt::print(o.notes, "workers: lost {}: {}\n", Describe(w), why);
    }
    std::fflush(o.notes);
  }

  // New ranks, and hellos of joining workers: accepted or refused.
  void Joins() {
    const int64_t ranks = Counter(*store, kRanksKey);
    for (int64_t r = static_cast<int64_t>(workers.size()); r < ranks; ++r) {
      Worker w;
      w.rank = r;
      w.beat_changed = Clock::now();
      workers[r] = w;
    }
    for (auto& [rank, w] : workers) {
      if (w.state != Worker::kJoining || !store->check({WorkerKey(rank, "hello")})) continue;
      const std::string where = fmt::format("worker {}'s hello", rank);
      std::string refusal;
      try {
        w.hello = HelloFromJson(Text(store->get(WorkerKey(rank, "hello"))), where);
        refusal = RefusalOf(w.hello, token, nonce, rank, HAQ_VERSION, o.digest);
      } catch (const util::InputError& e) {
        refusal = e.what();
      }
      store->set(WorkerKey(rank, "welcome"), Bytes(refusal.empty() ? "ok" : "refused: " + refusal));
      if (!refusal.empty()) {
        w.state = Worker::kGone;
        fmt::print(o.notes, "workers: refused {}: {}\n", Describe(w), refusal);
      } else {
        w.state = Worker::kIdle;
        w.beat_changed = Clock::now();
        for (pid_t c : children) {
          if (c == w.hello.pid) w.child = c;  // a local worker (same pid namespace)
        }
        fmt::print(o.notes, "workers: {} joined ({} threads)\n", Describe(w), w.hello.threads);
      }
      std::fflush(o.notes);
    }
  }
};

WorkerPool::WorkerPool(PoolOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.o = std::move(options);
  m.token = EnsureRunToken(m.o.run_dir);
  m.nonce = util::RandomHex(16);
  if (m.o.listen.empty()) {
    // A fresh store file: keys of an earlier coordinator of this run mean nothing now.
    const fs::path path = m.o.run_dir / kStoreFile;
    std::error_code ec;
    fs::remove(path, ec);
    m.address = "file:" + path.string();
  } else {
    m.address = m.o.listen;
  }
  m.store = Connect(m.address, /*server=*/!m.o.listen.empty(), m.o.timeout_seconds);
  m.store->set(kRunKey, Bytes(json{{"version", HAQ_VERSION},
                                   {"nonce", m.nonce},
                                   {"settings", m.o.settings},
                                   {"threads", m.o.threads_per_worker},
                                   {"timeout", m.o.timeout_seconds}}
                                  .dump()));
  m.heartbeat = std::make_unique<Heartbeat>(m.address, kCoordinatorBeat, m.o.timeout_seconds);
  for (int64_t i = 0; i < m.o.local_workers; ++i) m.Spawn();
  const std::string join = fmt::format("haq worker --connect {} --token-file {}", m.address,
                                       (m.o.run_dir / "worker.token").string());
  if (m.o.local_workers > 0) {
    fmt::print(m.o.notes, "workers: {} local worker{} starting ({} thread{} each); others join with: {}\n",
               m.o.local_workers, m.o.local_workers == 1 ? "" : "s", m.o.threads_per_worker,
               m.o.threads_per_worker == 1 ? "" : "s", join);
  } else {
    fmt::print(m.o.notes, "workers: listening at {}; workers join with: {}\n", m.address, join);
  }
  std::fflush(m.o.notes);
}

WorkerPool::~WorkerPool() {
  Impl& m = *impl_;
  try {
    m.store->set(kStopKey, Bytes("done"));
  } catch (const std::exception&) {
  }
  // Local workers see the stop within a poll; after a grace period they are killed.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!m.children.empty() || std::any_of(m.workers.begin(), m.workers.end(), [](const auto& w) {
           return w.second.child > 0;
         })) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      std::erase(m.children, pid);
      for (auto& [rank, w] : m.workers) {
        if (w.child == pid) w.child = -1;
      }
      continue;
    }
    if (pid < 0) break;  // no children left
    if (Clock::now() > deadline) {
      for (pid_t c : m.children) ::kill(c, SIGKILL);
      for (auto& [rank, w] : m.workers) {
        if (w.child > 0) ::kill(w.child, SIGKILL);
      }
    }
    std::this_thread::sleep_for(kPoll);
  }
  // Remote workers that joined see the stop on their next poll and say so; the
  // store (this process's) stays up until they have, so none of them finds it gone
  // instead, and they end as cleanly as the run did.
  const auto all_said_bye = [&] {
    return std::all_of(m.workers.begin(), m.workers.end(), [&](const auto& entry) {
      const Impl::Worker& w = entry.second;
      if (w.state == Impl::Worker::kGone || w.state == Impl::Worker::kJoining || w.child > 0) return true;
      return m.store->check({WorkerKey(w.rank, kByeKey)});
    });
  };
  try {
    while (Clock::now() < deadline && !all_said_bye()) std::this_thread::sleep_for(kPoll);
  } catch (const std::exception&) {
  }
  m.heartbeat.reset();
}

std::string WorkerPool::Address() const { return impl_->address; }

std::vector<EvalOutcome> WorkerPool::Evaluate(const std::vector<EvalTask>& tasks) {
  Impl& m = *impl_;
  using Worker = Impl::Worker;
  std::vector<std::optional<EvalOutcome>> results(tasks.size());
  std::deque<size_t> pending;
  for (size_t i = 0; i < tasks.size(); ++i) pending.push_back(i);
  size_t done = 0;
  const auto start = Clock::now();
  while (done < tasks.size()) {
    m.ReapChildren(&tasks, &pending);
    m.Joins();
    const auto now = Clock::now();
    for (auto& [rank, w] : m.workers) {
      if (w.state == Worker::kIdle && !pending.empty()) {
        w.task = pending.front();
        pending.pop_front();
        m.store->set(WorkerKey(rank, fmt::format("task{}", w.seq)),
                     Bytes(TaskMessage(m.token, m.nonce, rank, w.seq, tasks[w.task])));
        w.state = Worker::kBusy;
        w.beat_changed = now;
      }
      if (w.state != Worker::kBusy) continue;
      const std::string result_key = WorkerKey(rank, fmt::format("result{}", w.seq));
      if (m.store->check({result_key})) {
        const std::string where = fmt::format("{}'s result for episode {}", m.Describe(w), tasks[w.task].episode + 1);
        try {
          results[w.task] = ParseResult(Text(m.store->get(result_key)), m.token, m.nonce, rank, w.seq,
                                        tasks[w.task].episode, where);
          ++done;
          w.state = Worker::kIdle;
          m.store->deleteKey(result_key);
          m.store->deleteKey(WorkerKey(rank, fmt::format("task{}", w.seq)));
          ++w.seq;
        } catch (const util::InputError& e) {
          m.Lose(w, fmt::format("a result refused ({})", e.what()), &tasks, &pending);
        }
        continue;
      }
      const int64_t beat = Counter(*m.store, WorkerKey(rank, "beat"));
      if (beat != w.beat) {
        w.beat = beat;
        w.beat_changed = now;
      } else if (SecondsBetween(w.beat_changed, now) > m.o.timeout_seconds) {
        if (w.child > 0) ::kill(w.child, SIGKILL);  // a hung local worker: replaced when reaped
        m.Lose(w, fmt::format("no heartbeat for {:.0f} s", m.o.timeout_seconds), &tasks, &pending);
      }
    }
    const bool anyone = !m.children.empty() || std::any_of(m.workers.begin(), m.workers.end(), [](const auto& w) {
      return w.second.state != Worker::kGone;
    });
    if (!anyone && !m.waiting_said && SecondsBetween(start, Clock::now()) > 1.0) {
      fmt::print(m.o.notes, "workers: none connected; waiting for: haq worker --connect {} --token-file {}\n",
                 m.address, (m.o.run_dir / "worker.token").string());
      std::fflush(m.o.notes);
      m.waiting_said = true;
    }
    if (done < tasks.size()) std::this_thread::sleep_for(kPoll);
  }
  std::vector<EvalOutcome> out;
  for (auto& r : results) out.push_back(*r);
  return out;
}

// --- the worker's side ---

namespace {

void Serve(const WorkerOptions& o) {
  const std::string token = ReadTokenFile(o.token_file);
  // A store connection the coordinator closed is an error to report, not a signal to die of.
  ::signal(SIGPIPE, SIG_IGN);
  const pid_t parent = ::getppid();
  auto store = Connect(o.connect, /*server=*/false, 60.0);
  try {
    store->wait({kRunKey}, std::chrono::seconds(60));
  } catch (const std::exception&) {
    throw util::IoError(fmt::format("--connect {}: no search run there within 60 s", o.connect));
  }
  const json run = util::ParseJson(Text(store->get(kRunKey)), fmt::format("{}: {}", o.connect, kRunKey));
  const std::string where = fmt::format("{}: {}", o.connect, kRunKey);
  const std::string nonce = util::JsonField<std::string>(run, "nonce", where);
  const double timeout = util::JsonField<double>(run, "timeout", where);
  const int64_t threads = o.threads > 0 ? o.threads : util::JsonField<int64_t>(run, "threads", where);
  const int64_t rank = store->add(kRanksKey, 1) - 1;
  const auto say = [&](const std::string& text) {
    fmt::print(o.log, "worker {}: {}\n", rank, text);
    std::fflush(o.log);
  };

  // The coordinator is gone when its beat stops (or, for its own workers, when the
  // parent process ends); the run is over when it says so.
  int64_t coordinator_beat = -1;
  auto coordinator_changed = Clock::now();
  const auto over = [&]() {
    if (store->check({kStopKey})) {
      store->set(WorkerKey(rank, kByeKey), Bytes("bye"));
      return true;
    }
    if (o.exit_with_parent && ::getppid() != parent) {
      throw util::IoError(fmt::format("worker {}: the coordinator process ended", rank));
    }
    const int64_t beat = Counter(*store, kCoordinatorBeat);
    if (beat != coordinator_beat) {
      coordinator_beat = beat;
      coordinator_changed = Clock::now();
    } else if (SecondsBetween(coordinator_changed, Clock::now()) > timeout) {
      throw util::IoError(fmt::format("worker {}: the coordinator at {} stopped answering for {:.0f} s",
                                      rank, o.connect, timeout));
    }
    return false;
  };
  // Waits for `key`; false when the run is over first.
  const auto wait_for = [&](const std::string& key) {
    while (!store->check({key})) {
      if (over()) return false;
      std::this_thread::sleep_for(kPoll);
    }
    return true;
  };

  Hello hello;
  hello.version = HAQ_VERSION;
  hello.host = HostName();
  hello.pid = ::getpid();
  hello.threads = threads;
  std::unique_ptr<RunWiring> wiring;
  const std::string coordinator_version = util::JsonField<std::string>(run, "version", where);
  if (coordinator_version == HAQ_VERSION) {
    at::set_num_threads(static_cast<int>(threads));
    RunSettings settings = RunSettings::FromJson(
        util::ParseJson(util::JsonField<std::string>(run, "settings", where), where + ": settings"),
        where + ": settings");
    say(fmt::format("building {} with {} threads", settings.model, threads));
    // The beat starts now: building (calibration, an image cache) may take a while.
    Heartbeat building(o.connect, WorkerKey(rank, "beat"), timeout);
    wiring = std::make_unique<RunWiring>(settings, o.log);
    hello.digest = wiring->Digest();
  }
  hello.proof = HelloProof(token, nonce, rank, hello);
  store->set(WorkerKey(rank, "hello"), Bytes(HelloToJson(hello).dump()));
  if (!wait_for(WorkerKey(rank, "welcome"))) return;
  const std::string welcome = Text(store->get(WorkerKey(rank, "welcome")));
  if (welcome != "ok") {
    throw util::InputError(fmt::format("worker {}: the coordinator at {} {}", rank, o.connect, welcome));
  }
  say("joined");

  Heartbeat beat(o.connect, WorkerKey(rank, "beat"), timeout);
  const PolicyEvaluator evaluate = wiring->Evaluator();
  std::vector<std::string> names;
  for (const hw::LayerShape& l : wiring->layers()) names.push_back(l.name);
  for (int64_t seq = 0;; ++seq) {
    const std::string key = WorkerKey(rank, fmt::format("task{}", seq));
    if (!wait_for(key)) break;
    const EvalTask task = ParseTask(Text(store->get(key)), token, nonce, rank, seq, names,
                                    fmt::format("worker {}: task {}", rank, seq));
    say(fmt::format("episode {}: evaluating", task.episode + 1));
    EvalOutcome outcome = evaluate(task.policy);
    outcome.machine = MachineInfo::Current();
    store->set(WorkerKey(rank, fmt::format("result{}", seq)),
               Bytes(ResultMessage(token, nonce, rank, seq, task.episode, outcome)));
    say(fmt::format("episode {}: {:.2f}%", task.episode + 1, outcome.accuracy));
  }
  say("the run is over");
}

}  // namespace

void RunWorker(const WorkerOptions& o) {
  try {
    Serve(o);
  } catch (const std::system_error& e) {  // the store's socket: the coordinator's machine or process went away
    throw util::IoError(fmt::format("worker: the connection to the coordinator at {} failed: {}", o.connect, e.what()));
  }
}

}  // namespace haq::search
