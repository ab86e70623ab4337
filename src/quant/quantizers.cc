#include "quant/quantizers.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "util/error.h"

namespace haq::quant {
namespace {

constexpr int kMinBits = 1;
constexpr int kMaxBits = 8;
constexpr int64_t kInitSampleLimit = int64_t{1} << 20;
constexpr double kKlZeroFloor = 1e-10;

void CheckBits(int bits) {
  if (bits < kMinBits || bits > kMaxBits) {
    throw util::InputError(
        fmt::format("bits: expected an integer in {}..{}, got {}", kMinBits, kMaxBits, bits));
  }
}

std::string ShapeString(c10::IntArrayRef sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(sizes[i]);
  }
  out += "]";
  return out;
}

void CheckFloatTensor(const torch::Tensor& x, const char* name) {
  if (!x.defined()) {
    throw util::InputError(fmt::format("{}: expected a defined tensor, got an undefined one", name));
  }
  if (!x.is_floating_point()) {
    throw util::InputError(fmt::format("{}: expected a floating-point tensor, got {}", name,
                                       c10::toString(x.scalar_type())));
  }
}

void CheckNonEmpty(const torch::Tensor& x, const char* name) {
  CheckFloatTensor(x, name);
  if (x.numel() == 0) {
    throw util::InputError(
        fmt::format("{}: expected a non-empty tensor, got 0 elements (shape {})", name,
                    ShapeString(x.sizes())));
  }
}

/// "nan", "inf" or "-inf" (fmt prints a negative NaN as "-nan").
std::string NonFinite(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

/// The values of x as a contiguous CPU float vector; throws on non-finite values.
std::vector<float> FiniteValues(const torch::Tensor& x, const char* name) {
  torch::Tensor flat = x.detach().to(torch::kCPU, torch::kFloat).contiguous().view(-1);
  std::vector<float> values(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  for (float v : values) {
    if (!std::isfinite(v)) {
      throw util::InputError(
          fmt::format("{}: expected finite values, got {}", name, NonFinite(v)));
    }
  }
  return values;
}

/// A uniform double in [0, 1) from the top 53 bits of one draw.
double UnitDraw(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

double LinearScale(double clip, int bits, bool is_signed) {
  CheckBits(bits);
  if (!(clip > 0)) return 0.0;
  if (is_signed) {
    if (bits == 1) return 2.0 * clip;
    return clip / (std::ldexp(1.0, bits - 1) - 1.0);
  }
  return clip / (std::ldexp(1.0, bits) - 1.0);
}

namespace {

// Elements per task of the fused kernels (enough to amortise a thread's start).
constexpr int64_t kFakeQuantGrain = int64_t{1} << 15;

/// The fused fake quantization of a dense float32 tensor whose `blocks` equal
/// slices along its outermost dimension in memory (1 for a per-tensor quantizer,
/// the channels for a per-channel one) each use their own parameters. Forward: one
/// kernel pass into a tensor of x's strides; backward: one pass applying the
/// straight-through mask (lo <= x <= hi) to the incoming gradient.
class FakeQuantFunction : public torch::autograd::Function<FakeQuantFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const std::vector<FakeQuantParams>& params) {
    torch::Tensor y = torch::empty_like(x);
    Run(x, params, [&](const FakeQuantParams& p, int64_t at, int64_t n) {
      FakeQuantForward(BestKernelPath(), p, x.data_ptr<float>() + at, y.data_ptr<float>() + at, n);
    });
    ctx->save_for_backward({x});
    std::vector<double> lo, hi;  // floats, exactly
    for (const FakeQuantParams& p : params) {
      lo.push_back(p.lo);
      hi.push_back(p.hi);
    }
    ctx->saved_data["lo"] = lo;
    ctx->saved_data["hi"] = hi;
    // One activation clamp for the whole tensor (FakeQuantize's contract).
    ctx->saved_data["pre_lo"] = static_cast<double>(params[0].pre_lo);
    ctx->saved_data["pre_hi"] = static_cast<double>(params[0].pre_hi);
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    const std::vector<double> lo = ctx->saved_data["lo"].toDoubleVector();
    const std::vector<double> hi = ctx->saved_data["hi"].toDoubleVector();
    std::vector<FakeQuantParams> params(lo.size());
    for (size_t j = 0; j < lo.size(); ++j) {
      params[j].lo = static_cast<float>(lo[j]);
      params[j].hi = static_cast<float>(hi[j]);
      params[j].pre_lo = static_cast<float>(ctx->saved_data["pre_lo"].toDouble());
      params[j].pre_hi = static_cast<float>(ctx->saved_data["pre_hi"].toDouble());
    }
    // The incoming gradient read in x's memory layout (copied into it only when it
    // has another one, such as an expanded scalar's), so all three walk in step.
    torch::Tensor g = grads[0];
    if (g.strides() != x.strides() || !g.is_non_overlapping_and_dense() || g.scalar_type() != torch::kFloat) {
      g = torch::empty_like(x).copy_(g);
    }
    torch::Tensor gx = torch::empty_like(x);
    Run(x, params, [&](const FakeQuantParams& p, int64_t at, int64_t n) {
      FakeQuantBackward(BestKernelPath(), p, x.data_ptr<float>() + at, g.data_ptr<float>() + at,
                        gx.data_ptr<float>() + at, n);
    });
    return {gx, torch::Tensor()};
  }

 private:
  /// Calls kernel(params of the block, first element, count) over x's memory in
  /// pieces of at most kFakeQuantGrain elements, on LibTorch's intra-op threads.
  template <typename Kernel>
  static void Run(const torch::Tensor& x, const std::vector<FakeQuantParams>& params, const Kernel& kernel) {
    const int64_t n = x.numel();
    const auto blocks = static_cast<int64_t>(params.size());
    if (n == 0) return;
    const int64_t per_block = n / blocks;
    const int64_t pieces_per_block = (per_block + kFakeQuantGrain - 1) / kFakeQuantGrain;
    at::parallel_for(0, blocks * pieces_per_block, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t block = t / pieces_per_block, piece = t % pieces_per_block;
        const int64_t begin = piece * kFakeQuantGrain;
        const int64_t count = std::min(kFakeQuantGrain, per_block - begin);
        kernel(params[static_cast<size_t>(block)], block * per_block + begin, count);
      }
    });
  }
};

/// x in float32, dense, with each of `blocks` slices along `axis` one contiguous
/// piece of memory (axis outermost), quantized with one parameter set per slice;
/// other layouts are copied to such a one and back to x's memory format (autograd
/// follows the copies).
torch::Tensor FusedFakeQuantize(const torch::Tensor& x, const std::vector<FakeQuantParams>& params, int64_t axis) {
  if (x.scalar_type() != torch::kFloat) {
    return FusedFakeQuantize(x.to(torch::kFloat), params, axis).to(x.scalar_type());
  }
  const bool per_tensor = params.size() == 1;
  const bool dense = x.is_non_overlapping_and_dense();
  if (!dense || (!per_tensor && x.stride(axis) * x.size(axis) != x.numel())) {
    const torch::Tensor moved = per_tensor ? x.contiguous() : x.movedim(axis, 0).contiguous();
    const torch::Tensor q = FusedFakeQuantize(moved, params, 0);
    return per_tensor ? q : q.movedim(0, axis).contiguous(x.suggest_memory_format());
  }
  return FakeQuantFunction::apply(x, params);
}

}  // namespace

