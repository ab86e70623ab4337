// libFuzzer target: hw::ParsePolicy on arbitrary JSON text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "hw/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return haq::fuzz::Run([&] { (void)haq::hw::ParsePolicy(text, "fuzz.json"); });
}
