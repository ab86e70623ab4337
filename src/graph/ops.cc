// Kernels for the ONNX operators the executor supports. Each reads its inputs from
// the ExecContext and writes its outputs there; attribute defaults and the
// differences between opset versions follow the ONNX operator specs (the graph's
// default-domain opset is Network::opset()).
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <optional>

#include "graph/network.h"
#include "util/error.h"

namespace haq::graph {

namespace F = torch::nn::functional;

namespace {

[[noreturn]] void Fail(const ExecContext& ctx, const Node& n, const std::string& what) {
  throw util::InputError(
      fmt::format("{}: node '{}' ({}): {}", ctx.net().source(), n.name, n.op_type, what));
}

int64_t Opset(const ExecContext& ctx) { return ctx.net().opset(); }

std::string ShapeText(c10::IntArrayRef sizes) {
  return fmt::format("[{}]", fmt::join(sizes.begin(), sizes.end(), ", "));
}

// An axis in [-rank, rank) made non-negative; `what` names it in messages.
int64_t NormAxis(const ExecContext& ctx, const Node& n, int64_t axis, int64_t rank,
                 const std::string& what) {
  if (axis < -rank || axis >= rank) {
    Fail(ctx, n, fmt::format("{} {} is out of range for a tensor of rank {}; expected a value "
                             "in [{}, {}]",
                             what, axis, rank, -rank, rank - 1));
  }
  return axis < 0 ? axis + rank : axis;
}

// A 0-D or 1-D integer input as a list (shapes, axes, pads).
std::vector<int64_t> IntsInput(const ExecContext& ctx, const Node& n, size_t i) {
  const torch::Tensor& t = ctx.In(n, i);
  if (t.dim() > 1 || t.is_floating_point()) {
    Fail(ctx, n, fmt::format("input {}: expected a 1-D integer tensor, got {} of shape {}", i,
                             c10::toString(t.scalar_type()), ShapeText(t.sizes())));
  }
  const torch::Tensor l = t.to(torch::kLong).contiguous().reshape({-1});
  return std::vector<int64_t>(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}

// Axes of Squeeze/Unsqueeze/Reduce*: an input from `input_opset` on, an attribute
// before. nullopt when absent.
std::optional<std::vector<int64_t>> AxesArg(const ExecContext& ctx, const Node& n, size_t input,
                                            int64_t input_opset) {
  if (Opset(ctx) >= input_opset) {
    if (ctx.HasIn(n, input)) return IntsInput(ctx, n, input);
    return std::nullopt;
  }
  if (n.Has("axes")) return n.Ints("axes");
  return std::nullopt;
}

// ---------------------------------------------------------------- padding

// ONNX pads [x1_begin, x2_begin, ..., x1_end, x2_end] of a convolution or pooling
// over the spatial dimensions of `x`, with auto_pad resolved.
std::vector<int64_t> SpatialPads(const ExecContext& ctx, const Node& n, const torch::Tensor& x,
                                 const std::vector<int64_t>& kernel,
                                 const std::vector<int64_t>& strides,
                                 const std::vector<int64_t>& dilations) {
  const size_t dims = kernel.size();
  std::vector<int64_t> pads = n.Ints("pads", std::vector<int64_t>(2 * dims, 0));
  if (strides.size() != dims) {
    Fail(ctx, n, fmt::format("strides: expected {} values, got {}", dims, strides.size()));
  }
  if (dilations.size() != dims) {
    Fail(ctx, n, fmt::format("dilations: expected {} values, got {}", dims, dilations.size()));
  }
  const std::string auto_pad = n.String("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    pads.assign(2 * dims, 0);
    for (size_t d = 0; d < dims; ++d) {
      const int64_t in = x.size(static_cast<int64_t>(d) + 2);
      const int64_t out = (in + strides[d] - 1) / strides[d];
      const int64_t eff = (kernel[d] - 1) * dilations[d] + 1;
      const int64_t total = std::max<int64_t>(0, (out - 1) * strides[d] + eff - in);
      const int64_t small = total / 2, large = total - small;
      pads[d] = auto_pad == "SAME_UPPER" ? small : large;
      pads[d + dims] = auto_pad == "SAME_UPPER" ? large : small;
    }
  } else if (auto_pad == "VALID") {
    pads.assign(2 * dims, 0);
  } else if (auto_pad != "NOTSET") {
    Fail(ctx, n,
         "auto_pad: expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '" + auto_pad + "'");
  }
  if (pads.size() != 2 * dims) {
    Fail(ctx, n, fmt::format("pads: expected {} values, got {}", 2 * dims, pads.size()));
  }
  for (const int64_t p : pads) {
    if (p < 0) Fail(ctx, n, fmt::format("pads: expected values >= 0, got {}", p));
  }
  return pads;
}

// torch's pad list for ONNX spatial pads: last dimension first, (begin, end) pairs.
std::vector<int64_t> TorchPads(const std::vector<int64_t>& pads) {
  const size_t dims = pads.size() / 2;
  std::vector<int64_t> out;
  for (size_t d = dims; d-- > 0;) {
    out.push_back(pads[d]);
    out.push_back(pads[d + dims]);
  }
  return out;
}

// Returns symmetric per-dimension padding for torch if possible (and, if
// `max_half_kernel`, at most half the kernel, as torch's pooling requires), else
// pads `x` explicitly with `pad_value` and returns zeros.
std::vector<int64_t> ResolvePadding(const ExecContext& ctx, const Node& n, torch::Tensor& x,
                                    const std::vector<int64_t>& kernel,
                                    const std::vector<int64_t>& strides,
                                    const std::vector<int64_t>& dilations, double pad_value,
                                    bool max_half_kernel = false) {
  const size_t dims = kernel.size();
  const std::vector<int64_t> pads = SpatialPads(ctx, n, x, kernel, strides, dilations);
  bool simple = true;
  for (size_t d = 0; d < dims; ++d) {
    simple = simple && pads[d] == pads[d + dims] && (!max_half_kernel || 2 * pads[d] <= kernel[d]);
  }
  if (simple) return std::vector<int64_t>(pads.begin(), pads.begin() + static_cast<long>(dims));
  x = F::pad(x, F::PadFuncOptions(TorchPads(pads)).value(pad_value));
  return std::vector<int64_t>(dims, 0);
}

std::vector<int64_t> KernelShape(const Node& n, const torch::Tensor& w_or_x, size_t dims) {
  auto k = n.Ints("kernel_shape");
  if (k.empty()) {
    for (size_t d = 0; d < dims; ++d) k.push_back(w_or_x.size(static_cast<int64_t>(d) + 2));
  }
  return k;
}

// Spatial dimensions of a pooling input (1 to 3), failing otherwise.
size_t PoolDims(const ExecContext& ctx, const Node& n, const torch::Tensor& x) {
  if (x.dim() < 3 || x.dim() > 5) {
    Fail(ctx, n, fmt::format("expected an input of shape [N, C, D1 (, D2 (, D3))], got {}",
                             ShapeText(x.sizes())));
  }
  return static_cast<size_t>(x.dim() - 2);
}

// ---------------------------------------------------------------- layers

void Conv(const Node& n, ExecContext& ctx) {
  torch::Tensor x = ctx.LayerInput(n);
  const torch::Tensor w = ctx.LayerWeight(n, ctx.In(n, 1));
  const torch::Tensor b = ctx.HasIn(n, 2) ? ctx.In(n, 2) : torch::Tensor();
  if (w.dim() < 3) {
    Fail(ctx, n, fmt::format("expected a weight of shape [M, C/group, k1, ...], got {}",
                             ShapeText(w.sizes())));
  }
  const size_t dims = static_cast<size_t>(w.dim() - 2);
  if (x.dim() != w.dim()) {
    Fail(ctx, n, fmt::format("input has {} dimensions but the weight has {}", x.dim(), w.dim()));
  }
  const auto kernel = KernelShape(n, w, dims);
  const auto strides = n.Ints("strides", std::vector<int64_t>(dims, 1));
  const auto dilations = n.Ints("dilations", std::vector<int64_t>(dims, 1));
  const int64_t groups = n.Int("group", 1);
  if (x.size(1) != w.size(1) * groups) {
    Fail(ctx, n, fmt::format("input has {} channels, the weight expects {} ({} x {} groups)",
                             x.size(1), w.size(1) * groups, w.size(1), groups));
  }
  const auto pads = ResolvePadding(ctx, n, x, kernel, strides, dilations, 0.0);
  torch::Tensor y;
  switch (dims) {
    case 1:
      y = torch::conv1d(x, w, b, strides, pads, dilations, groups);
      break;
    case 2:
      y = torch::conv2d(x, w, b, strides, pads, dilations, groups);
      break;
    case 3:
      y = torch::conv3d(x, w, b, strides, pads, dilations, groups);
      break;
    default:
      Fail(ctx, n, fmt::format("expected a 1-, 2- or 3-D convolution, got {}-D", dims));
  }
  ctx.Out(n, 0, y);
}

void BatchNormalization(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  if (n.Int("spatial", 1) == 0) {
    Fail(ctx, n, "spatial=0 (per-activation statistics) is not supported; expected spatial=1");
  }
  for (size_t i = 1; i < n.outputs.size(); ++i) {
    if (n.outputs[i] >= 0) {
      Fail(ctx, n, fmt::format("has {} outputs; expected only Y (the running statistics are "
                               "updated in place in training mode, not returned)",
                               n.outputs.size()));
    }
  }
  const double eps = n.Float("epsilon", 1e-5);
  const double momentum = n.Float("momentum", 0.9);
  const bool train = ctx.training() && n.inputs.size() >= 5 &&
                     ctx.net().IsInitializer(n.inputs[3]) && ctx.net().IsInitializer(n.inputs[4]);
  // Running statistics are updated in place in training mode (ONNX momentum m:
  // running = m * running + (1 - m) * batch; torch's momentum is 1 - m).
  const torch::Tensor mean = train ? ctx.Mutable(n.inputs[3]) : ctx.In(n, 3);
  const torch::Tensor var = train ? ctx.Mutable(n.inputs[4]) : ctx.In(n, 4);
  ctx.Out(n, 0, torch::batch_norm(x, ctx.In(n, 1), ctx.In(n, 2), mean, var, train, 1.0 - momentum,
                                  eps, /*cudnn_enabled=*/false));
}

void Gemm(const Node& n, ExecContext& ctx) {
  torch::Tensor a = ctx.LayerInput(n);
  torch::Tensor b = ctx.LayerWeight(n, ctx.In(n, 1));
  if (a.dim() != 2 || b.dim() != 2) {
    Fail(ctx, n, fmt::format("expected 2-D A and B, got {} and {}", ShapeText(a.sizes()),
                             ShapeText(b.sizes())));
  }
  if (n.Int("transA", 0)) a = a.t();
  if (n.Int("transB", 0)) b = b.t();
  if (a.size(1) != b.size(0)) {
    Fail(ctx, n, fmt::format("A (after transA) is {} but B (after transB) is {}; expected "
                             "A's columns to equal B's rows",
                             ShapeText(a.sizes()), ShapeText(b.sizes())));
  }
  const double alpha = n.Float("alpha", 1.0), beta = n.Float("beta", 1.0);
  torch::Tensor y = torch::matmul(a, b);
  if (alpha != 1.0) y = y * alpha;
  if (ctx.HasIn(n, 2)) y = beta == 1.0 ? y + ctx.In(n, 2) : y + beta * ctx.In(n, 2);
  ctx.Out(n, 0, y);
}

void MatMul(const Node& n, ExecContext& ctx) {
  const torch::Tensor a = ctx.LayerInput(n);
  const torch::Tensor b = ctx.LayerWeight(n, ctx.In(n, 1));
  const int64_t k_a = a.size(-1), k_b = b.dim() == 1 ? b.size(0) : b.size(-2);
  if (k_a != k_b) {
    Fail(ctx, n, fmt::format("cannot multiply {} by {}: inner dimensions {} and {} differ",
                             ShapeText(a.sizes()), ShapeText(b.sizes()), k_a, k_b));
  }
  ctx.Out(n, 0, torch::matmul(a, b));
}

// ---------------------------------------------------------------- pooling

void MaxPool(const Node& n, ExecContext& ctx) {
  torch::Tensor x = ctx.In(n, 0);
  const size_t dims = PoolDims(ctx, n, x);
  if (n.outputs.size() > 1 && n.outputs[1] >= 0) {
    Fail(ctx, n, "the Indices output is not supported; expected only Y");
  }
  const auto kernel = n.Ints("kernel_shape");
  if (kernel.size() != dims) {
    Fail(ctx, n, fmt::format("kernel_shape: expected {} values (one per spatial dimension), "
                             "got {}",
                             dims, kernel.size()));
  }
  const auto strides = n.Ints("strides", std::vector<int64_t>(dims, 1));
  const auto dilations = n.Ints("dilations", std::vector<int64_t>(dims, 1));
  const bool ceil_mode = n.Int("ceil_mode", 0) != 0;
  // Integer inputs (uint8, int8) pool exactly in float.
  const auto dtype = x.scalar_type();
  if (!x.is_floating_point()) x = x.to(torch::kFloat);
  const auto pads = ResolvePadding(ctx, n, x, kernel, strides, dilations,
                                   -std::numeric_limits<double>::infinity(),
                                   /*max_half_kernel=*/true);
  torch::Tensor y;
  if (dims == 1) y = torch::max_pool1d(x, kernel, strides, pads, dilations, ceil_mode);
  else if (dims == 2) y = torch::max_pool2d(x, kernel, strides, pads, dilations, ceil_mode);
  else y = torch::max_pool3d(x, kernel, strides, pads, dilations, ceil_mode);
  ctx.Out(n, 0, y.scalar_type() == dtype ? y : y.to(dtype));
}

// Window sums (no division) of a [N, C, ...] tensor with 2 or 3 spatial dimensions.
torch::Tensor SumPool(const torch::Tensor& x, const std::vector<int64_t>& kernel,
                      const std::vector<int64_t>& strides, bool ceil_mode) {
  const std::vector<int64_t> zeros(kernel.size(), 0);
  if (kernel.size() == 2) {
    return torch::avg_pool2d(x, kernel, strides, zeros, ceil_mode, /*count_include_pad=*/true,
                             /*divisor_override=*/1);
  }
  return torch::avg_pool3d(x, kernel, strides, zeros, ceil_mode, /*count_include_pad=*/true,
                           /*divisor_override=*/1);
}

// Average pooling as window sums over the explicitly padded input divided by the
// number of counted elements, which handles asymmetric and large pads, ceil_mode
// and both count_include_pad settings exactly as ONNX defines them.
void AveragePool(const Node& n, ExecContext& ctx) {
  torch::Tensor x = ctx.In(n, 0);
  const size_t dims = PoolDims(ctx, n, x);
  auto kernel = n.Ints("kernel_shape");
  if (kernel.size() != dims) {
    Fail(ctx, n, fmt::format("kernel_shape: expected {} values (one per spatial dimension), "
                             "got {}",
                             dims, kernel.size()));
  }
  auto strides = n.Ints("strides", std::vector<int64_t>(dims, 1));
  const auto dilations = n.Ints("dilations", std::vector<int64_t>(dims, 1));
  for (const int64_t d : dilations) {
    if (d != 1) Fail(ctx, n, fmt::format("dilations: expected 1, got {}", d));
  }
  auto pads = SpatialPads(ctx, n, x, kernel, strides, dilations);
  const bool ceil_mode = n.Int("ceil_mode", 0) != 0;
  const bool count_include_pad = n.Int("count_include_pad", 0) != 0;
  const auto dtype = x.scalar_type();
  if (!x.is_floating_point()) x = x.to(torch::kFloat);
  if (dims == 1) {  // lift to 2-D with a height of 1
    x = x.unsqueeze(2);
    kernel.insert(kernel.begin(), 1);
    strides.insert(strides.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
  }
  const auto torch_pads = TorchPads(pads);
  const torch::Tensor padded = F::pad(x, F::PadFuncOptions(torch_pads).value(0.0));
  std::vector<int64_t> spatial = {1, 1};
  for (int64_t d = 2; d < x.dim(); ++d) spatial.push_back(x.size(d));
  const torch::Tensor ones = torch::ones(spatial, x.options());
  const torch::Tensor counted =
      F::pad(ones, F::PadFuncOptions(torch_pads).value(count_include_pad ? 1.0 : 0.0));
  torch::Tensor y = SumPool(padded, kernel, strides, ceil_mode) /
                    SumPool(counted, kernel, strides, ceil_mode);
  if (dims == 1) y = y.squeeze(2);
  ctx.Out(n, 0, y.scalar_type() == dtype ? y : y.to(dtype));
}

std::vector<int64_t> SpatialDims(const torch::Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

// The input of a global pooling node: [N, C, D1, ...].
const torch::Tensor& SpatialInput(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  if (x.dim() < 3) {
    Fail(ctx, n, fmt::format("expected an input of shape [N, C, D1, ...], got {}",
                             ShapeText(x.sizes())));
  }
  return x;
}

void GlobalAveragePool(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = SpatialInput(n, ctx);
  ctx.Out(n, 0, x.mean(SpatialDims(x), /*keepdim=*/true));
}

void GlobalMaxPool(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = SpatialInput(n, ctx);
  ctx.Out(n, 0, x.amax(SpatialDims(x), /*keepdim=*/true));
}

// ---------------------------------------------------------------- elementwise

// Before opset 7, binary operators broadcast only with broadcast=1, aligning B's
// dimensions with A's starting at `axis` (default: trailing alignment).
torch::Tensor LegacyBroadcast(const ExecContext& ctx, const Node& n, const torch::Tensor& a,
                              const torch::Tensor& b) {
  if (Opset(ctx) >= 7 || n.Int("broadcast", 0) == 0) return b;
  int64_t axis = n.Int("axis", a.dim() - b.dim());
  if (axis < 0) axis += a.dim();
  if (axis < 0 || axis + b.dim() > a.dim()) {
    Fail(ctx, n, fmt::format("axis {}: cannot align B {} with A {}", n.Int("axis", 0),
                             ShapeText(b.sizes()), ShapeText(a.sizes())));
  }
  std::vector<int64_t> shape = b.sizes().vec();
  shape.resize(static_cast<size_t>(a.dim() - axis), 1);
  return b.reshape(shape);
}

// Checks that two shapes broadcast (numpy rules) and returns the result shape.
std::vector<int64_t> BroadcastShape(const ExecContext& ctx, const Node& n, c10::IntArrayRef a,
                                    c10::IntArrayRef b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      Fail(ctx, n, fmt::format("shapes {} and {} do not broadcast", ShapeText(a), ShapeText(b)));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// The two inputs of a broadcasting binary operator, shapes checked.
std::pair<torch::Tensor, torch::Tensor> BinaryInputs(const Node& n, const ExecContext& ctx) {
  const torch::Tensor& a = ctx.In(n, 0);
  torch::Tensor b = LegacyBroadcast(ctx, n, a, ctx.In(n, 1));
  BroadcastShape(ctx, n, a.sizes(), b.sizes());
  return {a, b};
}

void Add(const Node& n, ExecContext& ctx) {
  const auto [a, b] = BinaryInputs(n, ctx);
  ctx.Out(n, 0, a + b);
}

void Sub(const Node& n, ExecContext& ctx) {
  const auto [a, b] = BinaryInputs(n, ctx);
  ctx.Out(n, 0, a - b);
}

void Mul(const Node& n, ExecContext& ctx) {
  const auto [a, b] = BinaryInputs(n, ctx);
  ctx.Out(n, 0, a * b);
}

void Div(const Node& n, ExecContext& ctx) {
  const auto [a, b] = BinaryInputs(n, ctx);
  // Integer division truncates, as in ONNX's integer Div.
  ctx.Out(n, 0, a.is_floating_point() || b.is_floating_point() ? a / b
                                                               : torch::div(a, b, "trunc"));
}

// Sum, Max, Min, Mean: variadic with broadcasting.
template <int kOp>
void Variadic(const Node& n, ExecContext& ctx) {
  if (n.inputs.empty()) Fail(ctx, n, "expected at least one input");
  torch::Tensor acc = ctx.In(n, 0);
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const torch::Tensor& x = ctx.In(n, i);
    BroadcastShape(ctx, n, acc.sizes(), x.sizes());
    switch (kOp) {
      case 0:
      case 3:
        acc = acc + x;
        break;
      case 1:
        acc = torch::maximum(acc, x);
        break;
      default:
        acc = torch::minimum(acc, x);
        break;
    }
  }
  if (kOp == 3) acc = acc / static_cast<double>(n.inputs.size());
  ctx.Out(n, 0, n.inputs.size() == 1 ? acc.clone() : acc);
}

void Relu(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, torch::relu(ctx.In(n, 0))); }

void LeakyRelu(const Node& n, ExecContext& ctx) {
  ctx.Out(n, 0, torch::leaky_relu(ctx.In(n, 0), n.Float("alpha", 0.01)));
}

void Sigmoid(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, torch::sigmoid(ctx.In(n, 0))); }

void HardSigmoid(const Node& n, ExecContext& ctx) {
  const double alpha = n.Float("alpha", 0.2), beta = n.Float("beta", 0.5);
  ctx.Out(n, 0, torch::clamp(ctx.In(n, 0) * alpha + beta, 0.0, 1.0));
}

void HardSwish(const Node& n, ExecContext& ctx) {
  // x * max(0, min(1, x / 6 + 1 / 2)), which is torch's hardswish.
  ctx.Out(n, 0, torch::hardswish(ctx.In(n, 0)));
}

void Tanh(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, torch::tanh(ctx.In(n, 0))); }
void Exp(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, torch::exp(ctx.In(n, 0))); }
void Neg(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, torch::neg(ctx.In(n, 0))); }
void Log(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, torch::log(ctx.In(n, 0))); }
void Sqrt(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, torch::sqrt(ctx.In(n, 0))); }

