#include "util/threads.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "util/error.h"

namespace haq::util {

int ThreadsFromEnvironment(const char* value, int fallback) {
  if (value == nullptr || *value == '\0') return fallback;
  const std::string_view text(value);
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 4096) {
    throw InputError(
        fmt::format("OMP_NUM_THREADS: expected a thread count in 1..4096, got '{}'", text));
  }
  return n;
}

}  // namespace haq::util
