#include "search/worker_protocol.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "util/digest.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::search {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kTokenFile = "worker.token";

bool IsHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// The MAC of a message of `kind` at (nonce, rank, seq) with `payload`.
std::string Mac(const std::string& token, const std::string& kind, const std::string& nonce,
                int64_t rank, int64_t seq, const std::string& payload) {
  return util::HmacSha256Hex(token, fmt::format("{}\n{}\n{}\n{}\n{}", kind, nonce, rank, seq, payload));
}

std::string Signed(const std::string& token, const std::string& kind, const std::string& nonce,
                   int64_t rank, int64_t seq, const json& payload) {
  const std::string text = payload.dump();
  return json{{"payload", text}, {"mac", Mac(token, kind, nonce, rank, seq, text)}}.dump();
}

// The payload of a signed message, once its MAC is checked.
json Verified(const std::string& text, const std::string& token, const std::string& kind,
              const std::string& nonce, int64_t rank, int64_t seq, const std::string& where) {
  const json j = util::ParseJson(text, where);
  const std::string payload = util::JsonField<std::string>(j, "payload", where);
  const std::string mac = util::JsonField<std::string>(j, "mac", where);
  if (!util::SameDigest(mac, Mac(token, kind, nonce, rank, seq, payload))) {
    throw util::InputError(fmt::format(
        "{}: the {} message's MAC does not match: it was not made with this run's token for "
        "this place in the run (a stale or forged message)",
        where, kind));
  }
  return util::ParseJson(payload, where + ": payload");
}

}  // namespace

HostPort ParseHostPort(const std::string& text, const std::string& flag) {
  const size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = colon == std::string::npos ? std::string() : text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || err != std::errc() || end != port.data() + port.size() ||
      value < 1 || value > 65535) {
    throw util::InputError(fmt::format(
        "{}: expected HOST:PORT (PORT 1..65535; [ADDR]:PORT for IPv6), got '{}'", flag, text));
  }
  return {host, static_cast<uint16_t>(value)};
}

