// Quantizers: linear quantization (value count, round-trip error, straight-through
// gradient), KL clipping against a plain brute-force search, k-means on known
// clusters, the centroid gradient against a plain loop, and input errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "quant/quantizers.h"
#include "util/error.h"

namespace haq::quant {
namespace {

torch::Tensor FromVector(const std::vector<float>& v) {
  return torch::tensor(v, torch::kFloat);
}

std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat).contiguous().view(-1);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<float> Normal(size_t n, double sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(0.0, sd);
  std::vector<float> out(n);
  for (auto& v : out) v = static_cast<float>(dist(rng));
  return out;
}

std::vector<float> Uniform(size_t n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<float> out(n);
  for (auto& v : out) v = static_cast<float>(dist(rng));
  return out;
}

// Laplace(0, b) by inverse CDF.
std::vector<float> Laplace(size_t n, double b, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-0.5, 0.5);
  std::vector<float> out(n);
  for (auto& v : out) {
    const double u = dist(rng);
    v = static_cast<float>(-b * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u)));
  }
  return out;
}

std::vector<float> StudentT(size_t n, double dof, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::student_t_distribution<double> dist(dof);
  std::vector<float> out(n);
  for (auto& v : out) v = static_cast<float>(dist(rng));
  return out;
}

// The step of the quantization grid, from the definition (not from the library).
double ExpectedScale(double clip, int bits, bool is_signed) {
  if (is_signed) return bits == 1 ? 2.0 * clip : clip / (std::pow(2.0, bits - 1) - 1.0);
  return clip / (std::pow(2.0, bits) - 1.0);
}

