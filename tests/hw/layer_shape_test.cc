// Layer shapes: the resource guards that keep every cost count inside int64, and
// the JSON form a search run keeps in network.json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hw/cost_model.h"
#include "hw/cost_table.h"
#include "hw/layer_shape.h"
#include "hw/spec.h"
#include "hw/zoo.h"
#include "test_util.h"
#include "util/error.h"

namespace haq::hw {
namespace {

LayerShape Conv(int64_t cin, int64_t cout, int64_t k, int64_t hw, int64_t batch) {
  LayerShape s;
  s.name = "big";
  s.in_channels = cin;
  s.out_channels = cout;
  s.kernel_h = s.kernel_w = k;
  s.in_h = s.in_w = s.out_h = s.out_w = hw;
  s.batch = batch;
  return s;
}

TEST(LayerShapeTest, GuardsRefuseShapesWhoseCostsCouldOverflow) {
  EXPECT_EQ(test::InputErrorOf([] { Validate(Conv(1 << 20, 1 << 20, 7, 1, 1)); }),
            "layer 'big': weights: expected at most 2^36, got more (7x7 s1 1048576->1048576 1x1)");
  EXPECT_EQ(test::InputErrorOf([] { Validate(Conv(512, 512, 3, 4096, 64)); }),
            "layer 'big': multiply-accumulates x batch: expected at most 2^44, got more "
            "(3x3 s1 512->512 4096x4096)");
  // Products that wrap around int64 are caught, not wrapped.
  EXPECT_EQ(test::InputErrorOf([] { Validate(Conv(1, 1, 1, int64_t{1} << 32, int64_t{1} << 40)); }),
            "layer 'big': multiply-accumulates x batch: expected at most 2^44, got more "
            "(1x1 s1 1->1 4294967296x4294967296)");
  // The largest real workloads pass: ResNet-50 at batch 256 on every model.
  const auto layers = ZooLayerShapes("resnet50", {.height = 224, .width = 224, .channels = 3,
                                                  .batch = 256});
  for (const auto& name : BuiltinHardwareNames()) {
    const auto model = MakeCostModel(BuiltinHardware(name));
    for (const auto& l : layers) EXPECT_GT(model->Evaluate(l, 8, 8).cycles, 0) << name << l.name;
  }
  EXPECT_EQ(test::InputErrorOf([] {
              const auto model = MakeCostModel(BuiltinHardware("bismo-edge"));
              model->Evaluate(Conv(1 << 20, 1 << 20, 7, 1, 1), 8, 8);
            }),
            "layer 'big': weights: expected at most 2^36, got more (7x7 s1 1048576->1048576 1x1)");
  EXPECT_EQ(test::InputErrorOf([] {
              CheckLayerCount(std::vector<LayerShape>(kMaxLayers + 1, Conv(1, 1, 1, 1, 1)), "m");
            }),
            "m: expected 1 to 16384 quantizable layers, got 16385");
}

TEST(LayerShapeTest, JsonRoundTripAndExactErrors) {
  const auto layers = ZooLayerShapes("mobilenet_v2", {});
  const nlohmann::json j = ShapesToJson(layers);
  const auto back = ShapesFromJson(j, "n.json");
  ASSERT_EQ(back.size(), layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    EXPECT_EQ(back[i].Summary(), layers[i].Summary());
    EXPECT_EQ(back[i].name, layers[i].name);
    EXPECT_EQ(back[i].is_first, layers[i].is_first);
    EXPECT_EQ(back[i].MacsPerImage(), layers[i].MacsPerImage());
  }
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json bad = j;
    if (value.is_null()) {
      bad[1].erase(key);
    } else {
      bad[1][key] = value;
    }
    return test::InputErrorOf([&] { ShapesFromJson(bad, "n.json"); });
  };
  EXPECT_EQ(with("kind", "pool"),
            "n.json: layers[1].kind: expected \"conv\", \"depthwise\" or \"fc\", got \"pool\"");
  EXPECT_EQ(with("groups", nullptr), "n.json: layers[1]: missing field 'groups'");
  EXPECT_EQ(with("in_h", "7"), "n.json: layers[1].in_h: expected an integer, got \"7\"");
  EXPECT_EQ(with("out_channels", 0),
            "n.json: layers[1]: layer 'features.1.conv.0.0': out_channels: expected an integer >= "
            "1, got 0");
  EXPECT_EQ(test::InputErrorOf([] { ShapesFromJson(nlohmann::json::object(), "n.json"); }),
            "n.json: layers: expected an array of 1 to 16384 layers, got object");
}

}  // namespace
}  // namespace haq::hw
