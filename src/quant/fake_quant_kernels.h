#pragma once
/// The fused fake-quantization kernels behind LinearQuantize and
/// LinearQuantizePerChannel (quantizers.h): one pass over a float32 array computes
/// the quantized values, one pass the straight-through gradient, where ATen's
/// composite of clamp, divide, round, multiply and the straight-through sum took
/// about six. Torch-free (the callers split the work over threads) and exact: every
/// path gives the same bits as LinearQuantize's definition evaluated in float32
/// (IEEE division, rounding half to even, multiplication; no reciprocal, no FMA).
#include <cstdint>
#include <limits>

namespace haq::quant {

/// A linear quantizer in float32, optionally after a clamp to [pre_lo, pre_hi] (an
/// activation such as ReLU6 fused into the quantizer of the layer it feeds):
/// v = min(max(x, pre_lo), pre_hi) (the identity for the infinite defaults;
/// NaN stays NaN), c = min(max(v, lo), hi); the value is
/// round(c / scale) * scale (half to even), or for `binary` (signed 1 bit)
/// c >= 0 ? hi : -hi; then + (c - c), which is +0 for finite x (so a quantized
/// -0 becomes +0, as LinearQuantize's straight-through sum made it) and NaN for
/// NaN. clip <= 0 is lo = hi = 0, scale 1: all +0. LinearQuantize's parameters:
/// quant::FakeQuantParamsOf (quantizers.h).
struct FakeQuantParams {
  float lo = 0;
  float hi = 0;
  float scale = 1;
  bool binary = false;
  float pre_lo = -std::numeric_limits<float>::infinity();
  float pre_hi = std::numeric_limits<float>::infinity();
};

/// Which implementation runs: portable C++, or AVX2 intrinsics.
enum class KernelPath { kScalar, kAvx2 };

/// Whether this CPU can run `path`.
bool KernelPathSupported(KernelPath path);

/// AVX2 when the CPU has it and ATEN_CPU_CAPABILITY is not "default" (the setting
/// that asks ATen for its portable kernels asks for ours too); else kScalar.
KernelPath BestKernelPath();

/// y[i] = the quantized x[i], i in [0, n); y may be x. `path` must be supported.
void FakeQuantForward(KernelPath path, const FakeQuantParams& p, const float* x, float* y, int64_t n);

/// The straight-through gradient: gx[i] = (pre_lo < x[i] < pre_hi and
/// lo <= x[i] <= hi) ? g[i] : +0 (NaN x gives 0), i in [0, n); gx may be g. That
/// is the clamp's gradient as PyTorch's hardtanh (nn.ReLU6) defines it, strictly
/// inside its bounds, times the quantizer's, bounds included; the clamp is the
/// identity wherever both are 1.
void FakeQuantBackward(KernelPath path, const FakeQuantParams& p, const float* x, const float* g, float* gx,
                       int64_t n);

}  // namespace haq::quant