void ExpectInputError(const std::function<void()>& fn, const std::string& message) {
  try {
    fn();
    ADD_FAILURE() << "expected util::InputError: " << message;
  } catch (const util::InputError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

// ---------------------------------------------------------------- linear

TEST(QuantLinearTest, ValueCountAndRoundTripErrorForAllWidths) {
  const double clip = 2.5;
  const std::vector<float> data = Normal(20000, 2.0, 11);  // some beyond the clip
  const torch::Tensor x = FromVector(data);
  for (int bits = 1; bits <= 8; ++bits) {
    for (bool is_signed : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "bits " << bits << (is_signed ? " signed" : " unsigned"));
      const std::vector<float> q = ToVector(LinearQuantize(x, clip, bits, is_signed));
      ASSERT_EQ(q.size(), data.size());
      const std::set<float> distinct(q.begin(), q.end());
      const double bound = is_signed ? std::pow(2.0, bits) - 1.0 : std::pow(2.0, bits);
      EXPECT_LE(static_cast<double>(distinct.size()), is_signed && bits == 1 ? 2.0 : bound);
      const double scale = ExpectedScale(clip, bits, is_signed);
      EXPECT_DOUBLE_EQ(LinearScale(clip, bits, is_signed), scale);
      const double lo = is_signed ? -clip : 0.0;
      double worst = 0.0;
      for (size_t i = 0; i < data.size(); ++i) {
        const double clamped = std::clamp(static_cast<double>(data[i]), lo, clip);
        worst = std::max(worst, std::fabs(static_cast<double>(q[i]) - clamped));
        ASSERT_GE(q[i], lo - 1e-6);
        ASSERT_LE(q[i], clip + 1e-6);
      }
      EXPECT_LE(worst, scale / 2 + 1e-6);
    }
  }
}

TEST(QuantLinearTest, DenseDataUsesEveryLevel) {
  const double clip = 1.0;
  const torch::Tensor x = FromVector(Uniform(200000, -1.2, 1.2, 5));
  for (int bits = 1; bits <= 8; ++bits) {
    for (bool is_signed : {true, false}) {
      const std::vector<float> q = ToVector(LinearQuantize(x, clip, bits, is_signed));
      const std::set<float> distinct(q.begin(), q.end());
      const double expected = is_signed ? (bits == 1 ? 2.0 : std::pow(2.0, bits) - 1.0) : std::pow(2.0, bits);
      EXPECT_EQ(static_cast<double>(distinct.size()), expected)
          << "bits " << bits << (is_signed ? " signed" : " unsigned");
      // Every value is an integer multiple of the scale (1 bit signed: +-clip).
      const double scale = ExpectedScale(clip, bits, is_signed);
      for (float v : distinct) {
        if (is_signed && bits == 1) {
          EXPECT_EQ(std::fabs(v), clip);
        } else {
          EXPECT_NEAR(v / scale, std::round(v / scale), 1e-4);
        }
      }
    }
  }
}

TEST(QuantLinearTest, SignedOneBitIsBinaryAndZeroClipGivesZeros) {
  const torch::Tensor x = torch::tensor({-3.0f, -0.1f, 0.0f, 0.2f, 5.0f});
  EXPECT_EQ(ToVector(LinearQuantize(x, 1.5, 1, true)),
            (std::vector<float>{-1.5f, -1.5f, 1.5f, 1.5f, 1.5f}));
  for (double clip : {0.0, -1.0}) {
    for (bool is_signed : {true, false}) {
      EXPECT_EQ(ToVector(LinearQuantize(x, clip, 4, is_signed)), std::vector<float>(5, 0.0f));
    }
  }
  // Known values: 2 bits signed, clip 1 -> scale 1: {-1, 0, 1}; unsigned 2 bits,
  // clip 3 -> scale 1: {0, 1, 2, 3}.
  EXPECT_EQ(ToVector(LinearQuantize(torch::tensor({-2.0f, -0.6f, 0.4f, 0.7f}), 1.0, 2, true)),
            (std::vector<float>{-1.0f, -1.0f, 0.0f, 1.0f}));
  EXPECT_EQ(ToVector(LinearQuantize(torch::tensor({-2.0f, 0.4f, 1.6f, 2.2f, 9.0f}), 3.0, 2, false)),
            (std::vector<float>{0.0f, 0.0f, 2.0f, 2.0f, 3.0f}));
  EXPECT_EQ(LinearQuantize(torch::zeros({0}), 1.0, 4, true).numel(), 0);
}

TEST(QuantLinearTest, StraightThroughGradientIsOneInsideClipRangeOnly) {
  const double clip = 1.0;
  const std::vector<float> values = {-3.0f, -1.5f, -1.0f, -0.7f, -0.2f, 0.0f,
                                     0.3f,  0.99f, 1.0f,  1.01f, 2.0f,  -0.0001f};
  for (int bits : {1, 2, 4, 8}) {
    for (bool is_signed : {true, false}) {
      torch::Tensor x = FromVector(values).requires_grad_(true);
      torch::Tensor q = LinearQuantize(x, clip, bits, is_signed);
      // The forward value is the quantized value exactly.
      EXPECT_TRUE(torch::equal(q.detach(), LinearQuantize(x.detach(), clip, bits, is_signed)));
      q.sum().backward();
      const std::vector<float> grad = ToVector(x.grad());
      const double lo = is_signed ? -clip : 0.0;
      for (size_t i = 0; i < values.size(); ++i) {
        const bool inside = values[i] >= lo && values[i] <= clip;
        EXPECT_EQ(grad[i], inside ? 1.0f : 0.0f)
            << "x = " << values[i] << ", bits " << bits << (is_signed ? " signed" : " unsigned");
      }
    }
  }
}

// ---------------------------------------------------------------- KL clip

// A plain, separately written KL calibration: returns the KL of every candidate
// threshold index i (index = i, NaN for skipped ones) over a B-bin histogram.
struct BruteForceKl {
  std::vector<double> kl;  // indexed by i, 0..B
  double bin_width = 0;
};

BruteForceKl BruteForce(const std::vector<float>& data, int levels, bool is_signed, int num_bins) {
  std::vector<double> v;
  for (float f : data) {
    double d = f;
    if (is_signed) d = std::fabs(d);
    if (d > 0) v.push_back(d);  // zeros (and negatives, unsigned) are left out
  }
  const double top = *std::max_element(v.begin(), v.end());
  std::vector<double> hist(num_bins, 0.0);
  for (double d : v) {
    int b = static_cast<int>(std::floor(d * num_bins / top));
    if (b >= num_bins) b = num_bins - 1;
    hist[b] += 1;
  }
  BruteForceKl out;
  out.bin_width = top / num_bins;
  out.kl.assign(num_bins + 1, std::numeric_limits<double>::quiet_NaN());
  for (int i = levels; i <= num_bins; ++i) {
    std::vector<double> p(i);
    double outliers = 0;
    for (int j = 0; j < num_bins; ++j) {
      if (j < i) {
        p[j] = hist[j];
      } else {
        outliers += hist[j];
      }
    }
    p[i - 1] += outliers;
    // Which group each bin belongs to.
    const int width = i / levels;
    std::vector<double> group_total(levels, 0.0);
    std::vector<int> group_nonzero(levels, 0);
    for (int j = 0; j < i; ++j) {
      const int g = std::min(j / width, levels - 1);
      group_total[g] += hist[j];
      if (p[j] > 0) group_nonzero[g] += 1;
    }
    std::vector<double> q(i, 0.0);
    for (int j = 0; j < i; ++j) {
      const int g = std::min(j / width, levels - 1);
      if (p[j] > 0) q[j] = group_total[g] / group_nonzero[g];
    }
    double ps = 0;
    double qs = 0;
    for (int j = 0; j < i; ++j) {
      ps += p[j];
      qs += q[j];
    }
    if (qs == 0) continue;
    double kl = 0;
    for (int j = 0; j < i; ++j) {
      if (p[j] == 0) continue;
      double pj = p[j] / ps;
      double qj = q[j] / qs;
      if (qj == 0) qj = 1e-10;
      kl += pj * std::log(pj / qj);
    }
    out.kl[i] = kl;
  }
  return out;
}

TEST(QuantKlTest, KlClipIsTheBruteForceArgmin) {
  const std::vector<float> laplace = Laplace(30000, 0.5, 21);
  const std::vector<float> student = StudentT(30000, 3.0, 22);
  for (const auto* data : {&laplace, &student}) {
    for (bool is_signed : {true, false}) {
      for (int bits : {1, 2, 3, 4, 6, 8}) {
        if (is_signed && bits == 1) continue;  // mean |x|, tested separately
        for (int num_bins : {512, 2048}) {
          SCOPED_TRACE(::testing::Message() << "bits " << bits << (is_signed ? " signed" : " unsigned")
                                            << ", " << num_bins << " bins");
          const int levels = is_signed ? 1 << (bits - 1) : 1 << bits;  // values on [0, clip]
          const BruteForceKl bf = BruteForce(*data, levels, is_signed, num_bins);
          int best = -1;
          for (int i = 0; i <= num_bins; ++i) {
            if (std::isnan(bf.kl[i])) continue;
            if (best < 0 || bf.kl[i] < bf.kl[best]) best = i;
          }
          ASSERT_GE(best, levels);
          const double clip = KlClip(FromVector(*data), bits, is_signed, num_bins);
          EXPECT_DOUBLE_EQ(clip, best * bf.bin_width);
        }
      }
    }
  }
}

TEST(QuantKlTest, KlClipIsWellBelowMaxForHeavyTails) {
  // 50,000 samples: Student-t with 3 degrees of freedom (max about 32) and Laplace
  // with scale 1 (max about 11). The clip grows with the bit width and stays well
  // below the maximum; for the Laplace it also lands where a sensible clip for
  // 2-4 bits lies (a few scales: MSE-optimal clips are 2.8-5 scales), not at a
  // handful of bins.
  struct Case {
    const char* name;
    torch::Tensor x;
    double max_fraction;
  };
  const std::vector<Case> cases = {{"student-t(3)", FromVector(StudentT(50000, 3.0, 7)), 1.0 / 3.0},
                                   {"laplace", FromVector(Laplace(50000, 1.0, 8)), 0.7}};
  for (const Case& c : cases) {
    for (bool is_signed : {true, false}) {
      // Unsigned: the ReLU of the samples (half exact zeros, as after a ReLU layer).
      const torch::Tensor x = is_signed ? c.x : torch::relu(c.x);
      const double mx = MaxClip(x, is_signed);
      double previous = 0.0;
      for (int bits = 2; bits <= 4; ++bits) {
        SCOPED_TRACE(::testing::Message() << c.name << (is_signed ? " signed " : " unsigned ") << bits << " bits");
        const double kl = KlClip(x, bits, is_signed);
        EXPECT_LT(kl, c.max_fraction * mx);
        EXPECT_GE(kl, previous);
        if (std::string(c.name) == "laplace") {
          EXPECT_GT(kl, 2.5);
          EXPECT_LT(kl, 8.0);
        }
        previous = kl;
      }
    }
  }
}

TEST(QuantKlTest, SignedOneBitUsesMeanMagnitude) {
  const std::vector<float> data = Laplace(10000, 0.7, 71);
  double total = 0;
  for (float v : data) total += std::fabs(static_cast<double>(v));
  EXPECT_NEAR(KlClip(FromVector(data), 1, true), total / static_cast<double>(data.size()), 1e-9);
  EXPECT_DOUBLE_EQ(KlClip(torch::tensor({-1.0f, 3.0f, 0.0f, 0.0f}), 1, true), 1.0);
}

TEST(QuantKlTest, MaxClipAndChooseClip) {
  const torch::Tensor x = torch::tensor({-4.0f, 1.0f, 2.5f});
  EXPECT_EQ(MaxClip(x, true), 4.0);
  EXPECT_EQ(MaxClip(x, false), 2.5);
  EXPECT_EQ(MaxClip(torch::tensor({-1.0f, -2.0f}), false), 0.0);
  EXPECT_EQ(KlClip(torch::zeros({10}), 4, true), 0.0);
  const torch::Tensor heavy = FromVector(StudentT(20000, 3.0, 9));
  EXPECT_EQ(ChooseClip(heavy, 4, true, 5), KlClip(heavy, 4, true));
  EXPECT_EQ(ChooseClip(heavy, 5, true, 5), MaxClip(heavy, true));
  EXPECT_EQ(ChooseClip(heavy, 3, false, 5), KlClip(heavy, 3, false));
  EXPECT_EQ(ChooseClip(heavy, 8, false, 5), MaxClip(heavy, false));
}

// ---------------------------------------------------------------- k-means

std::vector<float> Blobs(const std::vector<double>& centres, size_t per_blob, double sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sd);
  std::vector<float> out;
  for (size_t i = 0; i < per_blob; ++i) {
    for (double c : centres) out.push_back(static_cast<float>(c + noise(rng)));
  }
  return out;
}

