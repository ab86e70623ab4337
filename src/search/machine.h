#pragma once
/// The machine a computation ran on, as far as it decides floating-point results:
/// the CPU and the kernel paths its libraries chose for it. LibTorch's own kernels
/// dispatch by ATen's CPU capability (DEFAULT, AVX2, AVX512; `ATEN_CPU_CAPABILITY`
/// overrides it), its matrix products go to OpenBLAS, which picks kernels by core
/// type (`OPENBLAS_CORETYPE`), and its convolutions to oneDNN, which picks them by
/// instruction set (`ONEDNN_MAX_CPU_ISA`). Two runs with the same kernel paths and
/// thread count compute the same bits; runs on different paths agree only up to
/// rounding, which a search amplifies into a different trajectory
/// (docs/REPRODUCIBILITY.md).
#include <nlohmann/json.hpp>
#include <string>

namespace haq::search {

struct MachineInfo {
  std::string cpu;      ///< /proc/cpuinfo's model name ("" where unknown)
  std::string aten;     ///< ATen's CPU capability: "DEFAULT", "AVX2", "AVX512"
  std::string blas;     ///< OpenBLAS's core type ("SkylakeX", "Zen", ...), or "unknown"
  std::string onednn;   ///< oneDNN's effective instruction set ("avx2", ...), or "unknown"
  int threads = 0;      ///< LibTorch's intra-op threads

  /// This process's machine and kernel paths (machine_probe.cc: links LibTorch).
  static MachineInfo Current();

  /// The kernel paths and thread count agree (the CPU's name aside): the same
  /// computation gives the same bits.
  bool SameKernelPath(const MachineInfo& other) const;
  bool operator==(const MachineInfo&) const = default;

  /// "Intel(R) Xeon(R) Processor; ATen AVX2, OpenBLAS SkylakeX, oneDNN avx512_core_amx, 2 threads"
  std::string Describe() const;

  nlohmann::json ToJson() const;
  /// Throws util::InputError naming `where` and the field.
  static MachineInfo FromJson(const nlohmann::json& j, const std::string& where);
};

}  // namespace haq::search
