// Coverage feedback for libFuzzer when haq is built with GCC (HAQ_FUZZ with g++).
//
// clang cannot compile LibTorch 1.13's headers in C++20 mode against libstdc++ 12
// (it instantiates std::vector<c10::IValue>'s constexpr members while IValue is
// incomplete), so the fuzz build uses GCC, whose -fsanitize-coverage offers
// trace-pc and trace-cmp but not libFuzzer's inline 8-bit counters. This file
// turns trace-pc callbacks into AFL-style edge counters (previous and current
// block addresses hashed into a table) and registers the table with libFuzzer's
// runtime (libclang_rt.fuzzer from clang, linked into the fuzz targets), which
// then treats it like clang's inline counters. trace-cmp callbacks go to libFuzzer
// directly (same ABI), except the floating-point comparisons GCC also emits, which
// libFuzzer does not implement and which are ignored here.
//
// Part of haq_core in GCC fuzz builds, so every executable linking the library has
// the callbacks; outside the fuzz targets the counters are simply never read.
// libFuzzer's own __sanitizer_cov_trace_pc (which only says trace-pc is
// unsupported) is weakened in the copy of its runtime the fuzz targets link.
#include <cstddef>
#include <cstdint>

namespace {
constexpr std::size_t kCounters = std::size_t{1} << 16;
alignas(64) uint8_t counters[kCounters];
thread_local uintptr_t previous = 0;
}  // namespace

#define HAQ_NO_INSTRUMENT \
  __attribute__((no_sanitize_coverage, no_sanitize_address, no_sanitize_undefined))

extern "C" {
__attribute__((weak)) void __sanitizer_cov_8bit_counters_init(uint8_t* start, uint8_t* stop);

HAQ_NO_INSTRUMENT __attribute__((constructor)) static void HaqRegisterCounters() {
  if (__sanitizer_cov_8bit_counters_init != nullptr) {
    __sanitizer_cov_8bit_counters_init(counters, counters + kCounters);
  }
}

HAQ_NO_INSTRUMENT void __sanitizer_cov_trace_pc() {
  const auto pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  const uintptr_t here = (pc ^ (pc >> 16)) & (kCounters - 1);
  uint8_t& c = counters[(here ^ previous) & (kCounters - 1)];
  c = static_cast<uint8_t>(c + 1);
  previous = here >> 1;
}

HAQ_NO_INSTRUMENT void __sanitizer_cov_trace_cmpf(float, float) {}
HAQ_NO_INSTRUMENT void __sanitizer_cov_trace_cmpd(double, double) {}
}
