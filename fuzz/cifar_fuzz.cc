// libFuzzer target: data::LoadCifar10 (test set) with arbitrary bytes as test_batch.bin.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "data/dataset.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& dir = haq::fuzz::ScratchDir();
  haq::fuzz::WriteBytes(dir / "test_batch.bin",
                        std::string_view(reinterpret_cast<const char*>(data), size));
  return haq::fuzz::Run([&] {
    const haq::data::Dataset d = haq::data::LoadCifar10(dir.string(), /*train=*/false);
    haq::data::ValidateDataset(d);
  });
}