TEST(QuantKMeansTest, RecoversWellSeparatedClusters) {
  const std::vector<double> centres = {-3.0, -1.0, 0.5, 2.5};
  const torch::Tensor x = FromVector(Blobs(centres, 1000, 0.01, 31)).view({40, 100});
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const KMeansResult r = KMeans1d(x, 4, seed);
    ASSERT_EQ(r.centroids.numel(), 4);
    EXPECT_EQ(r.centroids.scalar_type(), torch::kFloat);
    EXPECT_EQ(r.assignment.scalar_type(), torch::kLong);
    EXPECT_EQ(r.assignment.sizes(), x.sizes());
    const std::vector<float> c = ToVector(r.centroids);
    for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(c[j], centres[j], 2e-3) << "seed " << seed;
    // Every value is assigned to the centre of its blob (values interleave blobs).
    const torch::Tensor a = r.assignment.view(-1);
    for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a[i].item<int64_t>(), i % 4);
    const torch::Tensor q = KMeansQuantize(x, r);
    EXPECT_EQ(q.sizes(), x.sizes());
    EXPECT_LE(std::get<0>(torch::_unique(q)).numel(), 4);
  }
}

TEST(QuantKMeansTest, DeterministicForASeedAndAtMostKValues) {
  const torch::Tensor x = FromVector(Laplace(5000, 1.0, 41)).view({50, 100});
  for (int k : {2, 4, 16, 64}) {
    const KMeansResult a = KMeans1d(x, k, 123);
    const KMeansResult b = KMeans1d(x, k, 123);
    EXPECT_TRUE(torch::equal(a.centroids, b.centroids));
    EXPECT_TRUE(torch::equal(a.assignment, b.assignment));
    EXPECT_EQ(a.centroids.numel(), k);
    const std::vector<float> c = ToVector(a.centroids);
    EXPECT_TRUE(std::is_sorted(c.begin(), c.end()));
    const std::vector<float> q = ToVector(KMeansQuantize(x, a));
    EXPECT_LE(std::set<float>(q.begin(), q.end()).size(), static_cast<size_t>(k));
    // Each value sits at its nearest centroid (the fixed point of Lloyd's iterations).
    const std::vector<float> xs = ToVector(x);
    for (size_t i = 0; i < xs.size(); ++i) {
      double nearest = std::numeric_limits<double>::infinity();
      for (float cj : c) nearest = std::min(nearest, std::fabs(static_cast<double>(xs[i]) - cj));
      ASSERT_NEAR(std::fabs(static_cast<double>(xs[i]) - q[i]), nearest, 1e-5);
    }
  }
}

