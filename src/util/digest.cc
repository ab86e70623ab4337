#include "util/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "util/error.h"

namespace haq::util {

namespace {

std::string ToHex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

void Check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

}  // namespace

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr) throw std::bad_alloc();
  Check(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr), "EVP_DigestInit_ex");
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(const void* data, size_t bytes) {
  Check(EVP_DigestUpdate(impl_->ctx, data, bytes), "EVP_DigestUpdate");
}

std::string Sha256::Hex() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  if (copy == nullptr) throw std::bad_alloc();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const int ok = EVP_MD_CTX_copy_ex(copy, impl_->ctx) == 1 && EVP_DigestFinal_ex(copy, out, &n) == 1;
  EVP_MD_CTX_free(copy);
  Check(ok ? 1 : 0, "EVP_DigestFinal_ex");
  return ToHex(out, n);
}

std::string Sha256Hex(std::string_view text) {
  Sha256 h;
  h.Update(text);
  return h.Hex();
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &n) == nullptr) {
    throw std::runtime_error("OpenSSL: HMAC failed");
  }
  return ToHex(out, n);
}

bool SameDigest(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw IoError("cannot draw random bytes from the OS (OpenSSL RAND_bytes)");
  }
  return ToHex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

}  // namespace haq::util
