// The fused fake quantization (quant/fake_quant_kernels.h behind LinearQuantize and
// LinearQuantizePerChannel) against LinearQuantizeComposite, ATen's operators on
// the same definition (clamp, divide, round half to even, multiply, and the
// straight-through sum: what LinearQuantize computed before the kernels, and
// autograd's gradient of clamp), bit for bit, forward and backward:
// bits 1..8, signed and unsigned, per tensor and per channel, clip <= 0, values at
// the bounds, beside them and on rounding ties, tails shorter than a vector,
// tensors split over threads, channels-last layouts, and the scalar and AVX2 paths.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <cstring>
#include <random>
#include <vector>

#include "quant/fake_quant_kernels.h"
#include "quant/quantizers.h"
#include "util/error.h"

namespace haq::quant {
namespace {

/// Equal bit for bit (so +0 and -0 differ, and NaNs must match).
bool SameBits(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const torch::Tensor ca = a.detach().contiguous(), cb = b.detach().contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), static_cast<size_t>(ca.nbytes())) == 0;
}

/// n values around the quantizer of (clip, bits, signed): normal draws over twice
/// the range, then the bounds, the floats beside them, zeros of both signs, and
/// every rounding tie (k + 1/2) * step with its neighbours.
torch::Tensor Probe(int64_t n, double clip, int bits, bool is_signed, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(std::max(clip, 0.5)));
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = 2.0f * normal(rng);
  std::vector<float> special = {0.0f, -0.0f};
  const auto c = static_cast<float>(clip);
  for (float b : {c, -c}) {
    special.insert(special.end(), {b, std::nextafter(b, 0.0f), std::nextafter(b, 2 * b + 1)});
  }
  const auto step = static_cast<float>(LinearScale(clip, bits, is_signed));
  for (int k = -(1 << bits); k <= (1 << bits) && step > 0; ++k) {
    const float tie = (static_cast<float>(k) + 0.5f) * step;
    special.insert(special.end(), {tie, std::nextafter(tie, -1e9f), std::nextafter(tie, 1e9f)});
  }
  for (size_t i = 0; i < special.size() && i < v.size(); ++i) v[i * 7 % v.size()] = special[i];
  return torch::tensor(v, torch::kFloat);
}

const std::vector<double> kClips = {1.0, 0.1, 2.5, 1e-3, 0.0, -1.0};

TEST(FakeQuantTest, ValuesAndGradientsEqualTheCompositeBitForBit) {
  // 1,001 elements: a tail shorter than a vector; 200,003: pieces on several threads.
  for (const int64_t n : {int64_t{1001}, int64_t{200003}}) {
    for (int bits = 1; bits <= 8; ++bits) {
      for (const bool is_signed : {true, false}) {
        for (const double clip : kClips) {
          const std::string where = "n " + std::to_string(n) + ", bits " + std::to_string(bits) +
                                    (is_signed ? " signed" : " unsigned") + ", clip " + std::to_string(clip);
          const torch::Tensor values = Probe(n, clip, bits, is_signed, static_cast<uint64_t>(bits * 31 + n));
          const torch::Tensor x = values.clone().requires_grad_(true);
          const torch::Tensor xr = values.clone().requires_grad_(true);
          const torch::Tensor q = LinearQuantize(x, clip, bits, is_signed);
          const torch::Tensor r = LinearQuantizeComposite(xr, clip, bits, is_signed);
          ASSERT_TRUE(SameBits(q, r)) << where;
          // Without autograd the value is the same.
          ASSERT_TRUE(SameBits(LinearQuantize(values, clip, bits, is_signed), r)) << where;
          const torch::Tensor g = torch::randn({n}, torch::TensorOptions().dtype(torch::kFloat));
          (q * g).sum().backward();
          (r * g).sum().backward();
          ASSERT_TRUE(SameBits(x.grad(), xr.grad())) << where;
        }
      }
    }
  }
}