void Pow(const Node& n, ExecContext& ctx) {
  const auto [a, b] = BinaryInputs(n, ctx);
  // The result has the type of the base (ONNX Pow-12 and later).
  ctx.Out(n, 0, torch::pow(a, b).to(a.scalar_type()));
}

void Clip(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  c10::optional<torch::Scalar> lo, hi;
  if (Opset(ctx) < 11) {
    if (n.Has("min")) lo = n.Float("min", 0);
    if (n.Has("max")) hi = n.Float("max", 0);
  } else {
    for (size_t i = 1; i <= 2; ++i) {
      if (!ctx.HasIn(n, i)) continue;
      const torch::Tensor& bound = ctx.In(n, i);
      if (bound.numel() != 1) {
        Fail(ctx, n, fmt::format("input {} ({}): expected a scalar, got shape {}", i,
                                 i == 1 ? "min" : "max", ShapeText(bound.sizes())));
      }
      (i == 1 ? lo : hi) = bound.item();
    }
  }
  if (!lo && !hi) {
    ctx.Out(n, 0, x);
    return;
  }
  if (lo && hi && x.is_floating_point() && lo->toDouble() <= hi->toDouble()) {
    // Both bounds (ReLU6, as torch.onnx exports it): hardtanh, the same values as
    // clamp, trained as PyTorch trains nn.ReLU6 (gradient 1 strictly inside the
    // bounds), in one backward pass where clamp's takes four (ge, le, and, where:
    // over a third of a MobileNet-V2 training step). Feeding a quantizable layer
    // under a hook, the clamp is left to the layer's input quantizer, which does
    // both in one pass (LayerHook::ClampedInput).
    if (ctx.DeferClamp(n, x, lo->toDouble(), hi->toDouble())) return;
    ctx.Out(n, 0, torch::hardtanh(x, *lo, *hi));
    return;
  }
  ctx.Out(n, 0, torch::clamp(x, lo, hi));
}

