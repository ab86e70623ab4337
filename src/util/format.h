#pragma once
/// Number formatting for tables shown to people.
#include <cstdint>
#include <string>

namespace haq::util {

/// 39624933 -> "39,624,933" (independent of the process locale).
std::string GroupDigits(int64_t value);

}  // namespace haq::util
