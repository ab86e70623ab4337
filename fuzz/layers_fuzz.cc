// libFuzzer target: hw::ShapesFromJson (a run's network.json) on arbitrary JSON text.
// Text that is not JSON at all never reaches ShapesFromJson (its callers parse first);
// an object with "layers" (network.json's form) passes that array, as report/ does.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "hw/layer_shape.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  return haq::fuzz::Run([&] {
    const bool whole = j.is_object() && j.contains("layers");
    const auto layers = haq::hw::ShapesFromJson(whole ? j["layers"] : j, "network.json");
    for (const auto& l : layers) (void)l.Summary();
  });
}
