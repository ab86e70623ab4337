// search::RunSettings: the table is the truth the tests iterate over, so a run
// parameter added later is covered by every test here without a new line (or,
// for a free string, by failing until it is given an alternative value below).
#include "search/run_settings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "search/run_settings_values.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::search {
namespace {

using json = nlohmann::json;

// Every parameter at another value than its default (a consistent set of them).
RunSettings AllOtherValues() {
  RunSettings s;
  for (const RunParam& p : RunParams()) EXPECT_TRUE(p.Set(s, OtherValue(p, RunSettings{}))) << p.key;
  s.agent = "random";  // restarts > 1 needs an agent with more than one policy
  s.b_min = 3;
  s.b_max = 7;
  return s;
}

TEST(RunSettingsTest, KeysAndFlagsAreUniqueAndEveryParameterIsRecorded) {
  std::set<std::string> keys, flags;
  for (const RunParam& p : RunParams()) {
    EXPECT_TRUE(keys.insert(p.key).second) << p.key;
    EXPECT_TRUE(flags.insert(p.flag).second) << p.flag;
    EXPECT_TRUE(p.flag.starts_with("--")) << p.flag;
    EXPECT_FALSE(p.help.empty()) << p.key;
  }
  const json j = RunSettings{}.ToJson();
  EXPECT_EQ(j.at("version"), kSettingsVersion);
  EXPECT_EQ(j.size(), RunParams().size() + 1);
}

TEST(RunSettingsTest, EveryParameterRoundTripsThroughSettingsJson) {
  const RunSettings s = AllOtherValues();
  s.Validate();
  EXPECT_EQ(RunSettings::FromJson(s.ToJson(), "settings.json"), s);
  for (const RunParam& p : RunParams()) {
    EXPECT_NE(p.Get(s), p.Get(RunSettings{})) << p.key << ": the test must change every value";
  }
}

TEST(RunSettingsTest, EveryBadValueIsRefusedNamingTheKey) {
  const json good = RunSettings{}.ToJson();
  for (const RunParam& p : RunParams()) {
    SCOPED_TRACE(p.key);
    json j = good;
    j.erase(p.key);
    EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "run/settings.json"); }),
              "run/settings.json: missing setting '" + p.key + "'");
    j[p.key] = json::array({1});
    EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "run/settings.json"); }),
              "run/settings.json: setting '" + p.key + "': unexpected value [1]");
    // Out of range, or not one of the allowed values.
    if (!p.allowed.empty()) {
      j[p.key] = "nonsense";
      EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "run/settings.json"); }),
                "run/settings.json: setting '" + p.key + "': expected one of " +
                    util::JoinNames(p.allowed) + ", got \"nonsense\"");
    } else if (std::holds_alternative<int64_t RunSettings::*>(p.member) ||
               std::holds_alternative<int RunSettings::*>(p.member)) {
      j[p.key] = static_cast<int64_t>(p.max) + 1;
      EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "run/settings.json"); }),
                fmt::format("run/settings.json: setting '{}': expected {}..{}, got {}", p.key,
                            static_cast<int64_t>(p.min), static_cast<int64_t>(p.max),
                            static_cast<int64_t>(p.max) + 1));
    }
  }
  json j = good;
  j["learning_rate"] = 0.1;
  EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "s.json"); }),
            "s.json: unknown setting 'learning_rate' (a run of another haq version?); expected "
            "the keys of docs/FORMATS.md#settingsjson");
  j = good;
  j["version"] = 4;
  EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "s.json"); }),
            "s.json: setting 'version': expected 1..3 (this haq writes version 3; a newer haq "
            "wrote this run?), got 4");
  j = good;
  j["b_min"] = 6;
  j["b_max"] = 4;
  EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "s.json"); }),
            "s.json: settings 'b_min', 'b_max': expected b_min <= b_max, got 6 and 4");
  j = good;
  j["finetune_lr"] = 0.0;
  EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "s.json"); }),
            "s.json: setting 'finetune_lr': expected a positive number, got 0");
}

// Version 0: settings.json as haq wrote it before the table: no "version", none of
// the keys added later, no "subset". It reads as what those runs did.
TEST(RunSettingsTest, FilesFromBeforeTheTableReadWithTheValuesThoseRunsHad) {
  RunSettings s;
  s.model = "resnet20_fmnist";
  s.episodes = 250;
  json j = s.ToJson();
  j.erase("version");
  for (const RunParam& p : RunParams()) {
    if (p.added_in > 0 || p.unrecorded_before) j.erase(p.key);
  }
  EXPECT_EQ(RunSettings::FromJson(j, "old/settings.json"), s);
  // The keys every version-0 file has are still required.
  j.erase("seed");
  EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "old/settings.json"); }),
            "old/settings.json: missing setting 'seed'");
}

// Version 1 (before image folders) lacks the keys version 2 added; they read as
// their defaults, the values those runs had. A version-2 file must have them.
TEST(RunSettingsTest, VersionOneFilesReadWithTheImageFolderKeysAtTheirDefaults) {
  RunSettings s;
  s.episodes = 40;
  json j = s.ToJson();
  j["version"] = 1;
  for (const char* key : {"classes", "image_cache", "mean", "std"}) j.erase(key);
  EXPECT_EQ(RunSettings::FromJson(j, "v1/settings.json"), s);
  j["version"] = 2;
  EXPECT_EQ(test::InputErrorOf([&] { RunSettings::FromJson(j, "v2/settings.json"); }),
            "v2/settings.json: missing setting 'classes'");
}