std::string EnsureRunToken(const fs::path& run_dir) {
  const fs::path path = run_dir / kTokenFile;
  if (fs::exists(path)) return ReadTokenFile(path);
  const std::string token = util::RandomHex(32);
  // Owner-only from the start, then renamed into place: never readable by others, never half-written.
  const fs::path tmp = run_dir / fmt::format(".{}.tmp.{}", kTokenFile, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string text = token + "\n";
  const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  std::error_code ec;
  if (!ok || (fs::rename(tmp, path, ec), ec)) {
    fs::remove(tmp, ec);
    throw util::IoError(fmt::format("{}: cannot write the run's worker token", path.string()));
  }
  return token;
}

std::string ReadTokenFile(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw util::InputError(fmt::format("--token-file: {}: no such file (a run's token is its "
                                       "directory's worker.token)", path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    throw util::InputError(fmt::format(
        "--token-file: {}: readable by others (mode {:04o}); expected owner-only: chmod 600 {}",
        path.string(), st.st_mode & 0777, path.string()));
  }
  std::string token = util::ReadFile(path, 4096);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.size() < 32 || !IsHex(token)) {
    throw util::InputError(fmt::format(
        "--token-file: {}: expected a token of at least 32 hex digits, got {} characters{}",
        path.string(), token.size(), IsHex(token) ? "" : " (not all hex digits)"));
  }
  return token;
}

std::string HelloProof(const std::string& token, const std::string& nonce, int64_t rank,
                       const Hello& h) {
  return Mac(token, "hello", nonce, rank, 0, h.version + "\n" + h.digest);
}

json HelloToJson(const Hello& h) {
  return {{"version", h.version}, {"digest", h.digest}, {"host", h.host},
          {"pid", h.pid},         {"threads", h.threads}, {"proof", h.proof}};
}

Hello HelloFromJson(const std::string& text, const std::string& where) {
  const json j = util::ParseJson(text, where);
  Hello h;
  h.version = util::JsonField<std::string>(j, "version", where);
  h.digest = util::JsonField<std::string>(j, "digest", where);
  h.host = util::JsonField<std::string>(j, "host", where);
  h.pid = util::JsonField<int64_t>(j, "pid", where);
  h.threads = util::JsonField<int64_t>(j, "threads", where);
  h.proof = util::JsonField<std::string>(j, "proof", where);
  return h;
}

std::string RefusalOf(const Hello& h, const std::string& token, const std::string& nonce,
                      int64_t rank, const std::string& version, const std::string& digest) {
  if (!util::SameDigest(h.proof, HelloProof(token, nonce, rank, h))) {
    return "it did not present this run's token (its --token-file is not the run's worker.token)";
  }
  if (h.version != version) {
    return fmt::format("it runs haq {}, the coordinator haq {}", h.version, version);
  }
  if (h.digest != digest) {
    return fmt::format(
        "it holds another model, data set, split or calibration input (digest {}, the run's {}): "
        "check that the model file, data directory and --classes are the same there",
        h.digest.substr(0, 12), digest.substr(0, 12));
  }
  return "";
}

std::string TaskMessage(const std::string& token, const std::string& nonce, int64_t rank,
                        int64_t seq, const EvalTask& task) {
  json bits = json::array();
  for (const hw::LayerBits& l : task.policy.layers) bits.push_back({l.w_bits, l.a_bits});
  return Signed(token, "task", nonce, rank, seq, {{"episode", task.episode}, {"bits", bits}});
}

EvalTask ParseTask(const std::string& text, const std::string& token, const std::string& nonce,
                   int64_t rank, int64_t seq, const std::vector<std::string>& layer_names,
                   const std::string& where) {
  const json p = Verified(text, token, "task", nonce, rank, seq, where);
  EvalTask t;
  t.episode = util::JsonField<int64_t>(p, "episode", where);
  const json& bits = util::JsonMember(p, "bits", where);
  if (!bits.is_array() || bits.size() != layer_names.size()) {
    throw util::InputError(fmt::format("{}: bits: expected {} [w, a] pairs (the model's layers), got {}",
                                       where, layer_names.size(), bits.dump().substr(0, 80)));
  }
  for (size_t i = 0; i < bits.size(); ++i) {
    const json& b = bits[i];
    const bool ok = b.is_array() && b.size() == 2 && b[0].is_number_integer() &&
                    b[1].is_number_integer() && b[0].get<int64_t>() >= 1 && b[0].get<int64_t>() <= 8 &&
                    b[1].get<int64_t>() >= 0 && b[1].get<int64_t>() <= 8;
    if (!ok) {
      throw util::InputError(fmt::format("{}: bits[{}]: expected [w 1..8, a 0..8], got {}", where, i, b.dump()));
    }
    t.policy.layers.push_back({layer_names[i], b[0].get<int>(), b[1].get<int>()});
  }
  t.policy.source = where;
  return t;
}

std::string ResultMessage(const std::string& token, const std::string& nonce, int64_t rank,
                          int64_t seq, int64_t episode, const EvalOutcome& o) {
  json p = {{"episode", episode},
            {"accuracy", o.accuracy},
            {"finetune_seconds", o.finetune_seconds},
            {"eval_seconds", o.eval_seconds}};
  if (o.machine) p["machine"] = o.machine->ToJson();
  return Signed(token, "result", nonce, rank, seq, p);
}

EvalOutcome ParseResult(const std::string& text, const std::string& token, const std::string& nonce,
                        int64_t rank, int64_t seq, int64_t episode, const std::string& where) {
  const json p = Verified(text, token, "result", nonce, rank, seq, where);
  const int64_t got = util::JsonField<int64_t>(p, "episode", where);
  if (got != episode) {
    throw util::InputError(fmt::format("{}: episode: expected {}, got {}", where, episode + 1, got + 1));
  }
  EvalOutcome o;
  o.accuracy = util::JsonField<double>(p, "accuracy", where);
  if (!(o.accuracy >= 0.0 && o.accuracy <= 100.0)) {
    throw util::InputError(fmt::format("{}: accuracy: expected 0..100, got {}", where, o.accuracy));
  }
  o.finetune_seconds = util::JsonField<double>(p, "finetune_seconds", where);
  o.eval_seconds = util::JsonField<double>(p, "eval_seconds", where);
  if (p.contains("machine")) o.machine = MachineInfo::FromJson(p["machine"], where + ": machine");
  return o;
}

}  // namespace haq::search
