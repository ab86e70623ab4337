// `haq search` end to end on the shipped model with a tiny budget of episodes: the
// run directory's files, a best policy that `haq cost` and `haq eval` read and
// whose cost equals the logged one, `--resume` extending a run, and bad flags.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <filesystem>
#include <regex>
#include <sstream>

#include "hw/layer_shape.h"
#include "hw/spec.h"
#include "search/run_settings.h"
#include "test_util.h"
#include "util/file.h"

namespace haq {
namespace {

using test::RunHaq;

// `haq sweep` end to end: a run directory per budget, the shared files beside them,
// the front printed and in front.json, and `haq report` on the sweep writing the
// front's page and each run's own.
TEST(SearchCliTest, ASweepRunsEachBudgetAndReportsItsFront) {
  test::TempDir dir;
  const auto r = RunHaq(
      "sweep --agent ilp --episodes 2 --hessian-images 64 --hessian-probes 4 --b-min 3 "
      "--reward-images 300 --tune-images 512 --calib-batches 1 --final-finetune-steps 2 "
      "--test-images 1000 --seed 3 --budgets latency=0.4,0.6 --out s",
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(test::ListDir(dir / "s"),
            "final_finetunes.jsonl\nfront.json\nlatency-0.4\nlatency-0.6\nsensitivity.json\n"
            "settings.json\nsweep.json\n");
  const auto front = nlohmann::json::parse(util::ReadFile(dir / "s" / "front.json"));
  ASSERT_EQ(front["points"].size(), 2u);
  ASSERT_EQ(front["uniform"].size(), 6u);  // 3..8 bits
  for (const auto& p : front["points"]) {
    const auto sum = nlohmann::json::parse(
        util::ReadFile(dir / "s" / p["run"].get<std::string>() / "summary.json"));
    EXPECT_EQ(p["cost_ratio"], sum["rows"][2]["cost_ratio"]);
    EXPECT_EQ(p["test_top1"], sum["rows"][2]["test_top1_finetuned"]);
    // The printed row: the budget, its cost and its accuracy.
    EXPECT_NE(r.out.find(fmt::format("searched {}", p["budget"].get<std::string>())), std::string::npos)
        << r.out;
  }
  EXPECT_NE(r.out.find("uniform 3-bit"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sweep: run 2/2 at latency=0.6"), std::string::npos) << r.out;

  const auto rep = RunHaq("report s", dir.path());
  ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_EQ(rep.out, "wrote s/report.html (the front of 2 budgets) and each budget's report.html in its run\n");
  EXPECT_NE(util::ReadFile(dir / "s" / "report.html").find("id=\"front-chart\""), std::string::npos);
  for (const char* run : {"latency-0.4", "latency-0.6"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / "s" / run / "report.html")) << run;
  }
  // A finished sweep resumed does no work and gives the same front.
  const auto again = RunHaq("sweep --resume s", dir.path());
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(nlohmann::json::parse(util::ReadFile(dir / "s" / "front.json")), front);
}

TEST(SearchCliTest, TinySearchWritesARunWhosePolicyOtherCommandsReproduce) {
  test::TempDir dir;
  const std::string common =
      "--reward-images 300 --tune-images 512 --calib-batches 1 --final-finetune-steps 2 "
      "--test-images 1000";
  const auto r = RunHaq("search --episodes 2 --warmup 1 --seed 3 " + common + " --out run", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("episode 2/2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uniform 8-bit"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test top-1 on the first 1000 of the 10000 test images"), std::string::npos)
      << r.out;
  EXPECT_EQ(test::ListDir(dir / "run"),
            "agent-000002.bin\nbest_model.pt\nbest_policy.json\nfinal_finetunes.jsonl\n"
            "final_policy.json\nhardware.yaml\n"
            "log.jsonl\nnetwork.json\nsettings.json\nstate.json\nsummary.json\n");
  // Without --final-candidates the delivered policy is the search's best.
  EXPECT_EQ(util::ReadFile(dir / "run" / "final_policy.json"),
            util::ReadFile(dir / "run" / "best_policy.json"));
  // The run keeps what its costs came from: the built-in spec's text and the layers.
  EXPECT_EQ(util::ReadFile(dir / "run" / "hardware.yaml"), hw::BuiltinHardwareYaml("bismo-edge"));
  const auto network = nlohmann::json::parse(util::ReadFile(dir / "run" / "network.json"));
  const auto shapes = hw::ShapesFromJson(network["layers"], "network.json");
  ASSERT_EQ(shapes.size(), 29u);
  EXPECT_EQ(hw::ShapesToJson(shapes), network["layers"]);
  EXPECT_EQ(shapes[13].Summary(), "3x3 s1 dw 192->192 7x7");
  EXPECT_EQ(network["batch"], 1);

  // The report renders from the run directory alone.
  const auto rep = RunHaq("report run", dir.path());
  ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "report.html"));

  // Extend by one episode with --resume; the settings come from the run. The final
  // fine-tune now tries the 2 best distinct policies and keeps the better one on the
  // reward images, and the final comparison repeats with a second seed.
  const auto more =
      RunHaq("search --resume run --episodes 3 --final-candidates 2 --final-seeds 2", dir.path());
  ASSERT_EQ(more.exit_code, 0) << more.out << more.err;
  EXPECT_NE(more.out.find("(resumed after episode 2)"), std::string::npos) << more.out;
  {
    const auto s = nlohmann::json::parse(util::ReadFile(dir / "run" / "summary.json"));
    const auto& cands = s["final_candidates"];
    ASSERT_EQ(cands.size(), 2u) << s.dump(2);
    EXPECT_EQ(cands[0]["episode"], s["best_episode"]);
    const size_t pick = cands[1]["reward_accuracy_finetuned"].get<double>() >
                                cands[0]["reward_accuracy_finetuned"].get<double>()
                            ? 1
                            : 0;
    EXPECT_EQ(s["final_episode"], cands[pick]["episode"]);
    const auto final_policy =
        nlohmann::json::parse(util::ReadFile(dir / "run" / "final_policy.json"));
    EXPECT_EQ(s["rows"][2]["policy"], final_policy);
    EXPECT_NE(more.out.find("  (chosen)"), std::string::npos) << more.out;

    // --final-seeds 2: the run's seed (3) and the next; each fine-tuned row has both
    // accuracies and their mean, and the paired differences are row minus row.
    EXPECT_EQ(s["final_seeds"], nlohmann::json::array({3, 4}));
    EXPECT_EQ(s["test_images"], 1000);
    const auto& rows = s["rows"];
    EXPECT_FALSE(rows[0].contains("test_top1_finetuned_seeds"));  // uniform 8-bit: not tuned
    std::vector<double> per_seed[2];
    for (size_t i : {1, 2}) {
      per_seed[i - 1] = rows[i]["test_top1_finetuned_seeds"].get<std::vector<double>>();
      ASSERT_EQ(per_seed[i - 1].size(), 2u) << rows[i].dump();
      EXPECT_DOUBLE_EQ(rows[i]["test_top1_finetuned"].get<double>(),
                       (per_seed[i - 1][0] + per_seed[i - 1][1]) / 2);
    }
    const auto d = s["searched_minus_uniform"]["per_seed"].get<std::vector<double>>();
    ASSERT_EQ(d.size(), 2u);
    for (size_t k = 0; k < 2; ++k) EXPECT_DOUBLE_EQ(d[k], per_seed[1][k] - per_seed[0][k]);
    EXPECT_NE(more.out.find("(2 seeds, paired)"), std::string::npos) << more.out;

    // The first seed is the run's own: the same numbers as a single-seed final stage.
    const auto one = RunHaq("search --resume run --final-candidates 2 --final-seeds 1", dir.path());
    ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
    const auto s1 = nlohmann::json::parse(util::ReadFile(dir / "run" / "summary.json"));
    EXPECT_EQ(s1["final_seeds"], nlohmann::json::array({3}));
    for (size_t i : {1, 2}) {
      EXPECT_EQ(s1["rows"][i]["test_top1_finetuned_seeds"],
                nlohmann::json::array({per_seed[i - 1][0]}));
    }
  }

  // The best episode's logged latency equals `haq cost` of best_policy.json.
  const auto summary = nlohmann::json::parse(util::ReadFile(dir / "run" / "summary.json"));
  const int64_t best = summary["best_episode"];
  std::vector<nlohmann::json> log;
  {
    std::istringstream in(util::ReadFile(dir / "run" / "log.jsonl"));
    std::string line;
    while (std::getline(in, line)) log.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(log.size(), 3u);
  const double logged_ms = log[static_cast<size_t>(best)]["cost"].get<double>() * 1e3;
  const auto cost = RunHaq("cost --model mobilenet_v2_fmnist --hw bismo-edge --policy run/best_policy.json",
                           dir.path());
  ASSERT_EQ(cost.exit_code, 0) << cost.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cost.out, m, std::regex("cycles, ([0-9.]+) ms"))) << cost.out;
  EXPECT_NEAR(std::stod(m[1].str()), logged_ms, 5e-4) << cost.out;

  const auto eval = RunHaq(
      "eval --model mobilenet_v2_fmnist --policy run/best_policy.json --hw bismo-edge --split val",
      dir.path());
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_NE(eval.out.find(fmt::format("latency {:.4f} ms", logged_ms)), std::string::npos)
      << eval.out << logged_ms;

  // A flag that contradicts the run is refused before any work.
  {
    const std::string before = test::ListDir(dir / "run");
    const auto res = RunHaq("search --resume run --sigma-decay 0.995", dir.path());
    EXPECT_EQ(res.exit_code, 1) << res.out;
    EXPECT_EQ(res.err,
              "haq: error: --resume: run/settings.json: the run was started with --sigma-decay "
              "0.99, this command gives 0.995; drop the flag or start a new run\n");
    EXPECT_EQ(test::ListDir(dir / "run"), before);
  }

  // More test images than the test set has: refused before any work.
  {
    const std::string before = test::ListDir(dir / "run");
    const auto res = RunHaq("search --resume run --test-images 10001", dir.path());
    EXPECT_EQ(res.exit_code, 1) << res.out;
    EXPECT_EQ(res.err, "haq: error: --test-images: expected at most the 10000 test images, got 10001\n");
    EXPECT_EQ(test::ListDir(dir / "run"), before);
  }

  // A run from before --sigma-decay, --final-candidates, --final-seeds, --restarts and
  // --test-images existed resumes with their old values.
  {
    std::filesystem::copy(dir / "run", dir / "old", std::filesystem::copy_options::recursive);
    auto settings = nlohmann::json::parse(util::ReadFile(dir / "old" / "settings.json"));
    // As haq wrote settings.json then: no "version" and no "subset" either.
    for (const char* key : {"sigma_decay", "final_candidates", "final_seeds", "restarts",
                            "test_images", "version", "subset"}) {
      ASSERT_TRUE(settings.contains(key)) << key << settings.dump(2);
      settings.erase(key);
    }
    const std::string text = settings.dump(2) + "\n";
    util::WriteFileAtomic(dir / "old" / "settings.json", text);
    const auto res = RunHaq("search --resume old", dir.path());
    EXPECT_EQ(res.exit_code, 0) << res.out << res.err;
    EXPECT_EQ(util::ReadFile(dir / "old" / "settings.json"), text);
  }

  // Corrupted copies of the run: `--resume` names the file, the field and what it
  // found, exits 1 and changes nothing.
  auto corrupt = [&](const std::string& name, const std::string& file, const std::string& from,
                     const std::string& to, const std::string& message) {
    std::filesystem::copy(dir / "run", dir / name, std::filesystem::copy_options::recursive);
    std::string text = util::ReadFile(dir / name / file);
    const auto pos = text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    util::WriteFileAtomic(dir / name / file, text.replace(pos, from.size(), to));
    const std::string before = test::ListDir(dir / name);
    const auto res = RunHaq("search --resume " + name, dir.path());
    EXPECT_EQ(res.exit_code, 1) << res.out;
    EXPECT_EQ(res.err.substr(0, 12 + message.size()), "haq: error: " + message) << res.err;
    EXPECT_EQ(test::ListDir(dir / name), before);
  };
  corrupt("c1", "settings.json", "\"agent\": \"ddpg\"", "\"agent\": \"dqn\"",
          "c1/settings.json: setting 'agent': expected one of ddpg, random, uniform, ilp, greedy, got \"dqn\"");
  corrupt("c2", "settings.json", "\"reward_images\": 300", "\"reward_images\": -3",
          "c2/settings.json: setting 'reward_images': expected 1..1099511627776, got -3");
  corrupt("c3", "state.json", "\"agent_file\": \"agent-000003.bin\"", "\"agent_file\": \"../x.bin\"",
          "c3/state.json: agent_file: expected a name agent-NNNNNN.bin, got \"../x.bin\"");
  corrupt("c5", "settings.json", "\"sigma_decay\": 0.99", "\"sigma_decay\": 0.0",
          "c5/settings.json: setting 'sigma_decay': expected 1e-06..1, got 0");
  corrupt("c6", "settings.json", "\"b_min\": 2,", "",
          "c6/settings.json: missing setting 'b_min'");
  corrupt("c7", "settings.json", "\"b_min\": 2", "\"b_min\": \"x\"",
          "c7/settings.json: setting 'b_min': unexpected value \"x\"");
  corrupt("c4", "log.jsonl", "\"episode\":1,", "\"episode\":5,",
          "c4/log.jsonl: line 2: expected episode 1 with best_episode in 0..1 and 29 layers, got "
          "episode 5");
}

// --restarts K: K searches of --episodes each in one run, seeds seed..seed+K-1, the
// best kept by reward; a resume may add restarts. Random search makes the seeding
// checkable end to end: restart 2's policies are those of a run with the next seed.
TEST(SearchCliTest, RestartsAreSearchesWithTheNextSeedsAndCanBeAdded) {
  test::TempDir dir;
  const std::string common =
      "--agent random --reward-images 300 --tune-images 512 --calib-batches 1 "
      "--final-finetune-steps 0 --episodes 2 --test-images 1000";
  const auto r = RunHaq("search --restarts 2 --seed 3 " + common + " --out run", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("agent random, 2 restarts (seeds 3..4) of 2 episodes"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("restart 2: a fresh random agent from episode 3\nepisode 3/4"),
            std::string::npos)
      << r.out;
  const auto alone = RunHaq("search --seed 4 " + common + " --out alone", dir.path());
  ASSERT_EQ(alone.exit_code, 0) << alone.out << alone.err;
  auto policies = [&](const char* run) {
    std::vector<nlohmann::json> out;
    std::istringstream in(util::ReadFile(dir / run / "log.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line)["policy"]);
    return out;
  };
  const auto both = policies("run");
  ASSERT_EQ(both.size(), 4u);
  EXPECT_EQ(std::vector<nlohmann::json>(both.begin() + 2, both.end()), policies("alone"));
  EXPECT_NE(both[0], both[2]);

  // Each restart's best, and the run's best is the better of them.
  auto summary = [&] { return nlohmann::json::parse(util::ReadFile(dir / "run" / "summary.json")); };
  auto check_restarts = [&](size_t k) {
    const auto s = summary();
    ASSERT_EQ(s["restarts"].size(), k) << s.dump(2);
    size_t best = 0;
    for (size_t i = 0; i < k; ++i) {
      const auto& row = s["restarts"][i];
      EXPECT_EQ(row["seed"], 3 + i);
      EXPECT_GE(row["best_episode"].get<int64_t>(), static_cast<int64_t>(2 * i));
      EXPECT_LT(row["best_episode"].get<int64_t>(), static_cast<int64_t>(2 * i + 2));
      if (row["best_reward"].get<double>() > s["restarts"][best]["best_reward"].get<double>()) best = i;
    }
    EXPECT_EQ(s["best_episode"], s["restarts"][best]["best_episode"]);
  };
  check_restarts(2);

  // A third restart; the settings record it, so the report plans 6 episodes.
  const auto more = RunHaq("search --resume run --restarts 3", dir.path());
  ASSERT_EQ(more.exit_code, 0) << more.out << more.err;
  EXPECT_NE(more.out.find("episode 6/6"), std::string::npos) << more.out;
  check_restarts(3);
  EXPECT_EQ(nlohmann::json::parse(util::ReadFile(dir / "run" / "settings.json"))["restarts"], 3);
  const auto rep = RunHaq("report run", dir.path());
  ASSERT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_NE(rep.out.find(", 6/6 episodes, "), std::string::npos) << rep.out;

  // What a resume cannot do, refused before any work and without a change.
  const std::string before = test::ListDir(dir / "run") + util::ReadFile(dir / "run" / "settings.json");
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"search --resume run --restarts 2",
            "--restarts 2: the run was given 3 restarts; a resume may add restarts, not remove them"},
           {"search --resume run --episodes 3",
            "--episodes 3: the run's restarts are 2 episodes each and restart 2 has begun; drop "
            "--episodes or start a new run"},
           {"search --resume alone --restarts 2 --episodes 1",
            "--resume: alone: the run's first search already has 2 episodes, so restarts of 1 "
            "cannot follow it; give --episodes 2 or more"},
           {"search --agent uniform --restarts 2 --out u",
            "--restarts 2: the uniform agent has a single policy; expected --restarts 1"}}) {
    const auto bad = RunHaq(args, dir.path());
    EXPECT_EQ(bad.exit_code, 1) << args << bad.out;
    EXPECT_EQ(bad.err, "haq: error: " + message + "\n") << args;
  }
  EXPECT_EQ(test::ListDir(dir / "run") + util::ReadFile(dir / "run" / "settings.json"), before);
  EXPECT_FALSE(std::filesystem::exists(dir / "u"));
}

TEST(SearchCliTest, BadRunDirectoriesAndFlags) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "full");
  dir.Write("full/x.txt", "x");
  std::filesystem::create_directories(dir / "bad");
  dir.Write("bad/settings.json", "{\n");
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"search --episodes 1 --out full",
       "--out: full is not empty; choose a new directory"},
      {"search --resume bad",
       "bad/settings.json: malformed JSON: [json.exception.parse_error.101] parse error at line "
       "2, column 1: syntax error while parsing object key - unexpected end of input; expected "
       "string literal"},
      {"search --resume nowhere", "--resume: nowhere: not a search run directory (no settings.json)"},
      {"search --episodes 1", "expected --out DIR (a new run) or --resume DIR (continue a run)"},
      {"search --budget latency=fast --out r",
       "--budget: expected a positive number after 'latency=', got 'fast'"},
      {"search --hw bismo-edge --budget energy=0.5 --out r",
       "--budget energy: hardware 'bismo-edge' has no energy model; use a latency or size budget"},
  };
  for (const auto& c : cases) {
    const auto r = RunHaq(c.args, dir.path());
    EXPECT_EQ(r.exit_code, 1) << c.args << r.err;
    EXPECT_EQ(r.err, "haq: error: " + c.message + "\n") << c.args;
  }
  EXPECT_EQ(test::ListDir(dir.path()), "bad\nfull\n");
  EXPECT_EQ(test::ListDir(dir / "bad"), "settings.json\n");
  EXPECT_EQ(test::ListDir(dir / "full"), "x.txt\n");
}