FakeQuantParams FakeQuantParamsOf(double clip, int bits, bool is_signed) {
  FakeQuantParams p;
  p.scale = static_cast<float>(LinearScale(clip, bits, is_signed));  // checks bits
  if (!(clip > 0)) {
    p.scale = 1.0f;  // all values clamp to 0
    return p;
  }
  p.hi = static_cast<float>(clip);
  p.lo = is_signed ? -p.hi : 0.0f;
  p.binary = is_signed && bits == 1;
  return p;
}

namespace {

// LinearQuantize's parameters after checking its arguments.
FakeQuantParams CheckedLinearParams(const torch::Tensor& x, double clip, int bits, bool is_signed) {
  CheckBits(bits);
  CheckFloatTensor(x, "x");
  if (!std::isfinite(clip)) {
    throw util::InputError(fmt::format("clip: expected a finite number, got {}", NonFinite(clip)));
  }
  return FakeQuantParamsOf(clip, bits, is_signed);
}

}  // namespace

torch::Tensor LinearQuantize(const torch::Tensor& x, double clip, int bits, bool is_signed) {
  return FusedFakeQuantize(x, {CheckedLinearParams(x, clip, bits, is_signed)}, 0);
}

torch::Tensor ClampThenLinearQuantize(const torch::Tensor& x, double lo, double hi, double clip, int bits,
                                      bool is_signed) {
  FakeQuantParams p = CheckedLinearParams(x, clip, bits, is_signed);
  if (std::isnan(lo) || std::isnan(hi) || lo > hi) {
    throw util::InputError(fmt::format("clamp bounds: expected lo <= hi, got [{}, {}]", lo, hi));
  }
  p.pre_lo = static_cast<float>(lo);  // as hardtanh rounds its bounds for float32
  p.pre_hi = static_cast<float>(hi);
  return FusedFakeQuantize(x, {p}, 0);
}