void Dropout(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  // The ratio is an attribute before opset 12 and an optional input from then on.
  // Dropout is active when the network runs in training mode (the graph's own
  // training_mode input is superseded by the mode the caller chooses).
  double ratio = 0.5;
  if (Opset(ctx) < 12) {
    ratio = n.Float("ratio", 0.5);
  } else if (ctx.HasIn(n, 1)) {
    ratio = ctx.In(n, 1).item<double>();
  }
  if (ratio < 0.0 || ratio >= 1.0) {
    Fail(ctx, n, fmt::format("ratio {}: expected a value in [0, 1)", ratio));
  }
  const bool mask_wanted = n.outputs.size() > 1 && n.outputs[1] >= 0;
  // The mask is boolean from opset 10 on and of the input type before.
  const auto mask_type = Opset(ctx) >= 10 ? torch::kBool : x.scalar_type();
  if (!ctx.training() || ratio == 0.0) {
    ctx.Out(n, 0, x);
    if (mask_wanted) ctx.Out(n, 1, torch::ones(x.sizes(), x.options().dtype(mask_type)));
    return;
  }
  const torch::Tensor keep = torch::bernoulli(torch::full(x.sizes(), 1.0 - ratio, x.options()));
  ctx.Out(n, 0, x * keep / (1.0 - ratio));
  if (mask_wanted) ctx.Out(n, 1, keep.to(mask_type));
}