// --subset is a run setting like any other: recorded, so that a run resumed after
// episode 3 fine-tunes on the same images and ends as the uninterrupted run.
TEST(SearchCliTest, ASubsetRunResumedAfterEpisode3EndsAsTheUninterruptedRun) {
  test::TempDir dir;
  const std::string common =
      "search --subset 300 --finetune-steps 3 --warmup 2 --reward-images 100 --calib-batches 1 "
      "--final-finetune-steps 3 --test-images 200 --seed 5";
  const auto part = RunHaq(common + " --episodes 3 --out part", dir.path());
  ASSERT_EQ(part.exit_code, 0) << part.err;
  EXPECT_EQ(nlohmann::json::parse(util::ReadFile(dir / "part" / "settings.json")).at("subset"), 300);
  const auto resumed = RunHaq("search --resume part --episodes 6", dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto whole = RunHaq(common + " --episodes 6 --out whole", dir.path());
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(test::SearchRunOutcome(dir / "part"), test::SearchRunOutcome(dir / "whole"));
  // Another subset on resume is refused, naming the flag.
  const auto other = RunHaq("search --resume part --subset 400", dir.path());
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.err,
            "haq: error: --resume: part/settings.json: the run was started with --subset 300, this "
            "command gives 400; drop the flag or start a new run\n");
}