torch::Tensor LinearQuantizeComposite(const torch::Tensor& x, double clip, int bits, bool is_signed) {
  if (!(clip > 0)) {
    const torch::Tensor clamped = x.clamp(0.0, 0.0);
    return torch::zeros_like(x) + (clamped - clamped.detach());
  }
  const torch::Tensor clamped = x.clamp(is_signed ? -clip : 0.0, clip);
  torch::Tensor q;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor c = clamped.detach();
    if (is_signed && bits == 1) {
      q = torch::where(c >= 0, torch::full_like(c, clip), torch::full_like(c, -clip));
    } else {
      const double scale = LinearScale(clip, bits, is_signed);
      q = torch::round(c / scale) * scale;
    }
  }
  return q + (clamped - clamped.detach());
}

int KlLevels(int bits, bool is_signed) {
  CheckBits(bits);
  return is_signed ? 1 << (bits - 1) : 1 << bits;
}

torch::Tensor LinearQuantizePerChannel(const torch::Tensor& x, const std::vector<double>& clips,
                                       int64_t axis, int bits) {
  CheckBits(bits);
  CheckFloatTensor(x, "x");
  if (axis < 0 || axis >= x.dim()) {
    throw util::InputError(fmt::format("axis: expected 0..{}, got {}", x.dim() - 1, axis));
  }
  if (static_cast<int64_t>(clips.size()) != x.size(axis)) {
    throw util::InputError(fmt::format("clips: expected {} values (x.size({})), got {}",
                                       x.size(axis), axis, clips.size()));
  }
  for (double c : clips) {
    if (!std::isfinite(c)) {
      throw util::InputError(fmt::format("clips: expected finite numbers, got {}", NonFinite(c)));
    }
  }
  std::vector<FakeQuantParams> params;
  for (double c : clips) params.push_back(FakeQuantParamsOf(c, bits, /*is_signed=*/true));
  return FusedFakeQuantize(x, params, axis);
}

double MaxClip(const torch::Tensor& x, bool is_signed) {
  CheckNonEmpty(x, "x");
  torch::Tensor v = x.detach();
  const double m = (is_signed ? v.abs().max() : v.max()).item<double>();
  if (!std::isfinite(m)) {
    throw util::InputError(fmt::format("x: expected finite values, got {}", NonFinite(m)));
  }
  return std::max(0.0, m);
}

