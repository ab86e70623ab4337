// Crash safety of `haq search`: the real executable is killed with SIGKILL at
// seeded random moments (start-up, episodes, checkpoint writes, the final
// fine-tune) at least 20 times and restarted each time (`--resume` once the run
// exists). After every kill each file of the run directory is a complete version
// (JSON parses, every log line is whole, the committed agent file exists, the
// checkpoint loads); at the end the log, best policy and summary equal those of an
// uninterrupted run with the same seed, and no temp file is left behind. A full
// disk is simulated with a file-size limit (RLIMIT_FSIZE): a write past it fails
// with EFBIG the way one fails with ENOSPC, and the run must stop with the file
// named, keep every file whole and resume to the same result.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
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
    "--final-finetune-steps 4 --test-images 1000 --seed 5";

// The command that continues the run in `dir`: a new run until settings.json exists.
std::vector<std::string> NextCommand(const fs::path& run) {
  if (fs::exists(run / "settings.json")) return {"search", "--resume", run.filename().string()};
  std::vector<std::string> args = test::SplitWords(kSearch);
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

// Both tests compare against one uninterrupted run, made once.
class KillResumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    const auto whole =
        test::RunHaq(std::string("search ") + kSearch + " --out whole", dir_->path());
    ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(fs::exists(*dir_ / "whole/summary.json")); }
  // The finished run in `run` equals the uninterrupted one and left no temp file.
  static void ExpectSameAsWhole(const fs::path& run) {
    const fs::path whole = *dir_ / "whole";
    EXPECT_EQ(Log(run), Log(whole));
    EXPECT_EQ(util::ReadFile(run / "best_policy.json"), util::ReadFile(whole / "best_policy.json"));
    EXPECT_EQ(Summary(run), Summary(whole));
    for (const auto& e : fs::directory_iterator(run)) {
      EXPECT_FALSE(util::IsAtomicWriteTemp(e.path().filename().string())) << e.path();
    }
  }
  static test::TempDir* dir_;
};
test::TempDir* KillResumeTest::dir_ = nullptr;

TEST_F(KillResumeTest, TwentySigkillsThenTheSameResultAsAnUninterruptedRun) {
  const test::TempDir& dir = *dir_;

  const fs::path run = dir / "killed";
  std::mt19937 rng(2026);
  // Up to 6 s: start-up (data, model, calibration) takes a few seconds, then
  // episodes of a fraction of a second each, then the final fine-tunes.
  std::uniform_int_distribution<int> delay_ms(200, 6000);
  int kills = 0;
  bool finished = false;
  for (int attempt = 0; attempt < 200 && !finished; ++attempt) {
    const pid_t pid = test::SpawnHaq(NextCommand(run), dir.path());
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

  ExpectSameAsWhole(run);
}

// The run hits a "full disk" twice: at start-up (network.json, 10 kB, is past a
// 4 KiB limit) and at the first episode's commit (the agent save, about 3.8 MB, is
// past 1 MiB). Each time haq must exit 1 naming the file and the OS reason, with
// every file of the run whole and no temp file left; resuming with room then
// finishes the same run as the uninterrupted one.
TEST_F(KillResumeTest, FullDiskStopsCleanlyAndTheRunResumesToTheSameResult) {
  const test::TempDir& dir = *dir_;
  const fs::path run = dir / "full";
  const std::vector<std::pair<rlim_t, std::string>> stops = {
      {4 << 10, "full/network.json: cannot write: write failed after 4096 of "},
      {1 << 20, "full/agent-000001.bin: cannot write: write failed after 1048576 of "}};
  for (size_t i = 0; i < stops.size(); ++i) {
    SCOPED_TRACE("limit " + std::to_string(stops[i].first));
    const std::string log = "full-" + std::to_string(i) + ".log";
    int status = 0;
    ::waitpid(test::SpawnHaq(NextCommand(run), dir.path(), log, stops[i].first), &status, 0);
    const std::string output = util::ReadFile(dir / log);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << "\n" << output;
    EXPECT_EQ(WEXITSTATUS(status), 1) << output;
    EXPECT_NE(output.find("haq: error: " + stops[i].second), std::string::npos) << output;
    EXPECT_NE(output.find("bytes: File too large\n"), std::string::npos) << output;
    CheckComplete(run, static_cast<int>(i));
    for (const auto& e : fs::directory_iterator(run)) {
      EXPECT_FALSE(util::IsAtomicWriteTemp(e.path().filename().string())) << e.path();
    }
  }
  // The second stop came after settings.json and before the first commit.
  EXPECT_TRUE(fs::exists(run / "settings.json"));
  EXPECT_FALSE(fs::exists(run / "state.json"));

  int status = 0;
  ::waitpid(test::SpawnHaq(NextCommand(run), dir.path(), "full-resume.log"), &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << util::ReadFile(dir / "full-resume.log");
  ExpectSameAsWhole(run);
}

}  // namespace
}  // namespace haq
