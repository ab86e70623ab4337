// Rounds of episodes evaluated by worker processes (haq search --parallel K
// --workers N, haq worker; search/workers.h), on the real executable. Truth: one
// run with one worker. The same run with 2 and 4 workers writes the same log and
// summary; so does a run whose workers are SIGKILLed or hang (SIGSTOP) mid-episode
// (their policies go to another worker), and a run whose coordinator is SIGKILLed
// after a round and resumed. A worker without the run's token, or with a token file
// others may read, is refused with the reason on both sides.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "test_util.h"
#include "util/file.h"

namespace haq {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Two rounds of 4 (the second after DDPG's warm-up of 4, so the agent learns from a
// whole round), one intra-op thread per worker.
const char* kRun =
    "--model mobilenet_v2_fmnist --hw bismo-edge --budget latency=0.5 --episodes 8 --warmup 4 "
    "--parallel 4 --threads-per-worker 1 --finetune-steps 2 --reward-images 200 "
    "--tune-images 512 --calib-batches 1 --final-finetune-steps 4 --test-images 500 --seed 5";

std::string Slurp(const fs::path& p) { return fs::exists(p) ? util::ReadFile(p) : std::string(); }

// Waits until `done()` or `seconds` pass; false on timeout.
bool WaitFor(const std::function<bool()>& done, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// The exit code of `pid` once it ends within `seconds`, else -1 (then it is killed).
int WaitExit(pid_t pid, double seconds) {
  int status = 0;
  const bool ended = WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, seconds);
  if (!ended) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A TCP port free on loopback now.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof(a);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Processes whose command line contains `text`.
int ProcessesWith(const std::string& text) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");  // /proc files report no size: read as a stream
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(text) != std::string::npos) ++n;
  }
  return n;
}

std::vector<std::string> Args(const std::string& extra) {
  std::vector<std::string> a = test::SplitWords(std::string("search ") + kRun + " " + extra);
  return a;
}

class WorkersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    const auto one = test::RunHaq(std::string("search ") + kRun + " --workers 1 --out one", dir_->path());
    ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
    ASSERT_NE(one.err.find("worker 0"), std::string::npos) << one.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Truth() { return test::SearchRunOutcome(dir_->path() / "one"); }
  static test::TempDir* dir_;
};
test::TempDir* WorkersTest::dir_ = nullptr;

TEST_F(WorkersTest, TheLogIsTheSameWithOneTwoAndFourWorkers) {
  for (int n : {2, 4}) {
    const std::string out = fmt::format("w{}", n);
    const auto r = test::RunHaq(fmt::format("search {} --workers {} --out {}", kRun, n, out), dir_->path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(test::SearchRunOutcome(dir_->path() / out), Truth()) << n << " workers";
    for (int w = 0; w < n; ++w) {
      EXPECT_NE(r.err.find(fmt::format("worker {} (", w)), std::string::npos) << r.err;
    }
  }
  // Every episode ran in a worker with one thread, as its log line records.
  const std::string log = Slurp(dir_->path() / "one" / "log.jsonl");
  EXPECT_EQ(Count(log, "\n"), 8u);
  EXPECT_EQ(Count(log, "\"threads\":1"), 8u);
}

// Workers A and B take the first round's first two policies; A is killed and B hangs
// mid-episode; a third worker C joins and evaluates everything, theirs included.
TEST_F(WorkersTest, LostAndHungWorkersHaveTheirPoliciesEvaluatedAgain) {
  const fs::path dir = dir_->path();
  const std::string address = fmt::format("127.0.0.1:{}", FreePort());
  const pid_t coordinator = test::SpawnHaq(
      Args(fmt::format("--listen {} --worker-timeout 3 --out lost", address)), dir, "lost.log");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(dir / "lost" / "worker.token"); }, 120)) << Slurp(dir / "lost.log");
  // The run's token, copied as a remote machine would hold it (owner-only).
  fs::copy_file(dir / "lost" / "worker.token", dir / "copy.token");
  fs::permissions(dir / "copy.token", fs::perms::owner_read | fs::perms::owner_write);
  auto worker = [&](const std::string& log) {
    return test::SpawnHaq({"worker", "--connect", address, "--token-file", "copy.token", "--threads", "1"}, dir, log);
  };
  const pid_t a = worker("a.log");
  const pid_t b = worker("b.log");
  const bool both = WaitFor([&] {
    return Slurp(dir / "a.log").find("evaluating") != std::string::npos &&
           Slurp(dir / "b.log").find("evaluating") != std::string::npos;
  }, 120);
  ASSERT_TRUE(both) << Slurp(dir / "a.log") << Slurp(dir / "b.log") << Slurp(dir / "lost.log");
  ::kill(a, SIGKILL);
  ::kill(b, SIGSTOP);
  const pid_t c = worker("c.log");
  EXPECT_EQ(WaitExit(coordinator, 300), 0) << Slurp(dir / "lost.log");
  EXPECT_EQ(WaitExit(c, 30), 0) << Slurp(dir / "c.log");
  ::kill(b, SIGKILL);
  ::waitpid(a, nullptr, 0);
  ::waitpid(b, nullptr, 0);
  const std::string log = Slurp(dir / "lost.log");
  EXPECT_NE(log.find("lost worker 0"), std::string::npos) << log;
  EXPECT_NE(log.find("lost worker 1"), std::string::npos) << log;
  EXPECT_NE(log.find("no heartbeat for 3 s; episode"), std::string::npos) << log;
  EXPECT_EQ(test::SearchRunOutcome(dir / "lost"), Truth());
}