double KlClip(const torch::Tensor& x, int bits, bool is_signed, int num_bins) {
  const int levels = KlLevels(bits, is_signed);
  if (num_bins < levels) {
    throw util::InputError(fmt::format(
        "num_bins: expected at least {} (the number of quantization levels at {} bits, {}), got {}",
        levels, bits, is_signed ? "signed" : "unsigned", num_bins));
  }
  CheckNonEmpty(x, "x");
  if (is_signed && bits == 1) {
    // Binary {-c, +c}: one magnitude level, for which the KL search is degenerate;
    // the least-squares scale mean |x| (as in binary-weight networks) instead.
    const std::vector<float> all = FiniteValues(x, "x");
    double total = 0.0;
    for (float v : all) total += std::fabs(static_cast<double>(v));
    return total / static_cast<double>(all.size());
  }
  // Values the quantizer maps to exactly 0 whatever the clip (0, and negatives when
  // unsigned) say nothing about the clip; they are left out (a ReLU's zeros would
  // otherwise dominate the first bin).
  std::vector<float> values;
  values.reserve(static_cast<size_t>(x.numel()));
  double max_value = 0.0;
  for (float v : FiniteValues(x, "x")) {
    const float a = is_signed ? std::fabs(v) : v;
    if (!(a > 0.0f)) continue;
    values.push_back(a);
    max_value = std::max(max_value, static_cast<double>(a));
  }
  if (values.empty()) return 0.0;

  const int64_t bins = num_bins;
  std::vector<double> hist(static_cast<size_t>(bins), 0.0);
  for (float v : values) {
    auto index = static_cast<int64_t>(std::floor(static_cast<double>(v) * static_cast<double>(bins) / max_value));
    index = std::clamp<int64_t>(index, 0, bins - 1);
    hist[static_cast<size_t>(index)] += 1.0;
  }
  const double bin_width = max_value / static_cast<double>(bins);

  // suffix[i] = sum(hist[i..B-1]): the outliers of candidate i.
  std::vector<double> suffix(static_cast<size_t>(bins) + 1, 0.0);
  for (int64_t j = bins - 1; j >= 0; --j) suffix[j] = suffix[j + 1] + hist[j];

  double best_kl = std::numeric_limits<double>::infinity();
  int64_t best_i = bins;
  std::vector<double> p;
  std::vector<double> q;
  for (int64_t i = levels; i <= bins; ++i) {
    p.assign(hist.begin(), hist.begin() + i);
    p[i - 1] += suffix[i];
    q.assign(static_cast<size_t>(i), 0.0);
    const int64_t group = i / levels;
    for (int64_t g = 0; g < levels; ++g) {
      const int64_t start = g * group;
      const int64_t stop = (g == levels - 1) ? i : start + group;
      double total = 0.0;
      int64_t nonzero = 0;
      for (int64_t j = start; j < stop; ++j) {
        total += hist[j];
        if (p[j] != 0.0) ++nonzero;
      }
      if (nonzero == 0) continue;
      const double share = total / static_cast<double>(nonzero);
      for (int64_t j = start; j < stop; ++j) {
        if (p[j] != 0.0) q[j] = share;
      }
    }
    const double p_sum = std::accumulate(p.begin(), p.end(), 0.0);
    const double q_sum = std::accumulate(q.begin(), q.end(), 0.0);
    if (q_sum <= 0.0) continue;
    double kl = 0.0;
    for (int64_t j = 0; j < i; ++j) {
      if (p[j] == 0.0) continue;
      const double pj = p[j] / p_sum;
      const double qj = std::max(q[j] / q_sum, kKlZeroFloor);
      kl += pj * std::log(pj / qj);
    }
    if (kl < best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return static_cast<double>(best_i) * bin_width;
}

double ChooseClip(const torch::Tensor& x, int bits, bool is_signed, int kl_below_bits) {
  CheckBits(bits);
  if (bits < kl_below_bits) return KlClip(x, bits, is_signed);
  return MaxClip(x, is_signed);
}

KMeansResult KMeans1d(const torch::Tensor& x, int k, uint64_t seed, int max_iters) {
  if (k < 1) throw util::InputError(fmt::format("k: expected at least 1, got {}", k));
  if (max_iters < 1) {
    throw util::InputError(fmt::format("max_iters: expected at least 1, got {}", max_iters));
  }
  CheckNonEmpty(x, "x");
  const std::vector<float> values = FiniteValues(x, "x");
  const auto n = static_cast<int64_t>(values.size());

  std::vector<float> distinct = values;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const int64_t kk = std::min<int64_t>(k, static_cast<int64_t>(distinct.size()));

  std::mt19937_64 rng(seed);

  // Initialisation sample: all values, or 2^20 drawn with replacement.
  std::vector<double> sample;
  if (n > kInitSampleLimit) {
    sample.reserve(static_cast<size_t>(kInitSampleLimit));
    for (int64_t s = 0; s < kInitSampleLimit; ++s) {
      sample.push_back(values[rng() % static_cast<uint64_t>(n)]);
    }
    std::vector<double> sorted = sample;
    std::sort(sorted.begin(), sorted.end());
    if (std::unique(sorted.begin(), sorted.end()) - sorted.begin() < kk) sample.clear();
  }
  if (sample.empty()) sample.assign(values.begin(), values.end());

  // k-means++.
  std::vector<double> centroids;
  centroids.reserve(static_cast<size_t>(kk));
  centroids.push_back(sample[rng() % sample.size()]);
  std::vector<double> d2(sample.size());
  for (size_t s = 0; s < sample.size(); ++s) {
    const double d = sample[s] - centroids[0];
    d2[s] = d * d;
  }
  std::vector<double> cumulative(sample.size());
  while (static_cast<int64_t>(centroids.size()) < kk) {
    std::partial_sum(d2.begin(), d2.end(), cumulative.begin());
    const double total = cumulative.back();
    const double u = UnitDraw(rng) * total;
    auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    if (it == cumulative.end()) --it;
    auto chosen = static_cast<size_t>(it - cumulative.begin());
    while (d2[chosen] == 0.0 && chosen > 0) --chosen;  // guard against rounding at the top
    const double c = sample[chosen];
    centroids.push_back(c);
    for (size_t s = 0; s < sample.size(); ++s) {
      const double d = sample[s] - c;
      d2[s] = std::min(d2[s], d * d);
    }
  }
  std::sort(centroids.begin(), centroids.end());

  // Lloyd iterations on sorted centroids: nearest = first midpoint not below v.
  std::vector<int64_t> assignment(static_cast<size_t>(n), -1);
  std::vector<double> mids(static_cast<size_t>(kk > 0 ? kk - 1 : 0));
  std::vector<double> sums(static_cast<size_t>(kk));
  std::vector<int64_t> counts(static_cast<size_t>(kk));
  // Assigns every value to its nearest centroid; true when any assignment changed.
  auto assign = [&]() {
    for (int64_t c = 0; c + 1 < kk; ++c) mids[c] = 0.5 * (centroids[c] + centroids[c + 1]);
    bool changed = false;
    for (int64_t s = 0; s < n; ++s) {
      const double v = values[s];
      const auto c = static_cast<int64_t>(std::lower_bound(mids.begin(), mids.end(), v) - mids.begin());
      if (assignment[s] != c) {
        assignment[s] = c;
        changed = true;
      }
    }
    return changed;
  };
  bool converged = false;
  for (int iter = 0; iter < max_iters; ++iter) {
    if (!assign()) {
      converged = true;
      break;
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t s = 0; s < n; ++s) {
      sums[assignment[s]] += values[s];
      ++counts[assignment[s]];
    }
    for (int64_t c = 0; c < kk; ++c) {
      if (counts[c] > 0) centroids[c] = sums[c] / static_cast<double>(counts[c]);
    }
    // Means of ordered intervals stay ordered, but an empty cluster keeps its old
    // place; restore the order (and relabel) if that ever breaks it.
    if (!std::is_sorted(centroids.begin(), centroids.end())) {
      std::vector<int64_t> order(static_cast<size_t>(kk));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return centroids[a] < centroids[b]; });
      std::vector<int64_t> new_label(static_cast<size_t>(kk));
      std::vector<double> sorted(static_cast<size_t>(kk));
      for (int64_t r = 0; r < kk; ++r) {
        new_label[order[r]] = r;
        sorted[r] = centroids[order[r]];
      }
      centroids = sorted;
      for (auto& a : assignment) a = new_label[a];
    }
  }
  // Out of iterations: one last assignment step so that every value sits at its
  // nearest final centroid (as scikit-learn does).
  if (!converged) assign();

  KMeansResult result;
  result.centroids = torch::tensor(centroids, torch::kDouble).to(torch::kFloat);
  result.assignment = torch::tensor(assignment, torch::kLong).view(x.sizes()).clone();
  return result;
}

