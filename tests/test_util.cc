#include "test_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/file.h"

namespace haq::test {

namespace fs = std::filesystem;

fs::path DataPath(const std::string& name) { return fs::path(HAQ_TEST_DATA_DIR) / name; }

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "haq_test_XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path TempDir::Write(const std::string& name, const std::string& text) const {
  const fs::path p = path_ / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

namespace {
std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

RunResult RunHaq(const std::string& args, const fs::path& cwd) {
  TempDir io;
  const fs::path out = io / "stdout", err = io / "stderr";
  std::string cmd;
  if (!cwd.empty()) cmd += "cd '" + cwd.string() + "' && ";
  cmd += std::string("'") + HAQ_BINARY + "' " + args + " >'" + out.string() + "' 2>'" +
         err.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

pid_t SpawnHaq(const std::vector<std::string>& args, const fs::path& cwd, const std::string& log_name,
               unsigned long file_size_limit) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    const rlimit limit{file_size_limit, file_size_limit};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(125);
    const std::string log = (cwd / log_name).string();
    if (::freopen(log.c_str(), "a", stdout) == nullptr || ::freopen(log.c_str(), "a", stderr) == nullptr) {
      ::_exit(124);
    }
    std::vector<char*> argv;
    std::string bin = HAQ_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(HAQ_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::string s;
  for (const auto& n : names) s += n + "\n";
  return s;
}

std::string SearchRunOutcome(const std::filesystem::path& dir) {
  std::string out;
  std::istringstream in(util::ReadFile(dir / "log.jsonl"));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    for (const char* key : {"seconds", "timing", "machine"}) j.erase(key);
    out += j.dump() + "\n";
  }
  auto summary = nlohmann::json::parse(util::ReadFile(dir / "summary.json"));
  summary.erase("search_seconds");
  return out + summary.dump(1);
}

}  // namespace haq::test
