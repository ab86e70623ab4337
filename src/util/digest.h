#pragma once
/// SHA-256 and HMAC-SHA-256 by OpenSSL's libcrypto (Debian's libssl-dev): the digest
/// a worker and its coordinator compare at join (search/workers.h) and the keyed
/// proofs that the worker holds the run's token, which never travels itself.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace haq::util {

/// An incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t bytes);
  void Update(std::string_view text) { Update(text.data(), text.size()); }
  /// The digest of everything given so far, as 64 lower-case hex digits.
  std::string Hex() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// SHA-256 of `text`, hex.
std::string Sha256Hex(std::string_view text);
/// HMAC-SHA-256 of `message` under `key`, hex.
std::string HmacSha256Hex(std::string_view key, std::string_view message);
/// True when two hex digests are equal, compared in time independent of where they
/// differ.
bool SameDigest(std::string_view a, std::string_view b);
/// `bytes` random bytes from the OS (OpenSSL's RAND_bytes), hex.
std::string RandomHex(size_t bytes);

}  // namespace haq::util
