#pragma once
/// Errors raised by the haq library. The library never prints or exits: it throws
/// one of these, and only cli/ turns them into messages and exit codes.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace haq::util {

/// An error about user input (file, flag, spec, model, dataset, policy). The message
/// is complete and names the place: `file:line: key.path: expected X, got Y`.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

/// An error from the operating system (unreadable file, failed write).
class IoError : public std::runtime_error {
 public:
  explicit IoError(const std::string& message) : std::runtime_error(message) {}
};

/// The candidate in `known` closest to `word` by edit distance, if it is close
/// enough to be a plausible typo; empty otherwise.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& known);

/// " (did you mean 'x'?)" when a close candidate exists, otherwise "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& known);

/// "a, b, c" — for listing what is accepted.
std::string JoinNames(const std::vector<std::string>& names, std::string_view sep = ", ");

}  // namespace haq::util