// Softmax and LogSoftmax: before opset 13 the input is coerced to 2-D at `axis`
// (default 1) and normalised over the flattened trailing part; from opset 13 the
// normalisation runs along `axis` (default -1).
template <bool kLog>
void SoftmaxKernel(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  const int64_t rank = std::max<int64_t>(x.dim(), 1);
  const auto apply = [](const torch::Tensor& t, int64_t dim) {
    return kLog ? torch::log_softmax(t, dim) : torch::softmax(t, dim);
  };
  if (Opset(ctx) < 13) {
    const int64_t axis = NormAxis(ctx, n, n.Int("axis", 1), rank, "axis");
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
    ctx.Out(n, 0, apply(x.reshape({outer, -1}), 1).reshape(x.sizes()));
  } else {
    ctx.Out(n, 0, apply(x, NormAxis(ctx, n, n.Int("axis", -1), rank, "axis")));
  }
}

// ---------------------------------------------------------------- shapes

void Flatten(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  int64_t axis = n.Int("axis", 1);
  if (axis < 0) axis += x.dim();
  if (axis < 0 || axis > x.dim()) {
    Fail(ctx, n, fmt::format("axis {} is out of range for a tensor of rank {}", n.Int("axis", 1),
                             x.dim()));
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) (d < axis ? outer : inner) *= x.size(d);
  ctx.Out(n, 0, x.reshape({outer, inner}));
}

