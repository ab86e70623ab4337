#pragma once
/// Image folders in torchvision's ImageFolder layout: DIR/train/<class>/... and
/// DIR/val/<class>/..., one subfolder per class. The classes are the sorted names
/// of train/'s subfolders (byte order, as Python's sorted), a class's label is its
/// index among them, and val/ must hold the same classes. An image is any regular
/// file (or link to one) below a class folder, at any depth, whose extension is one
/// of kImageExtensions (case-insensitive); files are listed in sorted path order.
/// Other files are skipped, as torchvision does.
///
/// This file only lists; decoding and preprocessing are image_io.h and the cache
/// image_cache.h. It does not depend on LibTorch.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace haq::data {

/// The extensions listed (lower case; matched case-insensitively): those of
/// torchvision's IMG_EXTENSIONS that OpenCV's imgcodecs decodes.
const std::vector<std::string>& ImageExtensions();

/// One listed image.
struct ImageFile {
  std::string path;          ///< relative to the split's folder: "<class>/<name>"
  int64_t label = 0;         ///< index of its class
  std::uintmax_t bytes = 0;  ///< file size when listed
  int64_t mtime_ns = 0;      ///< modification time when listed (nanoseconds since the epoch)
};

/// The images of one split folder.
struct ImageFolderListing {
  std::filesystem::path root;            ///< DIR/train or DIR/val
  std::vector<std::string> class_names;  ///< sorted; labels index them
  std::vector<ImageFile> files;          ///< sorted by path
};

/// Which classes to keep: all (empty), the first N sorted ("100": HAQ's
/// ImageNet-100), or the names listed one a line in a file (blank lines and lines
/// starting with '#' ignored). Labels are renumbered 0..K-1 in sorted name order.
struct ClassSelection {
  std::string spec;  ///< "" | N | FILE
};

/// The sorted class names of `dir`/train after applying `classes`. Throws
/// util::InputError naming the folder when DIR/train is missing, has no class
/// subfolder, or `classes` asks for more classes than there are, names a class
/// that is not there (with the closest name), repeats one, or is neither a
/// positive count nor a readable file.
std::vector<std::string> ImageFolderClasses(const std::filesystem::path& dir,
                                            const ClassSelection& classes);

/// Lists DIR/`split` ("train" or "val") for the given classes (from
/// ImageFolderClasses). Throws util::InputError naming the folder when the split
/// folder or one of the classes' folders is missing, when a class folder holds no
/// image (naming the extensions looked for), or when val/ holds a class folder
/// that train/ lacks; util::IoError when the OS refuses a directory read.
ImageFolderListing ListImageFolder(const std::filesystem::path& dir, const std::string& split,
                                   const std::vector<std::string>& class_names);

}  // namespace haq::data
