#pragma once
/// The preprocessed image cache: an image folder's images decoded, converted and
/// resized once (image_io.h) into one file of uint8 pixels, memory-mapped on later
/// uses, so an evaluation or an episode's fine-tune never decodes an image again and
/// the images occupy the page cache, not the process's own memory.
///
/// The file is keyed by everything its content depends on: the listing (each
/// image's path, size, modification time and label, and the class names), the
/// transform and the output geometry. Its name carries a CRC-32 of that key, and its
/// header the key itself, checked in full on open, with a CRC-32 of the pixels and
/// labels. A file whose key, size or checksum does not match is never used: it is
/// rebuilt, with a line saying why. Files are written to a temp file and renamed, so
/// an interrupted build leaves nothing that could be taken for a cache. Layout in
/// docs/FORMATS.md.
#include <torch/types.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "data/image_folder.h"

namespace haq::data {

/// What the cache holds for each image: EvalTransform to height x width with
/// `channels` channels.
struct ImageGeometry {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
};

struct ImageCacheOptions {
  std::filesystem::path dir;        ///< where cache files live (created if missing)
  std::FILE* progress = nullptr;    ///< build progress and rebuild reasons; nullptr = silent
};

struct CachedImages {
  torch::Tensor images;  ///< uint8 [N, C, H, W], read-only, mapped from `file`
  torch::Tensor labels;  ///< int64 [N]
  std::filesystem::path file;
  bool built = false;    ///< true when this call decoded the images
};

/// Drops the pages of [data, data + bytes) from this process's resident set, with
/// the kernel's fault-around window (64 KiB, aligned) on either side that reading
/// them may have mapped, clamped to the pages of [region, region + region_bytes).
/// Only for read-only file mappings such as CachedImages::images (`region` being
/// all of it): the page cache keeps the data and the next read maps it again. On
/// anonymous memory it would discard the data, so never call it there.
void ReleaseMappedPages(const void* region, size_t region_bytes, const void* data, size_t bytes);

/// The cache file's name for a listing and geometry (in `dir`).
std::filesystem::path ImageCachePath(const ImageFolderListing& listing, const ImageGeometry& g,
                                     const std::filesystem::path& dir);

/// Opens the cache of `listing` at geometry `g`, building it first (decoding on
/// LibTorch's intra-op threads; the content does not depend on their number) when
/// it is missing or does not match. Throws util::InputError naming the image that
/// fails to decode (the first in listing order), util::IoError when the cache
/// folder or file cannot be written or mapped.
CachedImages OpenImageCache(const ImageFolderListing& listing, const ImageGeometry& g,
                            const ImageCacheOptions& options);

}  // namespace haq::data
