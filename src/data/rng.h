#pragma once
/// Portable, reproducible randomness for data handling. Everything here is built on
/// std::mt19937_64 (whose output the C++ standard fixes) and on our own integer
/// arithmetic, never on the standard library's distributions (whose output differs
/// between implementations), so a seed gives the same numbers on every platform,
/// compiler and thread count.
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace haq::data {

/// A uniform integer in [0, bound), unbiased (rejection of the 2^64 mod bound
/// lowest outputs). `bound` must be at least 1.
inline uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    const uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

/// A uniform double in [0, 1): the top 53 bits of one draw.
inline double Uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }

/// Fisher–Yates shuffle of `values` in place, drawing from `rng`: for i from the
/// last position down to 1, swap values[i] with values[UniformBelow(i + 1)].
template <typename T>
void Shuffle(std::vector<T>& values, std::mt19937_64& rng) {
  for (size_t i = values.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(UniformBelow(rng, i));
    std::swap(values[i - 1], values[j]);
  }
}

/// The SplitMix64 finaliser: a bijective 64-bit mix.
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Combines several values (a seed, an epoch, a batch number, a stream tag) into one
/// 64-bit seed; order matters, and nearby inputs give unrelated outputs.
inline uint64_t MixSeed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x6a09e667f3bcc908ULL;
  for (const uint64_t p : parts) h = SplitMix64(h ^ SplitMix64(p));
  return h;
}

}  // namespace haq::data
