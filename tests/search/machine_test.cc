// MachineInfo: what the kernel-path environment variables ask for is what the
// libraries report (so scripts/kernel_paths.sh really runs the paths it names),
// JSON round trip and its errors, and which differences count as another path.
#include "search/machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include "test_util.h"
#include "util/error.h"

namespace haq::search {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

TEST(MachineInfoTest, ReportsTheKernelPathsTheEnvironmentAsksFor) {
  const MachineInfo m = MachineInfo::Current();
  EXPECT_FALSE(m.cpu.empty());
  EXPECT_GE(m.threads, 1);
  // This LibTorch reaches OpenBLAS and oneDNN (Debian's build): both are found.
  EXPECT_NE(m.blas, "unknown");
  EXPECT_NE(m.onednn, "unknown");
  EXPECT_TRUE(m.aten == "DEFAULT" || m.aten == "AVX2" || m.aten == "AVX512") << m.aten;
  if (const char* aten = std::getenv("ATEN_CPU_CAPABILITY")) {
    EXPECT_EQ(Lower(m.aten), Lower(aten));
  }
  if (const char* core = std::getenv("OPENBLAS_CORETYPE")) {
    EXPECT_EQ(Lower(m.blas), Lower(core));
  }
  if (const char* isa = std::getenv("ONEDNN_MAX_CPU_ISA")) {
    EXPECT_EQ(m.onednn, Lower(isa));
  }
}

TEST(MachineInfoTest, JsonRoundTripAndErrors) {
  MachineInfo m{"Some CPU", "AVX512", "SkylakeX", "avx512_core", 2};
  EXPECT_EQ(MachineInfo::FromJson(m.ToJson(), "log.jsonl:3"), m);
  nlohmann::json j = m.ToJson();
  j.erase("blas");
  EXPECT_EQ(test::InputErrorOf([&] { MachineInfo::FromJson(j, "log.jsonl:3: machine"); }),
            "log.jsonl:3: machine: missing field 'blas'");
  j = m.ToJson();
  j["threads"] = "two";
  EXPECT_EQ(test::InputErrorOf([&] { MachineInfo::FromJson(j, "log.jsonl:3: machine"); }),
            "log.jsonl:3: machine: threads: expected an integer, got \"two\"");
}

TEST(MachineInfoTest, TheCpuNameAloneIsNotAnotherKernelPath) {
  const MachineInfo a{"AMD EPYC 7B13", "AVX2", "Zen", "avx2", 2};
  MachineInfo b = a;
  b.cpu = "Intel(R) Xeon(R) Processor";
  EXPECT_TRUE(a.SameKernelPath(b));
  for (auto change : {+[](MachineInfo& x) { x.aten = "AVX512"; },
                      +[](MachineInfo& x) { x.blas = "SkylakeX"; },
                      +[](MachineInfo& x) { x.onednn = "avx512_core_amx"; },
                      +[](MachineInfo& x) { x.threads = 4; }}) {
    MachineInfo c = a;
    change(c);
    EXPECT_FALSE(a.SameKernelPath(c)) << c.Describe();
  }
  EXPECT_EQ(a.Describe(), "AMD EPYC 7B13; ATen AVX2, OpenBLAS Zen, oneDNN avx2, 2 threads");
}

}  // namespace
}  // namespace haq::search
