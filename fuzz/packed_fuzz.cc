// libFuzzer target: deploy::ReadPacked on a packed export directory.
//
// Input layout: manifest.json's text, a NUL byte, then weights.bin's bytes (no NUL:
// all of it is the manifest and weights.bin is empty). So that mutations of
// weights.bin get past the CRC check, a manifest whose "weights_crc32" is 0 has it
// replaced by weights.bin's CRC-32 (other values, including a wrong one, are kept).
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "deploy/codes.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  std::string manifest(input.substr(0, nul));
  const std::string_view weights = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  nlohmann::json j = nlohmann::json::parse(manifest, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("weights_crc32") && j["weights_crc32"] == 0) {
    j["weights_crc32"] = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(weights.data()),
                               static_cast<uInt>(weights.size()));
    manifest = j.dump();
  }
  const auto& dir = haq::fuzz::ScratchDir();
  haq::fuzz::WriteBytes(dir / "manifest.json", manifest);
  haq::fuzz::WriteBytes(dir / "weights.bin", weights);
  return haq::fuzz::Run([&] { (void)haq::deploy::ReadPacked(dir); });
}