// tests/data/v0_run: a run written by haq before the settings table (version-0
// settings.json: no "version", no "subset"; see tests/data/README.md), random search,
// 3 episodes. Resumed to 5 episodes it ends as a run started now: the same policies
// and costs in every episode (exact on any CPU: seeded generator, cost models), and
// the continuation, computed here like the new run, equal in everything.
TEST(SearchCliTest, RunsFromBeforeTheSettingsTableResumeToTheSameResult) {
  test::TempDir dir;
  std::filesystem::copy(test::DataPath("v0_run"), dir / "old", std::filesystem::copy_options::recursive);
  const auto resumed = RunHaq("search --resume old --episodes 5", dir.path());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("note: old/settings.json: written before haq recorded --subset"),
            std::string::npos)
      << resumed.err;
  const auto settings = nlohmann::json::parse(util::ReadFile(dir / "old" / "settings.json"));
  EXPECT_EQ(settings.at("version"), search::kSettingsVersion);  // rewritten: --episodes changed
  EXPECT_EQ(settings.at("episodes"), 5);
  const auto whole = RunHaq(
      "search --model mobilenet_v2_fmnist --hw bismo-edge --budget latency=0.5 --agent random "
      "--episodes 5 --finetune-steps 2 --reward-images 100 --tune-images 256 --calib-batches 1 "
      "--final-finetune-steps 0 --test-images 200 --seed 3 --out whole",
      dir.path());
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  auto lines = [&](const std::string& run) {
    std::vector<nlohmann::json> out;
    std::istringstream in(util::ReadFile(dir / run / "log.jsonl"));
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      for (const char* key : {"seconds", "timing", "machine", "best_episode"}) j.erase(key);
      out.push_back(j);
    }
    return out;
  };
  const auto a = lines("old"), b = lines("whole");
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t e = 0; e < 5; ++e) {
    EXPECT_EQ(a[e].at("policy"), b[e].at("policy")) << e;
    EXPECT_EQ(a[e].at("cost"), b[e].at("cost")) << e;
    if (e >= 3) {
      EXPECT_EQ(a[e], b[e]) << e;  // computed here, after the resume
    }
  }
}

}  // namespace
}  // namespace haq
