// util::WriteFileAtomic under failure: a write that runs out of room (simulated
// with a file-size limit, which fails write() with EFBIG exactly where a full disk
// fails it with ENOSPC), a writer that throws, a directory in the way, a directory
// without write permission, too little free space. Each time the old file must stay
// as it was and no temp file may be left.
#include "util/file.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
  // A file, and a directory that does not exist yet: named with the existing
  // directory it would be created in.
  const std::vector<std::pair<std::string, std::function<void()>>> checks = {
      {(dir / "best_model.pt").string() + ": cannot write",
       [&] { util::CheckWritableDestination(dir / "best_model.pt", needed); }},
      {(dir / "new/run").string() + ": cannot create it in " + dir.path().string(),
       [&] { util::CheckCreatableDirectory(dir / "new/run", needed); }},
  };
  for (const auto& [what, check] : checks) {
    SCOPED_TRACE(what);
    const std::string error = test::ErrorOf<util::IoError>(check);
    const std::string prefix = what + ": only ";
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

// Root ignores permission bits, and the tests usually run as root. Linux checks
// file access against the file-system uid, which it keeps per thread, and a thread
// that sets it from 0 to `nobody` also loses root's override (CAP_DAC_OVERRIDE) for
// its own calls. So the checks run on such a thread and meet the permissions an
// ordinary user meets; a non-root tester meets them anyway (the directory is 0555).
TEST(AtomicWriteTest, AnUnwritableDirectoryIsReportedBeforeWork) {
  test::TempDir dir;
  const fs::perms read_and_enter = fs::perms::owner_read | fs::perms::owner_exec |
                                   fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir.path(), read_and_enter | fs::perms::owner_write);
  fs::create_directory(dir / "locked");
  fs::permissions(dir / "locked", read_and_enter);
  fs::create_directory(dir / "open");
  fs::permissions(dir / "open", fs::perms::all);
  const fs::path policy = dir / "locked/policy.json";
  int fsuid = -1;
  std::string write_error, file_error, existing_dir_error, new_dir_error, relative_error,
      open_error;
  std::thread([&] {
    if (::geteuid() == 0) {
      ::setfsgid(65534);
      ::setfsuid(65534);
    }
    fsuid = ::setfsuid(static_cast<uid_t>(-1));  // an invalid uid only reports the current one
    write_error = test::ErrorOf<util::IoError>([&] { util::WriteFileAtomic(policy, "{}"); });
    file_error = test::ErrorOf<util::IoError>([&] { util::CheckWritableDestination(policy); });
    existing_dir_error =
        test::ErrorOf<util::IoError>([&] { util::CheckCreatableDirectory(dir / "locked"); });
    new_dir_error =
        test::ErrorOf<util::IoError>([&] { util::CheckCreatableDirectory(dir / "locked/run/1"); });
    // A relative directory to create in the working directory, which this thread
    // alone moves into the locked directory (CLONE_FS unshares cwd with the process).
    if (::unshare(CLONE_FS) == 0 && ::chdir((dir / "locked").c_str()) == 0) {
      relative_error =
          test::ErrorOf<util::IoError>([&] { util::CheckCreatableDirectory("run"); });
    }
    // The same thread may write where the permissions allow it.
    open_error = test::ErrorOf<util::IoError>([&] {
      util::CheckWritableDestination(dir / "open/policy.json");
      util::CheckCreatableDirectory(dir / "open/run");
    });
  }).join();
  EXPECT_NE(fsuid, 0) << "the checks ran with root's permissions";
  EXPECT_EQ(write_error, policy.string() + ": cannot write: Permission denied");
  EXPECT_EQ(file_error, policy.string() + ": cannot write: Permission denied");
  EXPECT_EQ(existing_dir_error, (dir / "locked").string() + ": cannot write: Permission denied");
  EXPECT_EQ(new_dir_error, (dir / "locked/run/1").string() + ": cannot create it in " +
                               (dir / "locked").string() + ": Permission denied");
  EXPECT_EQ(relative_error, "run: cannot create it in the current directory: Permission denied");
  EXPECT_EQ(open_error, "(no error)");
  EXPECT_EQ(test::ListDir(dir / "locked"), "");
  EXPECT_EQ(test::ListDir(dir / "open"), "");
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
