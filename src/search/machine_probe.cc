#include "search/machine.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <ATen/Version.h>
#include <fstream>
#include <sstream>

// MachineInfo::Current(): the probe of ATen, OpenBLAS and oneDNN, on the LibTorch
// side of the build (machine.cc is torch-free).
namespace haq::search {

namespace {

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("model name")) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

// ATen keeps get_cpu_capability() internal in 1.13; its configuration text has
// the line "CPU capability usage: AVX2" (or "NO AVX" for DEFAULT).
std::string AtenCapability() {
  std::istringstream config(at::show_config());
  std::string line;
  const std::string key = "CPU capability usage: ";
  while (std::getline(config, line)) {
    const size_t at = line.find(key);
    if (at == std::string::npos) continue;
    std::string value = line.substr(at + key.size());
    return value == "NO AVX" ? "DEFAULT" : value;
  }
  return "unknown";
}

// Looked up at run time: LibTorch reaches OpenBLAS and oneDNN through its own
// links, and a build against another BLAS simply reports "unknown".
std::string OpenBlasCore() {
  using CoreName = char* (*)();
  auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return f ? std::string(f()) : "unknown";
}

std::string OneDnnIsa() {
  using EffectiveIsa = int (*)();
  auto f = reinterpret_cast<EffectiveIsa>(dlsym(RTLD_DEFAULT, "dnnl_get_effective_cpu_isa"));
  if (!f) return "unknown";
  // dnnl_cpu_isa_t of oneDNN 2.x.
  switch (f()) {
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0xf: return "avx2_vnni";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    default: return fmt::format("isa 0x{:x}", f());
  }
}

}  // namespace

MachineInfo MachineInfo::Current() {
  // The CPU, ATen's capability, OpenBLAS's and oneDNN's choices are fixed for
  // the process; the thread count is not.
  static const MachineInfo fixed = [] {
    MachineInfo m;
    m.cpu = CpuModelName();
    m.aten = AtenCapability();
    m.blas = OpenBlasCore();
    m.onednn = OneDnnIsa();
    return m;
  }();
  MachineInfo m = fixed;
  m.threads = at::get_num_threads();
  return m;
}

}  // namespace haq::search