void Reshape(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  // The target shape is an attribute before opset 5 and an input from then on.
  std::vector<int64_t> shape = Opset(ctx) < 5 ? n.Ints("shape") : IntsInput(ctx, n, 1);
  const bool allow_zero = n.Int("allowzero", 0) != 0;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allow_zero) {
      if (static_cast<int64_t>(i) >= x.dim()) {
        Fail(ctx, n, fmt::format("shape {}: 0 at position {} copies an input dimension, but the "
                                 "input {} has only {}",
                                 ShapeText(shape), i, ShapeText(x.sizes()), x.dim()));
      }
      shape[i] = x.size(static_cast<int64_t>(i));
    }
    if (shape[i] == -1) {
      if (infer >= 0) {
        Fail(ctx, n, fmt::format("shape {}: expected at most one -1", ShapeText(shape)));
      }
      infer = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      Fail(ctx, n, fmt::format("shape {}: expected sizes >= -1", ShapeText(shape)));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0) {
      Fail(ctx, n, fmt::format("cannot reshape {} ({} elements) to {}", ShapeText(x.sizes()),
                               x.numel(), ShapeText(shape)));
    }
    shape[static_cast<size_t>(infer)] = x.numel() / known;
  } else if (known != x.numel()) {
    Fail(ctx, n, fmt::format("cannot reshape {} ({} elements) to {} ({} elements)",
                             ShapeText(x.sizes()), x.numel(), ShapeText(shape), known));
  }
  ctx.Out(n, 0, x.reshape(shape));
}

void Transpose(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  std::vector<int64_t> perm(static_cast<size_t>(x.dim()));
  std::iota(perm.rbegin(), perm.rend(), 0);  // default: reverse the dimensions
  if (n.Has("perm")) perm = n.Ints("perm");
  std::vector<int64_t> sorted = perm;
  for (auto& p : sorted) p = p < 0 ? p + x.dim() : p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(static_cast<size_t>(x.dim()));
  std::iota(identity.begin(), identity.end(), 0);
  if (sorted != identity) {
    Fail(ctx, n, fmt::format("perm {}: expected a permutation of 0..{}", ShapeText(perm),
                             x.dim() - 1));
  }
  ctx.Out(n, 0, x.permute(perm));
}

