// An ONNX file laid out the way PyTorch 1.13 exports torchvision's MobileNet-V2
// (graph/torch_style_mobilenet.h): importing it must give the zoo's 53
// quantizable layers in the same order with the same shapes, names and costs.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>

#include "graph/onnx_import.h"
#include "graph/torch_style_mobilenet.h"
#include "hw/cost_table.h"
#include "hw/spec.h"
#include "hw/zoo.h"
#include "test_util.h"

namespace haq::graph {
namespace {

TEST(OnnxMobileNetV2Test, ImportGivesTheZooLayersAndCosts) {
  test::TempDir dir;
  const auto path = dir.Write("mobilenet_v2.onnx", test::TorchStyleExport().Build());
  const Network net = ImportOnnx(path.string());
  hw::ZooInput in;
  in.batch = 16;
  const auto zoo = hw::ZooLayerShapes("mobilenet_v2", in);
  const auto imported = net.LayerShapes(16);
  ASSERT_EQ(imported.size(), 53u);
  for (size_t i = 0; i < zoo.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    EXPECT_EQ(imported[i].name, zoo[i].name);
    EXPECT_EQ(imported[i].kind, zoo[i].kind);
    EXPECT_EQ(imported[i].Summary(), zoo[i].Summary());
    EXPECT_EQ(imported[i].out_h, zoo[i].out_h);
    EXPECT_EQ(imported[i].is_first, zoo[i].is_first);
  }
  for (const char* hardware : {"bismo-cloud", "bismo-edge", "bitfusion"}) {
    const auto model = hw::MakeCostModel(hw::BuiltinHardware(hardware));
    const auto a = hw::EvaluatePolicy(*model, imported, hw::UniformPolicy(imported, 4, 6));
    const auto b = hw::EvaluatePolicy(*model, zoo, hw::UniformPolicy(zoo, 4, 6));
    EXPECT_EQ(a.cycles, b.cycles) << hardware;
    EXPECT_DOUBLE_EQ(a.energy_pj, b.energy_pj) << hardware;
    EXPECT_EQ(a.weight_bits, b.weight_bits) << hardware;
  }
  // And it runs: any batch size through the flattening chain.
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net.Forward(torch::randn({2, 3, 224, 224}), false).sizes(),
            (std::vector<int64_t>{2, 1000}));
  // Through the CLI: the released table's 8-bit total.
  const auto r = test::RunHaq(fmt::format("cost --model {} --hw bismo-cloud --batch 16", path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("total: 39,624,933 cycles"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace haq::graph