TEST(FakeQuantTest, PerChannelEqualsEachSliceQuantizedAloneWithBoundsIncluded) {
  // Slices with their own clips (one 0, one negative: all zeros there), along the
  // output axis of a conv weight, the input axis of a linear one, and a conv weight
  // in channels-last memory; the gradient is 1 inside each slice's range, its
  // bounds included (a per-channel clip is the slice's maximum, so they are hit).
  torch::manual_seed(5);
  for (int bits = 1; bits <= 8; ++bits) {
    struct Case {
      torch::Tensor w;
      int64_t axis;
    };
    std::vector<Case> cases = {{torch::randn({6, 3, 3, 3}), 0},
                               {torch::randn({5, 7}), 1},
                               {torch::randn({6, 4, 3, 3}).contiguous(torch::MemoryFormat::ChannelsLast), 0}};
    for (Case& c : cases) {
      const int64_t slices = c.w.size(c.axis);
      std::vector<double> clips;
      for (int64_t j = 0; j < slices; ++j) {
        clips.push_back(c.w.select(c.axis, j).abs().max().item<double>() * (j % 3 == 2 ? 0.5 : 1.0));
      }
      clips[1] = 0.0;
      clips[2] = -0.25;
      const torch::Tensor x = c.w.clone().requires_grad_(true);
      const torch::Tensor q = LinearQuantizePerChannel(x, clips, c.axis, bits);
      EXPECT_EQ(q.strides(), x.strides()) << "bits " << bits;
      const torch::Tensor g = torch::randn(c.w.sizes());
      (q * g).sum().backward();
      for (int64_t j = 0; j < slices; ++j) {
        const torch::Tensor xs = c.w.select(c.axis, j).clone().requires_grad_(true);
        const torch::Tensor r = LinearQuantizeComposite(xs, clips[static_cast<size_t>(j)], bits, true);
        (r * g.select(c.axis, j)).sum().backward();
        EXPECT_TRUE(SameBits(q.select(c.axis, j), r)) << "bits " << bits << ", slice " << j;
        EXPECT_TRUE(SameBits(x.grad().select(c.axis, j), xs.grad())) << "bits " << bits << ", slice " << j;
      }
    }
  }
}

TEST(FakeQuantTest, ChannelsLastAndDoubleInputsKeepTheirLayoutAndType) {
  torch::manual_seed(7);
  const torch::Tensor a = torch::randn({4, 8, 5, 5}) * 2;
  const torch::Tensor cl = a.contiguous(torch::MemoryFormat::ChannelsLast).requires_grad_(true);
  const torch::Tensor nchw = a.clone().requires_grad_(true);
  const torch::Tensor q = LinearQuantize(cl, 1.5, 4, false);
  EXPECT_TRUE(q.is_contiguous(torch::MemoryFormat::ChannelsLast));
  const torch::Tensor p = LinearQuantize(nchw, 1.5, 4, false);
  EXPECT_TRUE(SameBits(q, p));
  // An expanded incoming gradient (from sum) and a permuted one.
  q.sum().backward();
  (p * torch::ones_like(p).contiguous(torch::MemoryFormat::ChannelsLast)).sum().backward();
  EXPECT_TRUE(SameBits(cl.grad(), nchw.grad()));
  // Double is computed in float32.
  const torch::Tensor d = LinearQuantize(a.to(torch::kDouble), 1.5, 4, true);
  EXPECT_EQ(d.scalar_type(), torch::kDouble);
  EXPECT_TRUE(SameBits(d.to(torch::kFloat), LinearQuantize(a, 1.5, 4, true)));
}

TEST(FakeQuantTest, AClampFusedInEqualsHardtanhThenTheCompositeBitForBit) {
  // ReLU6's [0, 6] before unsigned and signed quantizers whose clip lies inside,
  // on and beyond its upper bound; a narrow clamp; a two-sided one; lo == hi.
  const std::vector<std::pair<double, double>> clamps = {{0.0, 6.0}, {0.0, 0.3}, {-1.0, 1.0}, {0.5, 0.5}};
  const std::vector<double> clips = {6.0, 8.0, 2.5, 0.1, 0.0};
  for (const int64_t n : {int64_t{1001}, int64_t{200003}}) {
    for (int bits = 1; bits <= 8; ++bits) {
      for (const bool is_signed : {true, false}) {
        for (const double clip : clips) {
          for (const auto& [lo, hi] : clamps) {
            SCOPED_TRACE(testing::Message() << "n " << n << " bits " << bits << " signed " << is_signed
                                            << " clip " << clip << " clamp [" << lo << ", " << hi << "]");
            torch::Tensor x = Probe(n, std::max(clip, hi), bits, is_signed, 17 + static_cast<uint64_t>(bits));
            // The clamp's bounds, the floats beside them, and zeros of both signs.
            const std::vector<float> at_bounds = {
                static_cast<float>(lo), std::nextafter(static_cast<float>(lo), -1e9f),
                std::nextafter(static_cast<float>(lo), 1e9f), static_cast<float>(hi),
                std::nextafter(static_cast<float>(hi), -1e9f), std::nextafter(static_cast<float>(hi), 1e9f),
                0.0f, -0.0f};
            for (size_t i = 0; i < at_bounds.size(); ++i) x[static_cast<int64_t>(100 + i)] = at_bounds[i];
            const torch::Tensor a = x.clone().set_requires_grad(true);
            const torch::Tensor b = x.clone().set_requires_grad(true);
            const torch::Tensor fused = ClampThenLinearQuantize(a, lo, hi, clip, bits, is_signed);
            const torch::Tensor composite =
                LinearQuantizeComposite(torch::hardtanh(b, lo, hi), clip, bits, is_signed);
            EXPECT_TRUE(SameBits(fused, composite));
            const torch::Tensor g = torch::randn_like(x);
            fused.backward(g);
            composite.backward(g);
            EXPECT_TRUE(SameBits(a.grad(), b.grad()));
          }
        }
      }
    }
  }
  // Channels-last activations, as the fine-tune runs them.
  const torch::Tensor cl = (3 * torch::randn({4, 16, 5, 5}))
                               .contiguous(torch::MemoryFormat::ChannelsLast)
                               .set_requires_grad(true);
  const torch::Tensor nchw = cl.detach().contiguous().set_requires_grad(true);
  const torch::Tensor q = ClampThenLinearQuantize(cl, 0.0, 6.0, 4.0, 4, false);
  EXPECT_TRUE(q.is_contiguous(torch::MemoryFormat::ChannelsLast));
  const torch::Tensor r = LinearQuantizeComposite(torch::hardtanh(nchw, 0.0, 6.0), 4.0, 4, false);
  EXPECT_TRUE(SameBits(q, r));
  (q * torch::arange(q.numel()).reshape(q.sizes())).sum().backward();
  (r * torch::arange(r.numel()).reshape(r.sizes())).sum().backward();
  EXPECT_TRUE(SameBits(cl.grad(), nchw.grad()));
}

