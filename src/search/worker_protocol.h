#pragma once
/// The messages between a search's coordinator and its workers (workers.h), without
/// LibTorch or a transport: the run's token file, the join handshake, and the task
/// and result messages, each carrying an HMAC-SHA-256 under the run's token over its
/// payload and its place in the run (the coordinator's nonce, the worker's rank and
/// the message's sequence number), so a message from anyone without the token, or a
/// message replayed from another place, is refused. The token itself never travels.
/// The transport (c10d's store) is not encrypted: the network must be trusted.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "search/search.h"

namespace haq::search {

/// "HOST:PORT" or "[IPV6]:PORT", PORT in 1..65535; util::InputError naming `flag`.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
HostPort ParseHostPort(const std::string& text, const std::string& flag);

/// The run directory's token file ("worker.token"): 64 random hex digits, owner-only
/// (0600). Made (atomically) if absent; returns the token.
std::string EnsureRunToken(const std::filesystem::path& run_dir);
/// Reads a token file (`haq worker --token-file`): util::InputError naming it if it is
/// missing, not a token (at least 32 hex digits), or readable by group or others.
std::string ReadTokenFile(const std::filesystem::path& path);

/// What a worker tells the coordinator when it joins.
struct Hello {
  std::string version;  ///< haq's version (HAQ_VERSION)
  std::string digest;   ///< RunWiring::Digest of what it built from the run's settings
  std::string host;
  int64_t pid = 0;
  int64_t threads = 0;
  std::string proof;  ///< HelloProof
};
std::string HelloProof(const std::string& token, const std::string& nonce, int64_t rank,
                       const Hello& hello);
nlohmann::json HelloToJson(const Hello& h);
/// util::InputError naming `where` and the field.
Hello HelloFromJson(const std::string& text, const std::string& where);
/// Why the coordinator refuses `hello` from worker `rank` ("" : accepted).
std::string RefusalOf(const Hello& hello, const std::string& token, const std::string& nonce,
                      int64_t rank, const std::string& version, const std::string& digest);

/// A task (`seq`-th for worker `rank`): the episode and the policy's bits.
std::string TaskMessage(const std::string& token, const std::string& nonce, int64_t rank,
                        int64_t seq, const EvalTask& task);
/// The task in `text`, its policy named after `layer_names`; util::InputError naming
/// `where` for a bad MAC, a malformed message or a policy of another layer count.
EvalTask ParseTask(const std::string& text, const std::string& token, const std::string& nonce,
                   int64_t rank, int64_t seq, const std::vector<std::string>& layer_names,
                   const std::string& where);
/// The outcome of task `seq` of worker `rank` (episode `episode`), and the worker's
/// machine record.
std::string ResultMessage(const std::string& token, const std::string& nonce, int64_t rank,
                          int64_t seq, int64_t episode, const EvalOutcome& outcome);
/// util::InputError naming `where` for a bad MAC, a malformed message or another episode.
EvalOutcome ParseResult(const std::string& text, const std::string& token, const std::string& nonce,
                        int64_t rank, int64_t seq, int64_t episode, const std::string& where);

}  // namespace haq::search
