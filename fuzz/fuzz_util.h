#pragma once
/// Shared pieces of the libFuzzer targets (fuzz/*_fuzz.cc).
///
/// Contract of every target: util::InputError and util::IoError are the expected
/// outcome for bad input and are swallowed; any other exception is reported (type
/// and message) and aborts, so libFuzzer records the input as a crash, as it does for
/// signals, sanitizer reports, timeouts and memory above -rss_limit_mb.
#include <cxxabi.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>

#include "util/error.h"

namespace haq::fuzz {

/// A scratch directory private to this process, removed at normal exit.
inline const std::filesystem::path& ScratchDir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      std::string templ = (std::filesystem::temp_directory_path() / "haq_fuzz_XXXXXX").string();
      if (mkdtemp(templ.data()) == nullptr) {
        std::perror("haq fuzz: mkdtemp");
        std::abort();
      }
      path = templ;
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

/// Writes `bytes` to `path` (replacing it).
inline void WriteBytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "haq fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

inline std::string TypeName(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  return out;
}

/// Runs `body`, swallowing the expected errors and aborting on anything else.
template <class Body>
int Run(Body&& body) {
  try {
    body();
  } catch (const util::InputError&) {
  } catch (const util::IoError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "haq fuzz: unexpected exception %s: %s\n", TypeName(typeid(e)).c_str(),
                 e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "haq fuzz: unexpected non-standard exception\n");
    std::abort();
  }
  return 0;
}

}  // namespace haq::fuzz