// Index of output position i (in [-begin, size + end)) in an axis of `size` for the
// reflect and edge modes.
int64_t PadSource(int64_t i, int64_t size, bool reflect) {
  if (!reflect || size == 1) return std::clamp<int64_t>(i, 0, size - 1);
  const int64_t period = 2 * (size - 1);
  i %= period;
  if (i < 0) i += period;
  return i < size ? i : period - i;
}

void Pad(const Node& n, ExecContext& ctx) {
  torch::Tensor x = ctx.In(n, 0);
  const int64_t rank = x.dim();
  // pads and the constant value are attributes before opset 11 (pads is "paddings"
  // in opset 1), inputs from then on; opset 18 adds an optional axes input.
  std::vector<int64_t> pads;
  torch::Scalar value = 0.0;
  std::vector<int64_t> axes(static_cast<size_t>(rank));
  std::iota(axes.begin(), axes.end(), 0);
  if (Opset(ctx) < 11) {
    pads = n.Ints(Opset(ctx) < 2 ? "paddings" : "pads");
    value = n.Float("value", 0.0);
  } else {
    pads = IntsInput(ctx, n, 1);
    if (ctx.HasIn(n, 2)) value = ctx.In(n, 2).item();
    if (ctx.HasIn(n, 3)) {
      axes = IntsInput(ctx, n, 3);
      for (auto& a : axes) a = NormAxis(ctx, n, a, rank, "axes value");
    }
  }
  const std::string mode = n.String("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") {
    Fail(ctx, n, "mode: expected constant, reflect or edge, got '" + mode + "'");
  }
  const size_t k = axes.size();
  if (pads.size() != 2 * k) {
    Fail(ctx, n, fmt::format("pads: expected {} values (begin and end for {} axes), got {}",
                             2 * k, k, pads.size()));
  }
  std::vector<int64_t> begin(static_cast<size_t>(rank), 0), end(static_cast<size_t>(rank), 0);
  for (size_t i = 0; i < k; ++i) {
    begin[static_cast<size_t>(axes[i])] = pads[i];
    end[static_cast<size_t>(axes[i])] = pads[i + k];
  }
  // Negative pads crop.
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t b = begin[static_cast<size_t>(d)], e = end[static_cast<size_t>(d)];
    if (b < 0 || e < 0) {
      // (b, e >= -size first: -b or size + e would overflow for pads near INT64_MIN)
      const bool in_range = b >= -x.size(d) && e >= -x.size(d);
      const int64_t from = b < 0 && in_range ? -b : 0, to = x.size(d) + (e < 0 && in_range ? e : 0);
      if (!in_range || to < from) {
        Fail(ctx, n, fmt::format("pads crop axis {} of size {} below zero", d, x.size(d)));
      }
      x = x.slice(d, from, to);
    }
  }
  // Resource guard: pads come from the file. The padded tensor stays within
  // kMaxPadBytes (2^29 bytes: 2^27 float or 2^26 double values), so that it, the
  // copies reflect/edge make on the way and their index lists fit in memory together;
  // sums and products are overflow-checked.
  constexpr int64_t kMaxPadBytes = int64_t{1} << 29;
  int64_t padded_bytes = static_cast<int64_t>(x.element_size());
  for (int64_t d = 0; d < rank; ++d) {
    int64_t len = x.size(d);
    if (__builtin_add_overflow(len, std::max<int64_t>(0, begin[static_cast<size_t>(d)]), &len) ||
        __builtin_add_overflow(len, std::max<int64_t>(0, end[static_cast<size_t>(d)]), &len) ||
        __builtin_mul_overflow(padded_bytes, len, &padded_bytes) || padded_bytes > kMaxPadBytes) {
      Fail(ctx, n, fmt::format("pads {} on a {} {} input: expected an output of at most 2^29 "
                               "bytes",
                               ShapeText(pads), ShapeText(x.sizes()),
                               c10::toString(x.scalar_type())));
    }
  }
  if (mode == "constant") {
    std::vector<int64_t> torch_pads;
    for (int64_t d = rank; d-- > 0;) {
      torch_pads.push_back(std::max<int64_t>(0, begin[static_cast<size_t>(d)]));
      torch_pads.push_back(std::max<int64_t>(0, end[static_cast<size_t>(d)]));
    }
    ctx.Out(n, 0, torch::constant_pad_nd(x, torch_pads, value));
    return;
  }
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t b = std::max<int64_t>(0, begin[static_cast<size_t>(d)]);
    const int64_t e = std::max<int64_t>(0, end[static_cast<size_t>(d)]);
    if (b == 0 && e == 0) continue;
    const int64_t size = x.size(d);
    if (size == 0) Fail(ctx, n, fmt::format("cannot {}-pad the empty axis {}", mode, d));
    std::vector<int64_t> index;
    for (int64_t i = -b; i < size + e; ++i) index.push_back(PadSource(i, size, mode == "reflect"));
    x = x.index_select(d, torch::tensor(index, torch::kLong));
  }
  ctx.Out(n, 0, x);
}

void Concat(const Node& n, ExecContext& ctx) {
  if (!n.Has("axis")) Fail(ctx, n, "attribute 'axis' is required");
  std::vector<torch::Tensor> parts;
  for (size_t i = 0; i < n.inputs.size(); ++i) parts.push_back(ctx.In(n, i));
  if (parts.empty()) Fail(ctx, n, "expected at least one input");
  const int64_t rank = parts[0].dim();
  const int64_t axis = NormAxis(ctx, n, n.Int("axis", 0), rank, "axis");
  for (size_t i = 1; i < parts.size(); ++i) {
    bool ok = parts[i].dim() == rank;
    for (int64_t d = 0; ok && d < rank; ++d) ok = d == axis || parts[i].size(d) == parts[0].size(d);
    if (!ok) {
      Fail(ctx, n, fmt::format("input {} has shape {}, input 0 has {}; expected equal shapes "
                               "except along axis {}",
                               i, ShapeText(parts[i].sizes()), ShapeText(parts[0].sizes()), axis));
    }
  }
  ctx.Out(n, 0, torch::cat(parts, axis));
}

