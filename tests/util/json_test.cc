// util/json.h: parse errors, repeated keys and typed fields, each with its exact
// message (the contract every JSON input of the tool relies on).
#include "util/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "test_util.h"
#include "util/error.h"

namespace haq::util {
namespace {

TEST(JsonTest, ParseErrorsAndOutOfRangeNumbersNameTheSource) {
  EXPECT_EQ(ParseJson(R"({"a": [1, 2.5, "x"]})", "f.json")["a"][1], 2.5);
  EXPECT_EQ(test::InputErrorOf([] { ParseJson("{\"a\": }", "f.json"); }).rfind("f.json: malformed JSON: ", 0),
            0u);
  EXPECT_EQ(test::InputErrorOf([] { ParseJson("[1E999]", "f.json"); }).rfind("f.json: malformed JSON: ", 0),
            0u);
  test::TempDir dir;
  const auto p = dir.Write("g.json", "[1,");
  EXPECT_EQ(test::InputErrorOf([&] { ReadJsonFile(p); }).rfind(p.string() + ": malformed JSON: ", 0), 0u);
}

TEST(JsonTest, RepeatedKeysAreRefusedAtAnyDepthButNotAcrossObjects) {
  EXPECT_EQ(test::InputErrorOf([] { ParseJson(R"({"a": 1, "b": 2, "a": 3})", "f"); }),
            "f: a: key given twice in one object");
  EXPECT_EQ(test::InputErrorOf([] { ParseJson(R"([{"x": {"k": 1, "k": 1}}])", "f"); }),
            "f: k: key given twice in one object");
  // Siblings and nested objects may reuse names; an object closes its key set.
  const auto j = ParseJson(R"({"k": {"k": 1}, "o": [{"k": 1}, {"k": 2}], "p": {"k": 3}})", "f");
  EXPECT_EQ(j["o"][1]["k"], 2);
  EXPECT_EQ(j["p"]["k"], 3);
}

TEST(JsonTest, TypedFieldsAreExactAboutTypeAndRange) {
  const auto j = ParseJson(
      R"({"i": 7, "f": 1.5, "s": "x", "b": true, "big": 9223372036854775808, "neg": -3,
          "wide": 4294967296})",
      "f");
  EXPECT_EQ(JsonField<int64_t>(j, "i", "f"), 7);
  EXPECT_EQ(JsonField<double>(j, "i", "f"), 7.0);  // an integer is a number
  EXPECT_EQ(JsonField<std::string>(j, "s", "f"), "x");
  EXPECT_TRUE(JsonField<bool>(j, "b", "f"));
  EXPECT_EQ(JsonField<int>(j, "neg", "f"), -3);
  EXPECT_EQ(test::InputErrorOf([&] { JsonField<int64_t>(j, "f", "f"); }),
            "f: f: expected an integer, got 1.5");
  EXPECT_EQ(test::InputErrorOf([&] { JsonField<int64_t>(j, "big", "f"); }),
            "f: big: expected an integer, got 9223372036854775808");
  EXPECT_EQ(test::InputErrorOf([&] { JsonField<int>(j, "wide", "f"); }),
            "f: wide: expected an integer, got 4294967296");
  EXPECT_EQ(test::InputErrorOf([&] { JsonField<double>(j, "s", "f"); }), "f: s: expected a number, got \"x\"");
  EXPECT_EQ(test::InputErrorOf([&] { JsonField<bool>(j, "i", "f"); }), "f: i: expected true or false, got 7");
  EXPECT_EQ(test::InputErrorOf([&] { JsonField<std::string>(j, "b", "f"); }),
            "f: b: expected a string, got true");
  EXPECT_EQ(test::InputErrorOf([&] { JsonField<int64_t>(j, "none", "f"); }), "f: missing field 'none'");
  EXPECT_EQ(test::InputErrorOf([] { JsonField<int64_t>(nlohmann::json::array(), "i", "f"); }),
            "f: missing field 'i'");
  EXPECT_EQ(JsonFieldOr<int64_t>(j, "none", "f", 42), 42);
  EXPECT_EQ(test::InputErrorOf([&] { JsonFieldOr<int64_t>(j, "s", "f", 42); }),
            "f: s: expected an integer, got \"x\"");
}

}  // namespace
}  // namespace haq::util
