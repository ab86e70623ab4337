#include "data/image_io.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/rng.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::data {

using util::InputError;

namespace {

/// The first bytes of `bytes` as hex, for an error about a file that is not an image.
std::string Head(const std::string& bytes) {
  std::string s;
  for (size_t i = 0; i < std::min<size_t>(bytes.size(), 8); ++i) {
    s += fmt::format("{}{:02x}", i ? " " : "", static_cast<unsigned char>(bytes[i]));
  }
  return s.empty() ? "(empty)" : s;
}

/// OpenCV's decoded image (1, 2, 3 or 4 channels in B, G, R, A order; 8-bit) as
/// `channels` (1 or 3) channels in R, G, B order.
cv::Mat ToChannels(const cv::Mat& m, int channels, const std::string& name) {
  cv::Mat out;
  const int have = m.channels();
  if (channels == 1) {
    switch (have) {
      case 1: return m;
      case 2: cv::extractChannel(m, out, 0); return out;
      case 3: cv::cvtColor(m, out, cv::COLOR_BGR2GRAY); return out;
      case 4: cv::cvtColor(m, out, cv::COLOR_BGRA2GRAY); return out;
      default: break;
    }
  } else if (channels == 3) {
    switch (have) {
      case 1: cv::cvtColor(m, out, cv::COLOR_GRAY2RGB); return out;
      case 2: {
        cv::Mat grey;
        cv::extractChannel(m, grey, 0);
        cv::cvtColor(grey, out, cv::COLOR_GRAY2RGB);
        return out;
      }
      case 3: cv::cvtColor(m, out, cv::COLOR_BGR2RGB); return out;
      case 4: cv::cvtColor(m, out, cv::COLOR_BGRA2RGB); return out;
      default: break;
    }
  }
  throw InputError(fmt::format("{}: expected an image of 1 to 4 channels for a {}-channel model, got {} channels",
                               name, channels, have));
}

}  // namespace

torch::Tensor DecodeImageBytes(const std::string& bytes, const std::string& name, int64_t channels) {
  if (channels != 1 && channels != 3) {
    throw InputError(fmt::format("{}: images can be read for 1- or 3-channel models, not {}-channel", name, channels));
  }
  cv::Mat m;
  if (!bytes.empty()) {
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    try {
      m = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
      throw InputError(fmt::format("{}: the decoder failed: {}", name, e.what()));
    }
  }
  if (m.empty()) {
    throw InputError(fmt::format("{}: expected a JPEG, PNG, BMP, PPM/PGM, TIFF or WebP image, got {} bytes starting {}",
                                 name, bytes.size(), Head(bytes)));
  }
  if (m.depth() == CV_16U) {
    cv::Mat eight;
    m.convertTo(eight, CV_8U, 1.0 / 257.0);
    m = eight;
  } else if (m.depth() != CV_8U) {
    throw InputError(fmt::format("{}: expected 8- or 16-bit integer samples, got OpenCV depth {} (float or 32-bit)",
                                 name, m.depth()));
  }
  cv::Mat c = ToChannels(m, static_cast<int>(channels), name);
  if (!c.isContinuous()) c = c.clone();
  // HWC (OpenCV's memory) -> CHW, copied into memory the tensor owns.
  torch::Tensor out = torch::empty({channels, c.rows, c.cols}, torch::kUInt8);
  out.copy_(torch::from_blob(c.data, {c.rows, c.cols, channels}, torch::kUInt8).permute({2, 0, 1}));
  return out;
}

torch::Tensor DecodeImage(const std::string& path, int64_t channels) {
  // Images larger than 1 GiB are not photographs a CNN is evaluated on.
  return DecodeImageBytes(util::ReadFile(path, std::uintmax_t{1} << 30), path, channels);
}

torch::Tensor Resize(const torch::Tensor& image, int64_t height, int64_t width) {
  namespace F = torch::nn::functional;
  auto pass = [](const torch::Tensor& u8, int64_t h_out, int64_t w_out) {
    if (u8.size(1) == h_out && u8.size(2) == w_out) return u8;
    const torch::Tensor x = F::interpolate(u8.unsqueeze(0).to(torch::kFloat32),
                                           F::InterpolateFuncOptions()
                                               .size(std::vector<int64_t>{h_out, w_out})
                                               .mode(torch::kBilinear)
                                               .align_corners(false)
                                               .antialias(true));
    return x.squeeze(0).round().clamp(0, 255).to(torch::kUInt8).contiguous();
  };
  return pass(pass(image, image.size(1), width), height, width);
}

torch::Tensor ResizeShorterSide(const torch::Tensor& image, int64_t size) {
  const int64_t h = image.size(1), w = image.size(2);
  const int64_t shorter = std::min(h, w), longer = std::max(h, w);
  if (shorter == size) return image;
  const int64_t new_long = static_cast<int64_t>(static_cast<double>(size) * static_cast<double>(longer) /
                                                static_cast<double>(shorter));
  return Resize(image, h <= w ? size : new_long, h <= w ? new_long : size);
}

CropBox RandomResizedCropBox(int64_t height, int64_t width, std::mt19937_64& rng) {
  constexpr double kScale[2] = {0.08, 1.0};
  constexpr double kRatio[2] = {3.0 / 4.0, 4.0 / 3.0};
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(kRatio[0]), log_hi = std::log(kRatio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (kScale[0] + (kScale[1] - kScale[0]) * Uniform01(rng));
    const double aspect = std::exp(log_lo + (log_hi - log_lo) * Uniform01(rng));
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target * aspect)));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target / aspect)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const auto top = static_cast<int64_t>(UniformBelow(rng, static_cast<uint64_t>(height - h + 1)));
      const auto left = static_cast<int64_t>(UniformBelow(rng, static_cast<uint64_t>(width - w + 1)));
      return {top, left, h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < kRatio[0]) {
    h = static_cast<int64_t>(std::nearbyint(static_cast<double>(w) / kRatio[0]));
  } else if (in_ratio > kRatio[1]) {
    w = static_cast<int64_t>(std::nearbyint(static_cast<double>(h) * kRatio[1]));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

torch::Tensor CenterCrop(const torch::Tensor& image, int64_t height, int64_t width) {
  const int64_t h = image.size(1), w = image.size(2);
  if (h < height || w < width) {
    throw InputError(fmt::format("centre crop: expected an image of at least {}x{}, got {}x{}", height, width, h, w));
  }
  const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(h - height) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(w - width) / 2.0));
  return image.slice(1, top, top + height).slice(2, left, left + width).contiguous();
}

int64_t EvalResizeSize(int64_t height, int64_t width) {
  return static_cast<int64_t>(std::lround(static_cast<double>(std::max(height, width)) / 0.875));
}

torch::Tensor EvalTransform(const torch::Tensor& image, int64_t height, int64_t width) {
  if (image.size(1) == height && image.size(2) == width) return image;
  return CenterCrop(ResizeShorterSide(image, EvalResizeSize(height, width)), height, width);
}

}  // namespace haq::data
