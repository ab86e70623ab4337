// libFuzzer target: the IDX readers (data::ReadIdxImages, data::ReadIdxLabels) on
// arbitrary bytes, plain or gzip (the readers tell them apart by content).
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/idx.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = haq::fuzz::ScratchDir() / "input-idx";
  haq::fuzz::WriteBytes(path, std::string_view(reinterpret_cast<const char*>(data), size));
  haq::fuzz::Run([&] { (void)haq::data::ReadIdxImages(path.string()); });
  haq::fuzz::Run([&] { (void)haq::data::ReadIdxLabels(path.string()); });
  return 0;
}