TEST(QuantKMeansTest, LargeInputSubsamplesOnlyTheInitialisation) {
  // More than 2^20 values: k-means++ runs on a sample, Lloyd on everything.
  const std::vector<double> centres = {-2.0, 0.0, 1.0, 4.0};
  const torch::Tensor x = FromVector(Blobs(centres, 300000, 0.01, 61));
  ASSERT_GT(x.numel(), int64_t{1} << 20);
  const KMeansResult a = KMeans1d(x, 4, 5);
  const KMeansResult b = KMeans1d(x, 4, 5);
  EXPECT_TRUE(torch::equal(a.centroids, b.centroids));
  EXPECT_TRUE(torch::equal(a.assignment, b.assignment));
  const std::vector<float> c = ToVector(a.centroids);
  ASSERT_EQ(c.size(), 4u);
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(c[j], centres[j], 1e-3);
}

TEST(QuantKMeansTest, KIsCappedByDistinctValues) {
  const torch::Tensor x = torch::tensor({2.0f, -1.0f, 2.0f, 0.5f, -1.0f, 0.5f});
  const KMeansResult r = KMeans1d(x, 8, 3);
  EXPECT_EQ(ToVector(r.centroids), (std::vector<float>{-1.0f, 0.5f, 2.0f}));
  EXPECT_TRUE(torch::equal(KMeansQuantize(x, r), x));
}

