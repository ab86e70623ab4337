// Hessian traces against independent truth: for a softmax classifier (one Gemm) the
// trace of the cross-entropy's Hessian with respect to the weight and to the input
// has a closed form; for a small conv net the exact trace is the sum of e_i . H e_i
// over every basis vector; Hutchinson's estimate must reach its stated tolerance and
// lie within 4 standard errors of the exact trace for every block (a 4-sigma miss
// has probability 6e-5 per block; the probes are seeded). Chunked products equal
// one-chunk products.
#include "quant/hessian.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/loader.h"
#include "test_util.h"

namespace haq::quant {
namespace {

graph::Node MakeNode(graph::Network& net, const std::string& op, const std::string& name,
                     std::vector<int> inputs) {
  graph::Node n;
  n.op_type = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = {net.AddValue(name + ":out")};
  return n;
}

int Param(graph::Network& net, const std::string& name, torch::Tensor t) {
  const int v = net.AddValue(name);
  net.SetInitializer(v, std::move(t), /*trainable=*/true);
  return v;
}

// input [1, H, W] -> (Conv 1->2 3x3 -> Relu ->) Flatten -> Gemm -> logits.
graph::Network SmallNet(bool with_conv, int64_t hw, int64_t classes) {
  torch::manual_seed(3);
  graph::Network net;
  net.set_name("small");
  int cur = net.AddValue("input");
  net.AddInput(cur, {1, hw, hw});
  int64_t features = hw * hw;
  if (with_conv) {
    const int w = Param(net, "conv.weight", torch::randn({2, 1, 3, 3}) * 0.5);
    graph::Node c = MakeNode(net, "Conv", "conv", {cur, w});
    c.attrs["kernel_shape"] = std::vector<int64_t>{3, 3};
    c.attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
    cur = c.outputs[0];
    net.AddNode(std::move(c));
    graph::Node r = MakeNode(net, "Relu", "relu", {cur});
    cur = r.outputs[0];
    net.AddNode(std::move(r));
    features = 2 * hw * hw;
  }
  graph::Node f = MakeNode(net, "Flatten", "flatten", {cur});
  cur = f.outputs[0];
  net.AddNode(std::move(f));
  const int w = Param(net, "fc.weight", torch::randn({classes, features}) * 0.4);
  const int b = Param(net, "fc.bias", torch::randn({classes}) * 0.1);
  graph::Node g = MakeNode(net, "Gemm", "fc", {cur, w, b});
  g.attrs["transB"] = int64_t{1};
  cur = g.outputs[0];
  net.AddNode(std::move(g));
  net.AddOutput(cur);
  net.Finalize("test:small");
  return net;
}

data::Dataset Images(int64_t n, int64_t hw, int64_t classes) {
  torch::manual_seed(11);
  data::Dataset d;
  d.name = "synthetic";
  d.images = torch::randint(0, 256, {n, 1, hw, hw}, torch::kUInt8);
  d.labels = torch::randint(0, classes, {n}, torch::kLong);
  d.num_classes = classes;
  for (int64_t c = 0; c < classes; ++c) d.class_names.push_back(fmt::format("c{}", c));
  d.mean = {0.5};
  d.std = {0.25};
  return d;
}

double Trace(const HessianOperator& h, size_t block) {
  // Sum of e_i . H e_i over the block's basis vectors.
  std::vector<torch::Tensor> v;
  for (const auto& s : h.block_shapes()) v.push_back(torch::zeros(s));
  double t = 0.0;
  const int64_t n = v[block].numel();
  for (int64_t i = 0; i < n; ++i) {
    v[block].view(-1)[i] = 1.0f;
    t += h.BlockQuadratics(v)[block];
    v[block].view(-1)[i] = 0.0f;
  }
  return t;
}

TEST(HessianTest, SoftmaxClassifierTracesMatchTheClosedForm) {
  const int64_t n = 6, hw = 3, classes = 4;
  const graph::Network net = SmallNet(/*with_conv=*/false, hw, classes);
  const data::Dataset d = Images(n, hw, classes);
  const HessianOperator h(net, d, /*batch=*/n);
  ASSERT_EQ(h.num_layers(), 1u);

  // Closed form: with p = softmax(W x + b) and A = diag(p) - p p^T per image,
  // H_W = mean_n A_n (x) x_n x_n^T and H_x_n = W^T A_n W / N.
  data::BatchLoader loader(d, {.batch_size = n});
  data::Batch batch;
  ASSERT_TRUE(loader.Next(batch));
  const torch::Tensor x = batch.images.reshape({n, -1}).to(torch::kDouble);
  const torch::Tensor w = net.Initializer(net.quant_layers()[0].weight_value).to(torch::kDouble);
  const torch::Tensor bias = net.Initializer(net.ValueId("fc.bias")).to(torch::kDouble);
  const torch::Tensor p = torch::softmax(x.matmul(w.t()) + bias, 1);
  double weight_trace = 0.0, input_trace = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const torch::Tensor a = torch::diag(p[i]) - torch::outer(p[i], p[i]);
    weight_trace += a.trace().item<double>() * x[i].pow(2).sum().item<double>() / n;
    input_trace += (a * w.matmul(w.t())).sum().item<double>() / n;
  }
  EXPECT_NEAR(Trace(h, 0), weight_trace, 1e-4 * weight_trace);
  EXPECT_NEAR(Trace(h, 1), input_trace, 1e-4 * input_trace);
}

TEST(HessianTest, ChunkedProductsEqualOneChunk) {
  const graph::Network net = SmallNet(/*with_conv=*/true, 5, 3);
  const data::Dataset d = Images(5, 5, 3);
  const HessianOperator one(net, d, 5);
  const HessianOperator chunks(net, d, 2);
  ASSERT_EQ(one.block_shapes(), chunks.block_shapes());
  torch::manual_seed(5);
  std::vector<torch::Tensor> v;
  for (const auto& s : one.block_shapes()) v.push_back(torch::randn(s));
  const auto a = one.Multiply(v);
  const auto b = chunks.Multiply(v);
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(torch::allclose(a[k], b[k], 1e-4, 1e-6)) << "block " << k;
  }
}

