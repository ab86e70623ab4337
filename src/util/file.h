#pragma once
/// File helpers: whole-file reads with clear errors, and atomic writes (a temp file
/// in the same directory, flushed, then renamed over the target), so a reader never
/// sees a half-written file and an interrupted write leaves the old version intact.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>

namespace haq::util {

/// Reads a whole file. Throws IoError naming the path and the OS reason.
/// Refuses files larger than `max_bytes` (a guard against absurd inputs).
std::string ReadFile(const std::filesystem::path& path,
                     std::uintmax_t max_bytes = std::uintmax_t{1} << 32);

/// Free space every output location must have before work starts: room for the
/// largest file haq writes for the shipped models (a DDPG agent save, about 4 MB)
/// several times over, so a full disk is reported up front, not after a long run.
inline constexpr std::uintmax_t kMinFreeBytes = std::uintmax_t{64} << 20;

/// Checks, before any long work, that a file can later be written at `path`: its
/// directory exists and accepts a new file (a temp file is created and removed),
/// `path` is not a directory, and the file system has `min_free_bytes` available.
/// Throws IoError naming the path and the reason.
void CheckWritableDestination(const std::filesystem::path& path,
                              std::uintmax_t min_free_bytes = kMinFreeBytes);

/// Checks, before any long work, that directory `dir` can be created (or, if it
/// exists, written): its nearest existing ancestor accepts a new file and has
/// `min_free_bytes` available. Otherwise IoError naming `dir` and, when `dir` does
/// not exist yet, that ancestor: "runs/a: cannot create it in runs: Permission denied".
void CheckCreatableDirectory(const std::filesystem::path& dir,
                             std::uintmax_t min_free_bytes = kMinFreeBytes);

/// Writes `contents` to `path` atomically. Throws IoError on failure, leaving any
/// previous file at `path` untouched and no temp file behind.
void WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);

/// Streams into `path` atomically: `write` fills the stream; the file appears at
/// `path` only if `write` returns normally and every byte reached the disk.
void WriteFileAtomic(const std::filesystem::path& path,
                     const std::function<void(std::ostream&)>& write);

/// A file written in place of `path` atomically, for writers that need a file
/// descriptor (large files filled through mmap or pwrite): the constructor creates
/// the temp file beside `path`; Commit() gives it ordinary permissions, flushes it
/// to disk and renames it over `path`. Destroyed without Commit(), it removes the
/// temp file, leaving any previous file at `path` untouched. Throws IoError naming
/// `path` and the OS reason.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }
  /// Throws IoError "PATH: cannot write: WHAT: REASON" (errno `err`) after removing the temp file.
  [[noreturn]] void Fail(int err, const std::string& what);
  void Commit();

 private:
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
};

/// True for the name of a temp file WriteFileAtomic makes (".NAME.tmp.XXXXXX").
bool IsAtomicWriteTemp(const std::string& filename);

/// Removes, in `dir` (not recursively), the temp files of atomic writes that a kill
/// interrupted; returns how many. Never touches other files.
int RemoveStaleTemps(const std::filesystem::path& dir);

}  // namespace haq::util
