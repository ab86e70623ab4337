#pragma once
// Helpers shared by the tests: paths, temporary directories, running the haq binary.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "util/error.h"

namespace haq::test {

/// tests/data/<name>
std::filesystem::path DataPath(const std::string& name);

/// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  /// Writes `text` to a file in the directory and returns its path.
  std::filesystem::path Write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs the haq executable with `args` (a shell-quoted string) in `cwd`.
RunResult RunHaq(const std::string& args, const std::filesystem::path& cwd = {});

/// Starts the haq executable with `args` in `cwd`, stdout and stderr appended to
/// `cwd`/`log_name`, files limited to `file_size_limit` bytes (RLIMIT_FSIZE; SIGXFSZ
/// keeps its default action, so haq itself must ignore it); returns its pid.
pid_t SpawnHaq(const std::vector<std::string>& args, const std::filesystem::path& cwd,
               const std::string& log_name = "haq.log", unsigned long file_size_limit = ~0UL);
/// `text` split at white space.
std::vector<std::string> SplitWords(const std::string& text);

/// Files (relative names) in `dir`, sorted; for "nothing half-written" checks.
std::string ListDir(const std::filesystem::path& dir);

/// What a finished search run in `dir` came to, as text to compare: each line of
/// log.jsonl without its timing and machine, then summary.json without the search's
/// seconds. Equal for a resumed and an uninterrupted run on one machine.
std::string SearchRunOutcome(const std::filesystem::path& dir);

/// The message of the `Error` that `f` throws, or "(no error)" (any other exception
/// propagates and fails the test).
template <class Error>
std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

inline std::string InputErrorOf(const std::function<void()>& f) {
  return ErrorOf<util::InputError>(f);
}

}  // namespace haq::test
