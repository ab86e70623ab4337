#pragma once
// How many intra-op threads a haq process uses.

namespace haq::util {

/// The thread count `value` (the text of OMP_NUM_THREADS, or nullptr when it is
/// not set) asks for, or `fallback` when it is not set or empty. Anything but a
/// positive integer up to 4096 is an InputError naming the variable.
int ThreadsFromEnvironment(const char* value, int fallback);

}  // namespace haq::util
