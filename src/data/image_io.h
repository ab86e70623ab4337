#pragma once
/// Decoding image files and torchvision's evaluation preprocessing.
///
/// Decoding is OpenCV's (imgcodecs: libjpeg-turbo, libpng, libtiff, libwebp as
/// Debian builds them), read unchanged: no EXIF rotation, as torchvision's PIL
/// loader does not rotate either. Channel conversion to what the model takes:
///   - 16-bit samples become 8-bit as round(v / 257) (65535 -> 255);
///   - to 1 channel: grey stays; colour becomes luma 0.299 R + 0.587 G + 0.114 B
///     (ITU-R 601-2, PIL's "L"; OpenCV's fixed-point rounding may differ by 1);
///   - to 3 channels: grey is replicated; BGR becomes RGB; an alpha channel is
///     dropped without compositing (as PIL's convert("RGB") does);
///   - palette images arrive expanded to colour from the decoder.
///
/// Resizing is ATen's antialiased bilinear interpolation (the kernel torchvision's
/// tensor transforms use with antialias=True, written to match PIL's BILINEAR
/// filter), run as PIL runs it: a horizontal pass, then a vertical one, each
/// rounded to uint8. PIL's coefficients are fixed-point and ATen's float, so values
/// may differ from PIL's by 1 (tests/datasets/image_io_test.cc measures it against
/// Pillow's own output).
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>

namespace haq::data {

/// Decodes the image file at `path` into uint8 [channels, H, W] (channels 1 or 3).
/// Throws util::IoError when the file cannot be read, util::InputError naming the
/// file when it is not an image OpenCV can decode ("expected a JPEG, PNG, BMP,
/// PPM/PGM, TIFF or WebP image, got N bytes starting with ...") or has samples of
/// another type (float or 32-bit).
torch::Tensor DecodeImage(const std::string& path, int64_t channels);

/// The same on bytes already in memory; `name` names them in errors.
torch::Tensor DecodeImageBytes(const std::string& bytes, const std::string& name, int64_t channels);

/// `image` (uint8 [C, H, W]) resized to height x width: antialiased bilinear
/// interpolation, horizontal pass then vertical, each rounded to 8 bits, as Pillow's
/// BILINEAR resize does. Returned as it is when already that size.
torch::Tensor Resize(const torch::Tensor& image, int64_t height, int64_t width);

/// torchvision's Resize(size) with an int: the shorter side becomes `size`, the
/// longer int(size * long / short) (truncated); an image whose shorter side already
/// is `size` is returned unchanged. uint8 [C, H, W] in and out.
torch::Tensor ResizeShorterSide(const torch::Tensor& image, int64_t size);

/// torchvision's CenterCrop((height, width)) on an image at least that large: the
/// window starts at round((H - height) / 2), round((W - width) / 2), rounding half
/// to even as Python does. Throws util::InputError for a smaller image.
torch::Tensor CenterCrop(const torch::Tensor& image, int64_t height, int64_t width);

/// The shorter side evaluation resizes to before the centre crop: round(crop /
/// 0.875) of the larger of height and width (256 for 224; 32 for 28).
int64_t EvalResizeSize(int64_t height, int64_t width);

/// A window of an image: rows top..top+height-1, columns left..left+width-1.
struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

/// The window torchvision's RandomResizedCrop (scale 0.08..1, ratio 3/4..4/3) draws
/// on a height x width image: up to 10 tries of an area fraction uniform in
/// [0.08, 1] and a log-uniform aspect ratio, the sides rounded half to even, kept if
/// the window fits, placed uniformly; else the centre crop at the nearest allowed
/// ratio. Draws from `rng` only (rng.h: the same windows on every platform).
CropBox RandomResizedCropBox(int64_t height, int64_t width, std::mt19937_64& rng);

/// Evaluation preprocessing to `height` x `width`: an image of exactly that size is
/// returned as it is (no resampling); otherwise ResizeShorterSide(EvalResizeSize)
/// then CenterCrop. uint8 [C, H, W] in and out.
torch::Tensor EvalTransform(const torch::Tensor& image, int64_t height, int64_t width);

}  // namespace haq::data
