// libFuzzer target: hw::ParseHardwareSpec on arbitrary YAML text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "hw/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return haq::fuzz::Run([&] { (void)haq::hw::ParseHardwareSpec(text, "fuzz.yaml"); });
}