namespace {

void CheckResult(const KMeansResult& r) {
  if (!r.centroids.defined() || r.centroids.dim() != 1 || r.centroids.numel() < 1) {
    throw util::InputError(fmt::format(
        "centroids: expected a 1-d tensor with at least one value, got {}",
        r.centroids.defined() ? ShapeString(r.centroids.sizes()) : std::string("an undefined tensor")));
  }
  if (!r.assignment.defined() || r.assignment.scalar_type() != torch::kLong) {
    throw util::InputError(fmt::format(
        "assignment: expected an int64 tensor, got {}",
        r.assignment.defined() ? std::string(c10::toString(r.assignment.scalar_type()))
                               : std::string("an undefined tensor")));
  }
  if (r.assignment.numel() > 0) {
    const int64_t lo = r.assignment.min().item<int64_t>();
    const int64_t hi = r.assignment.max().item<int64_t>();
    const int64_t k = r.centroids.numel();
    if (lo < 0 || hi >= k) {
      throw util::InputError(fmt::format("assignment: expected centroid indices in 0..{}, got {}",
                                         k - 1, lo < 0 ? lo : hi));
    }
  }
}

}  // namespace

torch::Tensor KMeansQuantize(const torch::Tensor& x, const KMeansResult& r) {
  CheckFloatTensor(x, "x");
  CheckResult(r);
  if (r.assignment.sizes() != x.sizes()) {
    throw util::InputError(fmt::format("assignment: expected shape {} (x's shape), got {}",
                                       ShapeString(x.sizes()), ShapeString(r.assignment.sizes())));
  }
  torch::Tensor q;
  {
    torch::NoGradGuard no_grad;
    q = r.centroids.detach().to(x.device(), x.scalar_type()).take(r.assignment.to(x.device()));
  }
  if (!x.requires_grad()) return q;
  return q + (x - x.detach());
}