void Shape(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  const int64_t rank = x.dim();
  int64_t start = 0, end = rank;
  if (Opset(ctx) >= 15) {  // start/end, clamped to [0, rank]
    start = n.Int("start", 0);
    end = n.Int("end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, 0, rank);
  }
  std::vector<int64_t> dims;
  for (int64_t d = start; d < end; ++d) dims.push_back(x.size(d));
  ctx.Out(n, 0, torch::tensor(dims, torch::kLong));
}

void Gather(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  const torch::Tensor& indices = ctx.In(n, 1);
  if (indices.is_floating_point()) Fail(ctx, n, "indices: expected an integer tensor");
  const int64_t axis = NormAxis(ctx, n, n.Int("axis", 0), std::max<int64_t>(x.dim(), 1), "axis");
  const int64_t size = x.size(axis);
  torch::Tensor idx = indices.to(torch::kLong);
  idx = torch::where(idx < 0, idx + size, idx);
  if (idx.numel() > 0) {
    const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    if (lo < 0 || hi >= size) {
      Fail(ctx, n, fmt::format("indices: expected values in [{}, {}] for axis {} of size {}, got "
                               "{}",
                               -size, size - 1, axis, size, lo < 0 ? lo - size : hi));
    }
  }
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  shape.insert(shape.end(), idx.sizes().begin(), idx.sizes().end());
  shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
  ctx.Out(n, 0, x.index_select(axis, idx.reshape({-1})).reshape(shape));
}

void Unsqueeze(const Node& n, ExecContext& ctx) {
  torch::Tensor x = ctx.In(n, 0);
  // axes: an attribute before opset 13, an input from then on.
  const auto axes = AxesArg(ctx, n, 1, 13);
  if (!axes || axes->empty()) Fail(ctx, n, "axes: expected at least one axis");
  const int64_t out_rank = x.dim() + static_cast<int64_t>(axes->size());
  std::vector<int64_t> sorted;
  for (const int64_t a : *axes) sorted.push_back(NormAxis(ctx, n, a, out_rank, "axes value"));
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    Fail(ctx, n, fmt::format("axes {}: expected distinct axes", ShapeText(*axes)));
  }
  for (const int64_t a : sorted) x = x.unsqueeze(a);
  ctx.Out(n, 0, x);
}

void Squeeze(const Node& n, ExecContext& ctx) {
  torch::Tensor x = ctx.In(n, 0);
  // axes: an attribute before opset 13, an optional input from then on; absent
  // means every dimension of size 1.
  const auto axes = AxesArg(ctx, n, 1, 13);
  std::vector<int64_t> sorted;
  if (!axes || axes->empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) {
      if (x.size(d) == 1) sorted.push_back(d);
    }
  } else {
    for (const int64_t a : *axes) {
      const int64_t d = NormAxis(ctx, n, a, x.dim(), "axes value");
      if (x.size(d) != 1) {
        Fail(ctx, n, fmt::format("axis {} has size {}; expected 1 (input shape {})", a, x.size(d),
                                 ShapeText(x.sizes())));
      }
      sorted.push_back(d);
    }
  }
  std::sort(sorted.rbegin(), sorted.rend());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (const int64_t d : sorted) x = x.squeeze(d);
  ctx.Out(n, 0, x);
}

void Expand(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  const auto shape = IntsInput(ctx, n, 1);
  ctx.Out(n, 0, x.expand(BroadcastShape(ctx, n, x.sizes(), shape)).contiguous());
}

// Slice: starts/ends/axes as attributes before opset 10; starts, ends and optional
// axes and steps as inputs from then on. Out-of-range values are clamped.
void Slice(const Node& n, ExecContext& ctx) {
  torch::Tensor x = ctx.In(n, 0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (Opset(ctx) < 10) {
    starts = n.Ints("starts");
    ends = n.Ints("ends");
    axes = n.Ints("axes");
  } else {
    starts = IntsInput(ctx, n, 1);
    ends = IntsInput(ctx, n, 2);
    if (ctx.HasIn(n, 3)) axes = IntsInput(ctx, n, 3);
    if (ctx.HasIn(n, 4)) steps = IntsInput(ctx, n, 4);
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    Fail(ctx, n, fmt::format("starts, ends, axes and steps have {}, {}, {} and {} values; "
                             "expected equal counts",
                             starts.size(), ends.size(), axes.size(), steps.size()));
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t d = NormAxis(ctx, n, axes[i], x.dim(), "axes value");
    const int64_t size = x.size(d), step = steps[i];
    if (step == 0) Fail(ctx, n, "steps: expected non-zero values");
    int64_t start = starts[i] < 0 ? starts[i] + size : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + size : ends[i];
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, size);
      end = std::clamp<int64_t>(end, 0, size);
      x = x.slice(d, start, std::max(start, end), step);
    } else {
      start = std::clamp<int64_t>(start, 0, size - 1);
      end = std::clamp<int64_t>(end, -1, size - 1);
      std::vector<int64_t> index;
      for (int64_t j = start; j > end; j += step) index.push_back(j);
      x = x.index_select(d, torch::tensor(index, torch::kLong));
    }
  }
  ctx.Out(n, 0, x);
}

// ---------------------------------------------------------------- constants, types

void Constant(const Node& n, ExecContext& ctx) {
  if (n.Has("value")) {
    ctx.Out(n, 0, n.TensorAttr("value"));
  } else if (n.Has("value_float")) {
    ctx.Out(n, 0, torch::scalar_tensor(n.Float("value_float", 0), torch::kFloat));
  } else if (n.Has("value_floats")) {
    ctx.Out(n, 0, torch::tensor(n.Floats("value_floats"), torch::kDouble).to(torch::kFloat));
  } else if (n.Has("value_int")) {
    ctx.Out(n, 0, torch::scalar_tensor(n.Int("value_int", 0), torch::kLong));
  } else if (n.Has("value_ints")) {
    ctx.Out(n, 0, torch::tensor(n.Ints("value_ints"), torch::kLong));
  } else {
    Fail(ctx, n, "expected one of the attributes value, value_float, value_floats, value_int or "
                 "value_ints");
  }
}

