#include "search/machine.h"

#include <fmt/format.h>

#include "util/json.h"

namespace haq::search {

bool MachineInfo::SameKernelPath(const MachineInfo& o) const {
  return aten == o.aten && blas == o.blas && onednn == o.onednn && threads == o.threads;
}

std::string MachineInfo::Describe() const {
  return fmt::format("{}; ATen {}, OpenBLAS {}, oneDNN {}, {} thread{}",
                     cpu.empty() ? "unknown CPU" : cpu, aten, blas, onednn, threads,
                     threads == 1 ? "" : "s");
}

nlohmann::json MachineInfo::ToJson() const {
  return {{"cpu", cpu}, {"aten", aten}, {"blas", blas}, {"onednn", onednn}, {"threads", threads}};
}

MachineInfo MachineInfo::FromJson(const nlohmann::json& j, const std::string& where) {
  MachineInfo m;
  m.cpu = util::JsonField<std::string>(j, "cpu", where);
  m.aten = util::JsonField<std::string>(j, "aten", where);
  m.blas = util::JsonField<std::string>(j, "blas", where);
  m.onednn = util::JsonField<std::string>(j, "onednn", where);
  m.threads = util::JsonField<int>(j, "threads", where);
  return m;
}

}  // namespace haq::search