TEST(QuantKMeansTest, CentroidGradientIsPerClusterMeanOfGradients) {
  const torch::Tensor x = FromVector(Normal(3000, 1.0, 51)).view({30, 100});
  const torch::Tensor g = FromVector(Normal(3000, 0.3, 52)).view({30, 100});
  const KMeansResult r = KMeans1d(x, 8, 9);
  const std::vector<float> got = ToVector(CentroidGradient(g, r));
  std::vector<double> sum(8, 0.0);
  std::vector<int> count(8, 0);
  const std::vector<float> gv = ToVector(g);
  const torch::Tensor a = r.assignment.contiguous().view(-1);
  for (size_t i = 0; i < gv.size(); ++i) {
    const auto c = static_cast<size_t>(a[static_cast<int64_t>(i)].item<int64_t>());
    sum[c] += gv[i];
    count[c] += 1;
  }
  ASSERT_EQ(got.size(), 8u);
  for (size_t c = 0; c < 8; ++c) {
    ASSERT_GT(count[c], 0);
    EXPECT_NEAR(got[c], sum[c] / count[c], 1e-6);
  }
  // The straight-through gradient of KMeansQuantize reaches the weights unchanged.
  torch::Tensor w = x.clone().requires_grad_(true);
  (KMeansQuantize(w, r) * g).sum().backward();
  EXPECT_TRUE(torch::allclose(w.grad(), g));
}

// ---------------------------------------------------------------- errors

TEST(QuantErrorsTest, ExactMessages) {
  const torch::Tensor x = torch::tensor({1.0f, -2.0f});
  const torch::Tensor empty = torch::zeros({0});
  ExpectInputError([&] { LinearQuantize(x, 1.0, 0, true); }, "bits: expected an integer in 1..8, got 0");
  ExpectInputError([&] { LinearQuantize(x, 1.0, 9, false); }, "bits: expected an integer in 1..8, got 9");
  ExpectInputError([&] { KlClip(x, 0, true); }, "bits: expected an integer in 1..8, got 0");
  ExpectInputError([&] { KlClip(x, 9, true); }, "bits: expected an integer in 1..8, got 9");
  ExpectInputError([&] { ChooseClip(x, 9, true, 5); }, "bits: expected an integer in 1..8, got 9");
  ExpectInputError([&] { KMeans1d(x, 0, 1); }, "k: expected at least 1, got 0");
  ExpectInputError([&] { KMeans1d(x, -3, 1); }, "k: expected at least 1, got -3");
  ExpectInputError([&] { KMeans1d(empty, 4, 1); }, "x: expected a non-empty tensor, got 0 elements (shape [0])");
  ExpectInputError([&] { KlClip(empty, 4, true); }, "x: expected a non-empty tensor, got 0 elements (shape [0])");
  ExpectInputError([&] { MaxClip(torch::zeros({3, 0}), true); },
                   "x: expected a non-empty tensor, got 0 elements (shape [3, 0])");
  ExpectInputError([&] { KlClip(x, 8, false, 100); },
                   "num_bins: expected at least 256 (the number of quantization levels at 8 bits, unsigned), got 100");
  ExpectInputError([&] { LinearQuantize(x, std::numeric_limits<double>::infinity(), 4, true); },
                   "clip: expected a finite number, got inf");
  ExpectInputError([&] { LinearQuantize(torch::tensor({1, 2}), 1.0, 4, true); },
                   "x: expected a floating-point tensor, got Long");
  ExpectInputError([&] { MaxClip(torch::tensor({1.0f, NAN}), true); }, "x: expected finite values, got nan");
  const KMeansResult r = KMeans1d(x, 2, 1);
  ExpectInputError([&] { KMeansQuantize(torch::zeros({3}), r); },
                   "assignment: expected shape [3] (x's shape), got [2]");
  ExpectInputError([&] { CentroidGradient(torch::zeros({2, 1}), r); },
                   "grad_wrt_weights: expected shape [2] (the assignment's shape), got [2, 1]");
}

}  // namespace
}  // namespace haq::quant
