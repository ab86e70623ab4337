// A main() for the fuzz targets in the default (non-fuzz) build: the test suite's
// short smoke of each target, without libFuzzer or sanitizers.
//
//   <name>_replay [--mutations N] [--seed S] [--max-len L] PATH...
//
// Every file under each PATH (a file or a directory, recursively, in sorted order)
// is fed to LLVMFuzzerTestOneInput once; then N inputs are made from them by seeded
// random mutations (byte flips, interesting values, insertions, deletions,
// duplicated spans, splices of two inputs, truncation), each fed once. A target
// aborts on anything but the expected InputError/IoError (fuzz_util.h), so any
// crash fails the test; the input being run is then named on stderr and kept in
// ./replay-crash-input (the test's build directory). Deterministic: same seed,
// same inputs.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

std::string g_current = "(none)";      // what is running, for the crash report
const std::string* g_bytes = nullptr;  // its bytes, kept on a crash

void OnCrash(int sig) {
  // Diagnostics on the way down (not async-signal-safe in general; the process is
  // dying anyway and this is a test driver).
  std::fprintf(stderr, "haq fuzz replay: signal %d while running %s\n", sig, g_current.c_str());
  if (g_bytes != nullptr) {
    std::ofstream out("replay-crash-input", std::ios::binary);
    out.write(g_bytes->data(), static_cast<std::streamsize>(g_bytes->size()));
    std::fprintf(stderr, "haq fuzz replay: input kept in ./replay-crash-input\n");
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void RunOne(const std::string& name, const std::string& bytes) {
  g_current = name;
  g_bytes = &bytes;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  g_bytes = nullptr;
}

std::string Mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng, size_t max_len) {
  auto pick = [&](size_t n) {
    return n == 0 ? size_t{0} : std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  std::string s = seeds[pick(seeds.size())];
  static const int64_t kInteresting[] = {0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff,
                                         0x7fffffff, INT64_MIN, INT64_MAX, 1 << 16, 1 << 24};
  const int edits = 1 + static_cast<int>(pick(8));
  for (int e = 0; e < edits; ++e) {
    switch (pick(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 1: {  // overwrite with an interesting value (1, 2, 4 or 8 bytes, little-endian)
        if (s.empty()) break;
        const int64_t v = kInteresting[pick(std::size(kInteresting))];
        const size_t width = size_t{1} << pick(4);
        const size_t at = pick(s.size());
        for (size_t b = 0; b < width && at + b < s.size(); ++b) {
          s[at + b] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * b)) & 0xff);
        }
        break;
      }
      case 2:  // insert random bytes
        s.insert(pick(s.size() + 1), std::string(1 + pick(8), static_cast<char>(pick(256))));
        break;
      case 3:  // delete a span
        if (!s.empty()) {
          const size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(s.size() - at, 64)));
        }
        break;
      case 4:  // duplicate a span
        if (!s.empty()) {
          const size_t at = pick(s.size());
          const std::string span = s.substr(at, 1 + pick(64));
          s.insert(pick(s.size() + 1), span);
        }
        break;
      case 5: {  // splice with another seed
        const std::string& other = seeds[pick(seeds.size())];
        s = s.substr(0, pick(s.size() + 1)) + other.substr(pick(other.size() + 1));
        break;
      }
      default:  // truncate
        s.resize(pick(s.size() + 1));
        break;
    }
  }
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

int Usage() {
  std::fprintf(stderr, "usage: replay [--mutations N] [--seed S] [--max-len L] PATH...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t mutations = 0;
  uint64_t seed = 0;
  size_t max_len = 65536;
  std::vector<fs::path> files;
  size_t paths = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--mutations" || a == "--seed" || a == "--max-len") && i + 1 < argc) {
      const std::string v = argv[++i];
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') return Usage();
      if (a == "--mutations") mutations = static_cast<int64_t>(n);
      if (a == "--seed") seed = n;
      if (a == "--max-len") max_len = static_cast<size_t>(n);
    } else if (fs::is_directory(a)) {
      ++paths;
      for (const auto& e : fs::recursive_directory_iterator(a)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (fs::is_regular_file(a)) {
      ++paths;
      files.emplace_back(a);
    } else {
      std::fprintf(stderr, "haq fuzz replay: %s: no such file or directory\n", a.c_str());
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return Usage();
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, OnCrash);

  std::vector<std::string> seeds;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    seeds.push_back(bytes.str());
    RunOne(f.string(), seeds.back());
  }
  std::mt19937_64 rng(seed);
  for (int64_t m = 0; m < mutations; ++m) {
    const std::string input = Mutate(seeds, rng, max_len);
    RunOne("mutation " + std::to_string(m) + " (seed " + std::to_string(seed) + ")", input);
  }
  std::printf("haq fuzz replay: %zu inputs from %zu paths, then %lld mutations: no crash\n",
              files.size(), paths, static_cast<long long>(mutations));
  return 0;
}