torch::Tensor CentroidGradient(const torch::Tensor& grad_wrt_weights, const KMeansResult& r) {
  CheckFloatTensor(grad_wrt_weights, "grad_wrt_weights");
  CheckResult(r);
  if (r.assignment.sizes() != grad_wrt_weights.sizes()) {
    throw util::InputError(
        fmt::format("grad_wrt_weights: expected shape {} (the assignment's shape), got {}",
                    ShapeString(r.assignment.sizes()), ShapeString(grad_wrt_weights.sizes())));
  }
  torch::NoGradGuard no_grad;
  const int64_t k = r.centroids.numel();
  torch::Tensor labels = r.assignment.detach().to(torch::kCPU).reshape(-1);
  torch::Tensor grads = grad_wrt_weights.detach().to(torch::kCPU, torch::kDouble).reshape(-1);
  torch::Tensor sums = torch::zeros({k}, torch::kDouble).index_add_(0, labels, grads);
  torch::Tensor counts = torch::zeros({k}, torch::kDouble)
                             .index_add_(0, labels, torch::ones_like(grads));
  torch::Tensor mean = torch::where(counts > 0, sums / counts.clamp_min(1.0), torch::zeros_like(sums));
  return mean.to(torch::kFloat);
}

}  // namespace haq::quant
