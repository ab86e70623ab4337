// The coordinator/worker messages (search/worker_protocol.h): a message made with the
// run's token at its place in the run is accepted; any change to it, the same message
// at another rank or sequence number, or one made with another token is refused, as
// is a hello from another version or with another digest. HMAC-SHA-256 is checked
// against RFC 4231's test case 2 and SHA-256 against FIPS 180-2's "abc".
#include "search/worker_protocol.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "util/digest.h"
#include "util/file.h"

namespace haq::search {
namespace {

const std::string kToken(64, '7');
const std::string kNonce = "0123456789abcdef";

EvalTask Task() {
  EvalTask t;
  t.episode = 41;
  t.policy.layers = {{"conv1", 8, 0}, {"fc", 3, 5}};
  return t;
}

TEST(DigestTest, KnownAnswers) {
  EXPECT_EQ(util::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(util::HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  util::Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Hex(), util::Sha256Hex("abc"));
  EXPECT_EQ(util::RandomHex(16).size(), 32u);
  EXPECT_NE(util::RandomHex(16), util::RandomHex(16));
}

TEST(WorkerProtocolTest, TasksAreAcceptedOnlyWithTheTokenAtTheirPlace) {
  const std::vector<std::string> names = {"conv1", "fc"};
  const std::string m = TaskMessage(kToken, kNonce, 3, 7, Task());
  const EvalTask t = ParseTask(m, kToken, kNonce, 3, 7, names, "task");
  EXPECT_EQ(t.episode, 41);
  ASSERT_EQ(t.policy.layers.size(), 2u);
  EXPECT_EQ(t.policy.layers[1].name, "fc");
  EXPECT_EQ(t.policy.layers[1].w_bits, 3);
  EXPECT_EQ(t.policy.layers[1].a_bits, 5);
  const std::string refused = "task: the task message's MAC does not match: it was not made with this run's "
                              "token for this place in the run (a stale or forged message)";
  EXPECT_EQ(test::InputErrorOf([&] { ParseTask(m, kToken, kNonce, 3, 8, names, "task"); }), refused);
  EXPECT_EQ(test::InputErrorOf([&] { ParseTask(m, kToken, kNonce, 4, 7, names, "task"); }), refused);
  EXPECT_EQ(test::InputErrorOf([&] { ParseTask(m, kToken, "other", 3, 7, names, "task"); }), refused);
  EXPECT_EQ(test::InputErrorOf([&] { ParseTask(m, std::string(64, '8'), kNonce, 3, 7, names, "task"); }), refused);
  // A payload changed in transit (3 bits -> 2 bits).
  nlohmann::json j = nlohmann::json::parse(m);
  std::string payload = j["payload"];
  payload.replace(payload.find("[3,5]"), 5, "[2,5]");
  j["payload"] = payload;
  EXPECT_EQ(test::InputErrorOf([&] { ParseTask(j.dump(), kToken, kNonce, 3, 7, names, "task"); }), refused);
  // Well signed but for a model of another layer count.
  EXPECT_EQ(test::InputErrorOf([&] { ParseTask(m, kToken, kNonce, 3, 7, {"conv1"}, "task"); }),
            "task: bits: expected 1 [w, a] pairs (the model's layers), got [[8,0],[3,5]]");
  EXPECT_EQ(test::InputErrorOf([&] { ParseTask("{", kToken, kNonce, 3, 7, names, "task"); }).substr(0, 21),
            "task: malformed JSON:");
}

TEST(WorkerProtocolTest, ResultsAreAcceptedOnlyForTheirEpisodeAndToken) {
  EvalOutcome o;
  o.accuracy = 91.25;
  o.finetune_seconds = 1.5;
  const std::string m = ResultMessage(kToken, kNonce, 2, 0, 41, o);
  EXPECT_EQ(ParseResult(m, kToken, kNonce, 2, 0, 41, "result").accuracy, 91.25);
  EXPECT_EQ(test::InputErrorOf([&] { ParseResult(m, kToken, kNonce, 2, 0, 40, "result"); }),
            "result: episode: expected 41, got 42");
  EXPECT_NE(test::InputErrorOf([&] { ParseResult(m, kToken, kNonce, 2, 1, 41, "result"); }).find("MAC does not match"),
            std::string::npos);
  o.accuracy = 101;
  EXPECT_EQ(test::InputErrorOf([&] {
              ParseResult(ResultMessage(kToken, kNonce, 2, 0, 41, o), kToken, kNonce, 2, 0, 41, "result");
            }),
            "result: accuracy: expected 0..100, got 101");
}

TEST(WorkerProtocolTest, HellosAreRefusedForTokenVersionOrDigest) {
  Hello h;
  h.version = "0.1.0";
  h.digest = std::string(64, 'd');
  h.host = "node7";
  h.proof = HelloProof(kToken, kNonce, 5, h);
  const Hello back = HelloFromJson(HelloToJson(h).dump(), "hello");
  EXPECT_EQ(RefusalOf(back, kToken, kNonce, 5, "0.1.0", h.digest), "");
  EXPECT_EQ(RefusalOf(back, kToken, kNonce, 6, "0.1.0", h.digest),
            "it did not present this run's token (its --token-file is not the run's worker.token)");
  EXPECT_EQ(RefusalOf(back, kToken, kNonce, 5, "0.2.0", h.digest), "it runs haq 0.1.0, the coordinator haq 0.2.0");
  EXPECT_EQ(RefusalOf(back, kToken, kNonce, 5, "0.1.0", std::string(64, 'e')),
            "it holds another model, data set, split or calibration input (digest dddddddddddd, the run's "
            "eeeeeeeeeeee): check that the model file, data directory and --classes are the same there");
}

TEST(WorkerProtocolTest, AddressesAndTokenFiles) {
  EXPECT_EQ(ParseHostPort("10.0.0.1:29511", "--listen").port, 29511);
  EXPECT_EQ(ParseHostPort("[::1]:80", "--listen").host, "::1");
  for (const char* bad : {"10.0.0.1", ":80", "h:0", "h:65536", "h:8o"}) {
    EXPECT_EQ(test::InputErrorOf([&] { ParseHostPort(bad, "--listen"); }),
              std::string("--listen: expected HOST:PORT (PORT 1..65535; [ADDR]:PORT for IPv6), got '") + bad + "'");
  }
  test::TempDir dir;
  const std::string token = EnsureRunToken(dir.path());
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(EnsureRunToken(dir.path()), token);  // kept, not replaced
  struct stat st {};
  ASSERT_EQ(::stat((dir / "worker.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadTokenFile(dir / "worker.token"), token);
  const auto short_token = dir.Write("short", "abc\n");
  std::filesystem::permissions(short_token, std::filesystem::perms::owner_read);
  EXPECT_EQ(test::InputErrorOf([&] { ReadTokenFile(short_token); }),
            "--token-file: " + short_token.string() + ": expected a token of at least 32 hex digits, got 3 characters");
  EXPECT_EQ(test::InputErrorOf([&] { ReadTokenFile(dir / "none"); }),
            "--token-file: " + (dir / "none").string() +
                ": no such file (a run's token is its directory's worker.token)");
}

}  // namespace
}  // namespace haq::search
