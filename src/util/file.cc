#include "util/file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include "util/error.h"

namespace haq::util {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw IoError(path.string() + ": cannot read: is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string() + ": cannot read: " + std::strerror(errno));
  }
  // Only regular files have a size to check before reading: a device or a pipe
  // (/dev/zero) could feed bytes until memory runs out.
  if (!fs::is_regular_file(path, ec)) {
    throw InputError(path.string() + ": expected a regular file, got a device, pipe or socket");
  }
  const auto size = fs::file_size(path, ec);
  if (!ec && size > max_bytes) {
    throw InputError(path.string() + ": file is " + std::to_string(size) +
                     " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  std::ostringstream out;
  out << in.rdbuf();  // (sets failbit on `out` for an empty file: not an error)
  std::string text = std::move(out).str();
  if (in.bad() || (!ec && text.size() != size)) {
    throw IoError(fmt::format("{}: read failed after {} of {} bytes: {}", path.string(),
                              text.size(), size, std::strerror(errno)));
  }
  return text;
}

namespace {
// A fresh ".STEM.tmp.XXXXXX" in directory `dir`, created and open for writing;
// returns its path and descriptor. Throws IoError "<what>: <OS reason>".
std::pair<fs::path, int> MakeTempIn(const fs::path& dir, const std::string& stem,
                                    const std::string& what) {
  // Built with append: GCC 12 warns falsely on operator+ chains here.
  std::string name(".");
  name.append(stem).append(".tmp.XXXXXX");
  std::string tmpl = (dir / name).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw IoError(what + ": " + std::strerror(errno));
  return {fs::path(tmpl), fd};
}

fs::path DirectoryOf(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

std::pair<fs::path, int> MakeTempBeside(const fs::path& path) {
  return MakeTempIn(DirectoryOf(path), path.filename().string(), path.string() + ": cannot write");
}

// Throws IoError "<what>: <reason>" unless directory `dir` accepts a new file (one
// is created and removed) and its file system has `min_free_bytes` available.
void CheckAcceptsNewFile(const fs::path& dir, const std::string& what,
                         std::uintmax_t min_free_bytes) {
  const auto created = MakeTempIn(dir, "haq-probe", what);
  ::close(created.second);
  ::unlink(created.first.c_str());
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  if (!ec && space.available < min_free_bytes) {
    auto mib = [](std::uintmax_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
    throw IoError(fmt::format("{}: only {:.1f} MiB free on its file system, at least {:.1f} "
                              "MiB needed",
                              what, mib(space.available), mib(min_free_bytes)));
  }
}
}  // namespace

void CheckWritableDestination(const fs::path& path, std::uintmax_t min_free_bytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw IoError(path.string() + ": cannot write: is a directory");
  }
  CheckAcceptsNewFile(DirectoryOf(path), path.string() + ": cannot write", min_free_bytes);
}

AtomicFile::AtomicFile(fs::path path) : path_(std::move(path)) {
  std::tie(tmp_, fd_) = MakeTempBeside(path_);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::Fail(int err, const std::string& what) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  tmp_.clear();
  throw IoError(fmt::format("{}: cannot write: {}{}", path_.string(), what, std::strerror(err)));
}

void AtomicFile::Commit() {
  // mkstemp creates 0600; give the file ordinary permissions (umask applies).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd_, 0666 & ~mask) != 0) Fail(errno, "chmod: ");
  // The data reaches the disk before the rename makes it visible.
  if (::fsync(fd_) != 0) Fail(errno, "fsync: ");
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) Fail(errno, "close: ");
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) Fail(errno, "rename: ");
  tmp_.clear();
}

void WriteFileAtomic(const fs::path& path, std::string_view contents) {
  // Every failure names the OS reason (ENOSPC: "No space left on device"), removes
  // the temp file and leaves the old file at `path` as it was.
  AtomicFile file(path);
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(file.fd(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      file.Fail(n == 0 ? EIO : errno, fmt::format("write failed after {} of {} bytes: ", done, contents.size()));
    }
    done += static_cast<size_t>(n);
  }
  file.Commit();
}

void WriteFileAtomic(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  // Formatted in memory first (these files are at most a few MB), so that an
  // exception from `write` leaves nothing on disk and the OS write reports its errno.
  std::ostringstream buffer(std::ios::binary);
  write(buffer);
  if (!buffer) throw IoError(path.string() + ": cannot write: the contents could not be formatted");
  WriteFileAtomic(path, buffer.view());
}

void CheckCreatableDirectory(const fs::path& dir, std::uintmax_t min_free_bytes) {
  fs::path existing = dir;
  while (!existing.empty() && !fs::exists(existing) && existing.has_parent_path() &&
         existing != existing.parent_path()) {
    existing = existing.parent_path();
  }
  if (existing.empty() || !fs::exists(existing)) existing = ".";
  // Errors name the directory asked for and, if it does not exist yet, the one it
  // would be created in.
  std::string what = dir.string() + ": cannot ";
  if (existing == dir) {
    what += "write";
  } else {
    what += "create it in " + (existing == "." ? std::string("the current directory")
                                                : existing.string());
  }
  CheckAcceptsNewFile(existing, what, min_free_bytes);
}

bool IsAtomicWriteTemp(const std::string& filename) {
  constexpr std::string_view kMarker = ".tmp.";
  const size_t pos = filename.rfind(kMarker);
  return filename.size() > 1 && filename[0] == '.' && pos != std::string::npos && pos > 1 &&
         filename.size() == pos + kMarker.size() + 6;  // mkstemp's XXXXXX
}

int RemoveStaleTemps(const fs::path& dir) {
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && IsAtomicWriteTemp(entry.path().filename().string()) &&
        fs::remove(entry.path(), ec)) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace haq::util