// Both curvatures against the exact Hessian traces (basis vectors): the net is
// piecewise linear in each block, so the Gauss-Newton matrix's diagonal blocks are
// the Hessian's (hessian.h).
TEST(HessianTest, BothEstimatorsReachTheirToleranceAndTheExactTraceOfEveryBlock) {
  const graph::Network net = SmallNet(/*with_conv=*/true, 5, 3);
  const data::Dataset d = Images(4, 5, 3);
  const HessianOperator h(net, d, 4);
  std::vector<double> exact;
  for (size_t k = 0; k < h.block_shapes().size(); ++k) exact.push_back(Trace(h, k));
  ASSERT_EQ(exact.size(), 4u);  // two layers' weights, two layers' inputs
  for (Curvature c : {Curvature::kHessian, Curvature::kGaussNewton}) {
    HutchinsonOptions o;
    o.curvature = c;
    o.tolerance = 0.05;
    o.max_probes = 20000;
    o.seed = 1;
    const TraceEstimate est = HutchinsonTraces(h, o);
    SCOPED_TRACE(CurvatureName(c) + ", " + std::to_string(est.probes) + " probes");
    ASSERT_TRUE(est.converged);
    for (size_t k = 0; k < est.mean.size(); ++k) {
      EXPECT_GT(exact[k], 0.0) << "block " << k;
      EXPECT_LE(est.se[k], o.tolerance * std::abs(est.mean[k])) << "block " << k;
      EXPECT_NEAR(est.mean[k], exact[k], 4.0 * est.se[k]) << "block " << k;
    }
  }
}

TEST(HessianTest, BadOptionsAreNamed) {
  const graph::Network net = SmallNet(/*with_conv=*/false, 3, 4);
  const data::Dataset d = Images(2, 3, 4);
  const HessianOperator h(net, d, 2);
  HutchinsonOptions o;
  o.max_probes = 1;
  EXPECT_EQ(test::InputErrorOf([&] { HutchinsonTraces(h, o); }),
            "Hutchinson: expected 2 <= min probes <= max probes, got 4 and 1");
  o.max_probes = 10;
  o.tolerance = 0;
  EXPECT_EQ(test::InputErrorOf([&] { HutchinsonTraces(h, o); }),
            "Hutchinson: expected a tolerance > 0, got 0");
}

}  // namespace
}  // namespace haq::quant
