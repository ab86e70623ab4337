// util::WriteFileAtomic under failure: a write that runs out of room (simulated
// with a file-size limit, which fails write() with EFBIG exactly where a full disk
// fails it with ENOSPC), a writer that throws, a directory in the way. Each time
// the old file must stay as it was and no temp file may be left.
#include "util/file.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <stdexcept>
#include <string>

#include "test_util.h"
#include "util/error.h"

namespace haq {
namespace {

namespace fs = std::filesystem;

// Lowers this process's file-size limit and ignores SIGXFSZ (as `haq` does) for
// its lifetime. Nothing may print inside the scope: a log file past the limit
// would lose the line, so the tests assert after the guard is gone.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{bytes, saved_.rlim_max};
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  sighandler_t previous_handler_ = SIG_DFL;
  bool ok_ = false;
};

TEST(AtomicWriteTest, OutOfRoomKeepsTheOldFileAndLeavesNoTemp) {
  test::TempDir dir;
  const fs::path target = dir.Write("table.csv", "old contents\n");
  const std::string big(100000, 'x');
  std::string string_error, stream_error, small_error;
  bool limited = false;
  {
    FileSizeLimit limit(64 << 10);
    limited = limit.ok();
    string_error = test::ErrorOf<util::IoError>([&] { util::WriteFileAtomic(target, big); });
    stream_error = test::ErrorOf<util::IoError>(
        [&] { util::WriteFileAtomic(target, [&](std::ostream& out) { out << big << big; }); });
    // Within the limit, writing still works while the limit is in force.
    small_error =
        test::ErrorOf<util::IoError>([&] { util::WriteFileAtomic(dir / "small.txt", "fits\n"); });
  }
  ASSERT_TRUE(limited);
  EXPECT_EQ(
      string_error,
      target.string() + ": cannot write: write failed after 65536 of 100000 bytes: File too large");
  EXPECT_EQ(
      stream_error,
      target.string() + ": cannot write: write failed after 65536 of 200000 bytes: File too large");
  EXPECT_EQ(small_error, "(no error)");
  EXPECT_EQ(util::ReadFile(target), "old contents\n");
  EXPECT_EQ(util::ReadFile(dir / "small.txt"), "fits\n");
  EXPECT_EQ(test::ListDir(dir.path()), "small.txt\ntable.csv\n");
}

TEST(AtomicWriteTest, AWriterThatThrowsLeavesNothing) {
  test::TempDir dir;
  const fs::path target = dir.Write("log.jsonl", "{\"episode\": 0}\n");
  const std::string before = test::ListDir(dir.path());
  EXPECT_THROW(util::WriteFileAtomic(target,
                                     [](std::ostream& out) {
                                       out << "{\"episode\": 1";
                                       throw std::runtime_error("policy has no layers");
                                     }),
               std::runtime_error);
  EXPECT_EQ(util::ReadFile(target), "{\"episode\": 0}\n");
  EXPECT_EQ(test::ListDir(dir.path()), before);
}

TEST(AtomicWriteTest, ADirectoryInTheWayIsNamedAndLeavesNoTemp) {
  test::TempDir dir;
  fs::create_directory(dir / "out.onnx");
  const std::string before = test::ListDir(dir.path());
  EXPECT_EQ(test::ErrorOf<util::IoError>([&] { util::WriteFileAtomic(dir / "out.onnx", "bytes"); }),
            (dir / "out.onnx").string() + ": cannot write: rename: Is a directory");
  EXPECT_EQ(test::ErrorOf<util::IoError>([&] { util::CheckWritableDestination(dir / "out.onnx"); }),
            (dir / "out.onnx").string() + ": cannot write: is a directory");
  EXPECT_EQ(test::ListDir(dir.path()), before);
}

// A full file system is reported before work starts. The threshold is raised above
// what this file system really has (statvfs via std::filesystem::space), since the
// test cannot fill the disk.
TEST(AtomicWriteTest, TooLittleFreeSpaceIsReportedBeforeWork) {
  test::TempDir dir;
  const std::uintmax_t available = fs::space(dir.path()).available;
  const std::uintmax_t needed = available + (std::uintmax_t{1} << 30);
  const auto mib = [](std::uintmax_t b) { return static_cast<double>(b) / (1 << 20); };
  for (const fs::path& target : {dir / "best_model.pt", dir / "new/run/.haq-probe"}) {
    SCOPED_TRACE(target.string());
    const std::string error = test::ErrorOf<util::IoError>([&] {
      if (target.filename() == ".haq-probe") {
        util::CheckCreatableDirectory(target.parent_path(), needed);
      } else {
        util::CheckWritableDestination(target, needed);
      }
    });
    // The creatable-directory check probes the nearest existing ancestor.
    const fs::path named = target.filename() == ".haq-probe" ? dir / ".haq-probe" : target;
    const std::string prefix = named.string() + ": cannot write: only ";
    const std::string suffix = fmt::format(
        " MiB free on its file system, at least {:.1f} MiB needed", mib(needed));
    ASSERT_TRUE(error.starts_with(prefix) && error.ends_with(suffix)) << error;
    const double reported =
        std::stod(error.substr(prefix.size(), error.size() - prefix.size() - suffix.size()));
    EXPECT_NEAR(reported, mib(available), 64.0);  // other processes write meanwhile
  }
  // The default threshold (64 MiB) holds on any machine fit to run the tests.
  EXPECT_NO_THROW(util::CheckWritableDestination(dir / "best_model.pt"));
  EXPECT_EQ(test::ListDir(dir.path()), "");
}

TEST(AtomicWriteTest, ReplacesTheFileWithOrdinaryPermissions) {
  test::TempDir dir;
  const fs::path target = dir.Write("summary.json", "{}\n");
  const mode_t old_mask = ::umask(022);
  util::WriteFileAtomic(target, "{\"rows\": []}\n");
  ::umask(old_mask);
  EXPECT_EQ(util::ReadFile(target), "{\"rows\": []}\n");
  EXPECT_EQ(fs::status(target).permissions(), fs::perms::owner_read | fs::perms::owner_write |
                                                  fs::perms::group_read | fs::perms::others_read);
  EXPECT_EQ(test::ListDir(dir.path()), "summary.json\n");
}

}  // namespace
}  // namespace haq