void ConstantOfShape(const Node& n, ExecContext& ctx) {
  const auto shape = IntsInput(ctx, n, 0);
  for (const int64_t d : shape) {
    if (d < 0) Fail(ctx, n, fmt::format("shape {}: expected sizes >= 0", ShapeText(shape)));
  }
  if (!n.Has("value")) {
    ctx.Out(n, 0, torch::zeros(shape, torch::kFloat));
    return;
  }
  const torch::Tensor& v = n.TensorAttr("value");
  if (v.numel() != 1) {
    Fail(ctx, n, fmt::format("value: expected a one-element tensor, got shape {}",
                             ShapeText(v.sizes())));
  }
  ctx.Out(n, 0, torch::full(shape, v.reshape({-1})[0].item(), v.options()));
}

void Identity(const Node& n, ExecContext& ctx) { ctx.Out(n, 0, ctx.In(n, 0)); }

void Cast(const Node& n, ExecContext& ctx) {
  // TensorProto.DataType codes.
  static const std::map<int64_t, torch::ScalarType> types = {
      {1, torch::kFloat}, {2, torch::kByte},  {3, torch::kChar},  {5, torch::kShort},
      {6, torch::kInt},   {7, torch::kLong},  {9, torch::kBool},  {10, torch::kHalf},
      {11, torch::kDouble}};
  const int64_t to = n.Int("to", -1);
  const auto it = types.find(to);
  if (it == types.end()) {
    Fail(ctx, n, fmt::format("to: data type {} is not supported; expected FLOAT (1), UINT8 (2), "
                             "INT8 (3), INT16 (5), INT32 (6), INT64 (7), BOOL (9), FLOAT16 (10) "
                             "or DOUBLE (11)",
                             to));
  }
  ctx.Out(n, 0, ctx.In(n, 0).to(it->second));
}

// ReduceMean/ReduceSum/ReduceMax. `axes_input_opset`: the opset from which the axes
// are an input instead of an attribute.
template <int kOp>
void Reduce(const Node& n, ExecContext& ctx) {
  const torch::Tensor& x = ctx.In(n, 0);
  const int64_t axes_input_opset = kOp == 1 ? 13 : 18;
  const auto axes = AxesArg(ctx, n, 1, axes_input_opset);
  const bool keepdims = n.Int("keepdims", 1) != 0;
  std::vector<int64_t> dims;
  if (!axes || axes->empty()) {
    if (n.Int("noop_with_empty_axes", 0) != 0) {
      ctx.Out(n, 0, x);
      return;
    }
    for (int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
  } else {
    for (const int64_t a : *axes) dims.push_back(NormAxis(ctx, n, a, x.dim(), "axes value"));
  }
  torch::Tensor y;
  if (dims.empty()) {
    y = x.clone();  // a 0-D input reduces to itself
  } else if (kOp == 0) {
    if (!x.is_floating_point()) Fail(ctx, n, "expected a floating-point input");
    y = x.mean(dims, keepdims);
  } else if (kOp == 1) {
    y = x.sum(dims, keepdims).to(x.scalar_type());
  } else {
    y = x.amax(dims, keepdims);
  }
  ctx.Out(n, 0, y);
}

const std::map<std::string, Kernel>& Registry() {
  static const std::map<std::string, Kernel> kernels = {
      {"Add", Add},
      {"AveragePool", AveragePool},
      {"BatchNormalization", BatchNormalization},
      {"Cast", Cast},
      {"Clip", Clip},
      {"Concat", Concat},
      {"Constant", Constant},
      {"ConstantOfShape", ConstantOfShape},
      {"Conv", Conv},
      {"Div", Div},
      {"Dropout", Dropout},
      {"Exp", Exp},
      {"Expand", Expand},
      {"Flatten", Flatten},
      {"Gather", Gather},
      {"Gemm", Gemm},
      {"GlobalAveragePool", GlobalAveragePool},
      {"GlobalMaxPool", GlobalMaxPool},
      {"HardSigmoid", HardSigmoid},
      {"HardSwish", HardSwish},
      {"Identity", Identity},
      {"LeakyRelu", LeakyRelu},
      {"Log", Log},
      {"LogSoftmax", SoftmaxKernel<true>},
      {"MatMul", MatMul},
      {"Max", Variadic<1>},
      {"MaxPool", MaxPool},
      {"Mean", Variadic<3>},
      {"Min", Variadic<2>},
      {"Mul", Mul},
      {"Neg", Neg},
      {"Pad", Pad},
      {"Pow", Pow},
      {"ReduceMax", Reduce<2>},
      {"ReduceMean", Reduce<0>},
      {"ReduceSum", Reduce<1>},
      {"Relu", Relu},
      {"Reshape", Reshape},
      {"Shape", Shape},
      {"Sigmoid", Sigmoid},
      {"Slice", Slice},
      {"Softmax", SoftmaxKernel<false>},
      {"Sqrt", Sqrt},
      {"Squeeze", Squeeze},
      {"Sub", Sub},
      {"Sum", Variadic<0>},
      {"Tanh", Tanh},
      {"Transpose", Transpose},
      {"Unsqueeze", Unsqueeze},
  };
  return kernels;
}

}  // namespace

Kernel LookupKernel(const std::string& op_type) {
  const auto& r = Registry();
  const auto it = r.find(op_type);
  return it == r.end() ? nullptr : it->second;
}

std::vector<std::string> SupportedOperators() {
  std::vector<std::string> names;
  for (const auto& [name, k] : Registry()) names.push_back(name);
  return names;
}

}  // namespace haq::graph
