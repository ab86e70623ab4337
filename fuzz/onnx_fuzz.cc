// libFuzzer target: graph::ImportOnnx on arbitrary bytes (written to a scratch file;
// ImportOnnx has no in-memory entry point). Imports run Finalize's batch-1 shape pass.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "graph/onnx_import.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = haq::fuzz::ScratchDir() / "model.onnx";
  haq::fuzz::WriteBytes(path, std::string_view(reinterpret_cast<const char*>(data), size));
  return haq::fuzz::Run([&] { (void)haq::graph::ImportOnnx(path.string()); });
}