// The coordinator SIGKILLed at two seeded random moments (start-up, a round's
// evaluations or its commit, whatever the moment finds), each time started again
// (with --resume once the run exists); its local workers stop when it ends.
TEST_F(WorkersTest, ACoordinatorKilledAtRandomMomentsResumesToTheSameLog) {
  const fs::path dir = dir_->path();
  const fs::path run = dir / "killed";
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> moment(0.5, 5.0);
  int kills = 0;
  for (int start = 0; start < 3; ++start) {
    const std::vector<std::string> args = fs::exists(run / "settings.json")
                                              ? std::vector<std::string>{"search", "--resume", "killed"}
                                              : Args("--workers 2 --out killed");
    const pid_t coordinator = test::SpawnHaq(args, dir, "killed.log");
    if (start == 2) {  // the last start runs to the end
      ASSERT_EQ(WaitExit(coordinator, 300), 0) << Slurp(dir / "killed.log");
      break;
    }
    int status = 0;
    const bool ended =
        WaitFor([&] { return ::waitpid(coordinator, &status, WNOHANG) == coordinator; }, moment(rng));
    if (ended) {  // a fast machine finished before the second moment came
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Slurp(dir / "killed.log");
      break;
    }
    ::kill(coordinator, SIGKILL);
    ::waitpid(coordinator, nullptr, 0);
    ++kills;
  }
  EXPECT_GE(kills, 1);  // the run takes longer than the first moment anywhere
  // Every local worker of the killed coordinators noticed and stopped: no process
  // still runs with this run's store on its command line.
  const std::string store = (run / "workers.store").string();
  EXPECT_TRUE(WaitFor([&] { return ProcessesWith(store) == 0; }, 30)) << ProcessesWith(store) << " left";
  EXPECT_GE(Count(Slurp(run / "workers" / "local-0.log"), "the coordinator process ended"), 1u);
  EXPECT_EQ(test::SearchRunOutcome(run), Truth());
}

TEST_F(WorkersTest, WorkersWithoutTheRunsTokenAreRefused) {
  const fs::path dir = dir_->path();
  const std::string address = fmt::format("127.0.0.1:{}", FreePort());
  const pid_t coordinator =
      test::SpawnHaq(Args(fmt::format("--listen {} --out refused", address)), dir, "refused.log");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(dir / "refused" / "worker.token"); }, 120));
  // Another run's token.
  const fs::path wrong = dir / "wrong.token";
  util::WriteFileAtomic(wrong, std::string(64, 'a') + "\n");
  fs::permissions(wrong, fs::perms::owner_read | fs::perms::owner_write);
  const auto r = test::RunHaq(fmt::format("worker --connect {} --token-file wrong.token --threads 1", address), dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("worker 0: the coordinator at " + address + " refused: it did not present this "
                       "run's token (its --token-file is not the run's worker.token)"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(WaitFor([&] {
    return Slurp(dir / "refused.log").find("refused worker 0 (") != std::string::npos;
  }, 10)) << Slurp(dir / "refused.log");
  // The run's own token, but readable by others: refused before connecting.
  fs::copy_file(dir / "refused" / "worker.token", dir / "open.token");
  fs::permissions(dir / "open.token", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  const auto open = test::RunHaq(fmt::format("worker --connect {} --token-file open.token", address), dir);
  EXPECT_EQ(open.exit_code, 1);
  EXPECT_NE(open.err.find("--token-file: open.token: readable by others (mode 0604); expected owner-only: "
                          "chmod 600 open.token"),
            std::string::npos)
      << open.err;
  // The token the run wrote is owner-only.
  struct stat st {};
  ASSERT_EQ(::stat((dir / "refused" / "worker.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::kill(coordinator, SIGKILL);
  ::waitpid(coordinator, nullptr, 0);
}

// A worker whose model file differs from the coordinator's (here: replaced by an
// 8-bit quantized copy once the run has started) builds other weights and is
// refused by its digest, with the reason on both sides.
TEST_F(WorkersTest, AWorkerHoldingAnotherModelIsRefused) {
  const fs::path dir = dir_->path() / "digest";
  fs::create_directories(dir);
  const auto q = test::RunHaq("quantize --model mobilenet_v2_fmnist --bits 8 --out q8.pt", dir);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  fs::copy_file(fs::path(HAQ_SOURCE_DIR) / "models" / "mobilenet_v2_fmnist.pt", dir / "model.pt");
  const std::string address = fmt::format("127.0.0.1:{}", FreePort());
  std::string run_args = kRun;
  run_args.replace(run_args.find("mobilenet_v2_fmnist"), 19, "model.pt");
  const pid_t coordinator = test::SpawnHaq(
      test::SplitWords(fmt::format("search {} --listen {} --out run", run_args, address)), dir, "run.log");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(dir / "run" / "worker.token"); }, 120)) << Slurp(dir / "run.log");
  fs::copy_file(dir / "run" / "worker.token", dir / "copy.token");
  fs::permissions(dir / "copy.token", fs::perms::owner_read | fs::perms::owner_write);
  fs::copy_file(dir / "q8.pt", dir / "model.pt", fs::copy_options::overwrite_existing);
  const auto r = test::RunHaq(fmt::format("worker --connect {} --token-file copy.token --threads 1", address), dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string reason = "refused: it holds another model, data set, split or calibration input (digest ";
  EXPECT_NE(r.err.find("worker 0: the coordinator at " + address + " " + reason), std::string::npos) << r.err;
  EXPECT_TRUE(WaitFor([&] { return Slurp(dir / "run.log").find("refused worker 0 (") != std::string::npos; }, 10))
      << Slurp(dir / "run.log");
  EXPECT_NE(Slurp(dir / "run.log").find("check that the model file, data directory and --classes are the same there"),
            std::string::npos);
  ::kill(coordinator, SIGKILL);
  ::waitpid(coordinator, nullptr, 0);
}

}  // namespace
}  // namespace haq