// The rule of a resume, for every parameter: a flag given with the run's value is
// accepted; with another value it is taken (and recorded) if the parameter may
// change, else refused with a message naming the flag.
TEST(RunSettingsTest, EveryFlagOnResumeIsTakenOrRefusedWithItsExactMessage) {
  const RunSettings saved;
  const json saved_json = saved.ToJson();
  for (const RunParam& p : RunParams()) {
    SCOPED_TRACE(p.key);
    RunSettings given = saved;
    EXPECT_EQ(ResumeSettings(saved, saved_json, given, {p.key}, 0, "run/settings.json"), saved);
    ASSERT_TRUE(p.Set(given, OtherValue(p, saved)));
    if (p.on_resume == OnResume::kMayChange) {
      const RunSettings now = ResumeSettings(saved, saved_json, given, {p.key}, 0, "run/settings.json");
      EXPECT_EQ(p.Get(now), p.Get(given));
      EXPECT_EQ(SettingsToRecord(saved_json, now), now.ToJson());
      continue;
    }
    const std::string run_had =
        p.is_flag() ? "the run was started without " + p.flag + ", this command gives it"
                    : "the run was started with " + p.flag + " " + p.Get(saved).dump() +
                          ", this command gives " + p.Get(given).dump();
    EXPECT_EQ(test::InputErrorOf([&] {
                ResumeSettings(saved, saved_json, given, {p.key}, 0, "run/settings.json");
              }),
              "--resume: run/settings.json: " + run_had + "; drop the flag or start a new run");
    // Not given: the run's value, whatever the flag's default.
    EXPECT_EQ(ResumeSettings(saved, saved_json, given, {}, 0, "run/settings.json"), saved);
  }
  EXPECT_TRUE(SettingsToRecord(saved_json, saved).is_null());
}

TEST(RunSettingsTest, OldRunsTakeAnUnrecordedSubsetAndRecordIt) {
  RunSettings saved;
  json old = saved.ToJson();
  old.erase("version");
  old.erase("subset");
  RunSettings given;
  given.subset = 3000;
  const RunSettings now = ResumeSettings(saved, old, given, {"subset"}, 3, "old/settings.json");
  EXPECT_EQ(now.subset, 3000);
  const json recorded = SettingsToRecord(old, now);
  EXPECT_EQ(recorded.at("version"), kSettingsVersion);
  EXPECT_EQ(recorded.at("subset"), 3000);
  // Resumed without the flag, an old run stays as it is.
  EXPECT_TRUE(SettingsToRecord(old, ResumeSettings(saved, old, saved, {}, 3, "old/settings.json")).is_null());
}

TEST(RunSettingsTest, RestartsMayGrowButNotShrinkOrSplitEpisodesDone) {
  RunSettings saved;
  saved.episodes = 10;
  saved.restarts = 2;
  const json j = saved.ToJson();
  RunSettings given = saved;
  given.restarts = 1;
  EXPECT_EQ(test::InputErrorOf([&] { ResumeSettings(saved, j, given, {"restarts"}, 4, "r/settings.json"); }),
            "--restarts 1: the run was given 2 restarts; a resume may add restarts, not remove them");
  given.restarts = 3;
  EXPECT_EQ(ResumeSettings(saved, j, given, {"restarts"}, 14, "r/settings.json").restarts, 3);
  given.episodes = 12;
  EXPECT_EQ(test::InputErrorOf([&] {
              ResumeSettings(saved, j, given, {"restarts", "episodes"}, 14, "r/settings.json");
            }),
            "--episodes 12: the run's restarts are 10 episodes each and restart 2 has begun; drop "
            "--episodes or start a new run");
  // A run without restarts of 8 episodes done cannot become restarts of 5.
  RunSettings one;
  one.episodes = 8;
  RunSettings more = one;
  more.restarts = 2;
  more.episodes = 5;
  EXPECT_EQ(test::InputErrorOf([&] {
              ResumeSettings(one, one.ToJson(), more, {"restarts", "episodes"}, 8, "r/settings.json");
            }),
            "--resume: r: the run's first search already has 8 episodes, so restarts of 5 cannot "
            "follow it; give --episodes 8 or more");
}

TEST(RunSettingsTest, FlagChecksNameTheFlag) {
  RunSettings s;
  s.b_min = 6;
  s.b_max = 3;
  EXPECT_EQ(test::InputErrorOf([&] { s.Validate(); }), "--b-min 6 is above --b-max 3");
  s = RunSettings{};
  s.agent = "uniform";
  s.restarts = 2;
  EXPECT_EQ(test::InputErrorOf([&] { s.Validate(); }),
            "--restarts 2: the uniform agent has a single policy; expected --restarts 1");
  s = RunSettings{};
  s.budget = "latency=fast";
  EXPECT_EQ(test::InputErrorOf([&] { s.Validate(); }),
            "--budget: expected a positive number after 'latency=', got 'fast'");
}

}  // namespace
}  // namespace haq::search