TEST(FakeQuantTest, AClampFusedInRefusesBadBounds) {
  const torch::Tensor x = torch::zeros({3});
  EXPECT_THROW(ClampThenLinearQuantize(x, 1.0, 0.0, 1.0, 4, false), util::InputError);
  EXPECT_THROW(ClampThenLinearQuantize(x, 0.0, std::nan(""), 1.0, 4, false), util::InputError);
  EXPECT_THROW(ClampThenLinearQuantize(x, 0.0, 6.0, 1.0, 9, false), util::InputError);
}

TEST(FakeQuantTest, ScalarAndAvx2PathsGiveTheSameBits) {
  // Every x86-64 CPU this project targets has AVX2; a CPU without it runs (and
  // is tested on) the scalar path alone, which the tests above cover.
  const bool avx2 = KernelPathSupported(KernelPath::kAvx2);
  const char* cap = std::getenv("ATEN_CPU_CAPABILITY");
  EXPECT_EQ(BestKernelPath() == KernelPath::kAvx2, avx2 && !(cap != nullptr && std::string(cap) == "default"));
  if (!avx2) return;
  for (int bits = 1; bits <= 8; ++bits) {
    for (const bool is_signed : {true, false}) {
      for (const double clip : kClips) {
        const FakeQuantParams p = FakeQuantParamsOf(clip, bits, is_signed);
        torch::Tensor x = Probe(1003, clip, bits, is_signed, 11);
        x[5] = std::numeric_limits<float>::quiet_NaN();
        x[6] = std::numeric_limits<float>::infinity();
        x[7] = -std::numeric_limits<float>::infinity();
        const torch::Tensor g = torch::randn({1003});
        torch::Tensor ys = torch::empty_like(x), ya = torch::empty_like(x);
        torch::Tensor gs = torch::empty_like(x), ga = torch::empty_like(x);
        const float* xp = x.data_ptr<float>();
        // Both paths on x under `q`: the same values and the same gradients.
        const auto both_paths = [&](const FakeQuantParams& q, const char* what) {
          FakeQuantForward(KernelPath::kScalar, q, xp, ys.data_ptr<float>(), x.numel());
          FakeQuantForward(KernelPath::kAvx2, q, xp, ya.data_ptr<float>(), x.numel());
          FakeQuantBackward(KernelPath::kScalar, q, xp, g.data_ptr<float>(), gs.data_ptr<float>(), x.numel());
          FakeQuantBackward(KernelPath::kAvx2, q, xp, g.data_ptr<float>(), ga.data_ptr<float>(), x.numel());
          EXPECT_TRUE(SameBits(ys, ya)) << what << "bits " << bits << " signed " << is_signed << " clip " << clip;
          EXPECT_TRUE(SameBits(gs, ga)) << what << "bits " << bits << " signed " << is_signed << " clip " << clip;
        };
        both_paths(p, "");
        EXPECT_TRUE(std::isnan(ys[5].item<float>()));
        EXPECT_EQ(gs[5].item<float>(), 0.0f);
        // With a clamp in front (ReLU6's), on the clamp's bounds and beside them too.
        FakeQuantParams c = p;
        c.pre_lo = 0.0f;
        c.pre_hi = 0.75f;
        x[8] = 0.75f;
        x[9] = std::nextafter(0.75f, 1.0f);
        x[10] = std::nextafter(0.75f, 0.0f);
        x[11] = std::nextafter(0.0f, -1.0f);
        both_paths(c, "clamped: ");
      }
    }
  }
}

}  // namespace
}  // namespace haq::quant
