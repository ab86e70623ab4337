// Crash safety of `haq search`: the real executable is killed with SIGKILL at
// seeded random moments (start-up, episodes, checkpoint writes, the final
// fine-tune) at least 20 times and restarted each time (`--resume` once the run
// exists). After every kill each file of the run directory is a complete version
// (JSON parses, every log line is whole, the committed agent file exists, the
// checkpoint loads); at the end the log, best policy and summary equal those of an
// uninterrupted run with the same seed, and no temp file is left behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "test_util.h"
#include "train/checkpoint.h"
#include "util/file.h"

namespace haq {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kSearch =
    "--model mobilenet_v2_fmnist --hw bismo-edge --budget latency=0.5 --episodes 10 --warmup 3 "
    "--finetune-steps 2 --reward-images 200 --tune-images 512 --calib-batches 1 "
    "--final-finetune-steps 4 --seed 5";

// Starts `haq ARGS` in `cwd` (output to files there), returns its pid.
pid_t Spawn(const std::vector<std::string>& args, const fs::path& cwd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    const std::string log = (cwd / "haq.log").string();
    ::freopen(log.c_str(), "a", stdout);
    ::freopen(log.c_str(), "a", stderr);
    std::vector<char*> argv;
    std::string bin = HAQ_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(HAQ_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

std::vector<std::string> Split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The command that continues the run in `dir`: a new run until settings.json exists.
std::vector<std::string> NextCommand(const fs::path& run) {
  if (fs::exists(run / "settings.json")) return {"search", "--resume", run.filename().string()};
  std::vector<std::string> args = Split(kSearch);
  args.insert(args.begin(), "search");
  args.push_back("--out");
  args.push_back(run.filename().string());
  return args;
}

json ParseJsonFile(const fs::path& path) {
  return json::parse(util::ReadFile(path));  // throws on a partial file
}

// Every file in the run directory is a complete version of itself.
void CheckComplete(const fs::path& run, int kill) {
  SCOPED_TRACE("after kill " + std::to_string(kill));
  if (!fs::exists(run)) return;
  for (const auto& e : fs::directory_iterator(run)) {
    const std::string name = e.path().filename().string();
    if (util::IsAtomicWriteTemp(name)) continue;  // removed by the next start
    if (name.ends_with(".json")) {
      EXPECT_NO_THROW(ParseJsonFile(e.path())) << name;
    } else if (name == "log.jsonl") {
      const std::string text = util::ReadFile(e.path());
      EXPECT_TRUE(text.empty() || text.back() == '\n') << "log ends mid-line";
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) EXPECT_NO_THROW(json::parse(line));
    } else if (name == "best_model.pt") {
      EXPECT_NO_THROW(train::LoadCheckpoint(e.path()));
    }
  }
  if (fs::exists(run / "state.json")) {
    const json state = ParseJsonFile(run / "state.json");
    EXPECT_TRUE(fs::exists(run / state["agent_file"].get<std::string>()));
    // The log holds at least the committed episodes.
    const std::string log = util::ReadFile(run / "log.jsonl");
    EXPECT_GE(std::count(log.begin(), log.end(), '\n'), state["episodes_done"].get<int64_t>());
  }
}

// The log without per-run timing.
std::vector<json> Log(const fs::path& run) {
  std::vector<json> out;
  std::istringstream lines(util::ReadFile(run / "log.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line);
    j.erase("seconds");
    j.erase("timing");
    out.push_back(j);
  }
  return out;
}

json Summary(const fs::path& run) {
  json s = ParseJsonFile(run / "summary.json");
  s.erase("search_seconds");
  return s;
}

TEST(KillResumeTest, TwentySigkillsThenTheSameResultAsAnUninterruptedRun) {
  test::TempDir dir;
  const auto whole = test::RunHaq(std::string("search ") + kSearch + " --out whole", dir.path());
  ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;

  const fs::path run = dir / "killed";
  std::mt19937 rng(2026);
  // Up to 6 s: start-up (data, model, calibration) takes a few seconds, then
  // episodes of a fraction of a second each, then the final fine-tunes.
  std::uniform_int_distribution<int> delay_ms(200, 6000);
  int kills = 0;
  bool finished = false;
  for (int attempt = 0; attempt < 200 && !finished; ++attempt) {
    const pid_t pid = Spawn(NextCommand(run), dir.path());
    ASSERT_GT(pid, 0);
    int status = 0;
    bool exited = false;
    if (kills < 20) {
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms(rng));
      while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ++kills;
        CheckComplete(run, kills);
        continue;
      }
    } else {
      ::waitpid(pid, &status, 0);
    }
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << util::ReadFile(dir / "haq.log");
    finished = true;
  }
  ASSERT_TRUE(finished);
  EXPECT_GE(kills, 20);

  EXPECT_EQ(Log(run), Log(dir / "whole"));
  EXPECT_EQ(util::ReadFile(run / "best_policy.json"), util::ReadFile(dir / "whole/best_policy.json"));
  EXPECT_EQ(Summary(run), Summary(dir / "whole"));
  for (const auto& e : fs::directory_iterator(run)) {
    EXPECT_FALSE(util::IsAtomicWriteTemp(e.path().filename().string())) << e.path();
  }
}

}  // namespace
}  // namespace haq
