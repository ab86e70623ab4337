#include "data/image_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <set>
#include <sstream>

#include "util/error.h"
#include "util/file.h"

namespace haq::data {

namespace fs = std::filesystem;
using util::InputError;
using util::IoError;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool IsImageName(const fs::path& p) {
  const std::string ext = Lower(p.extension().string());
  const auto& known = ImageExtensions();
  return std::find(known.begin(), known.end(), ext) != known.end();
}

/// The sorted names of the subfolders of `dir` (links to folders included).
std::vector<std::string> SubfolderNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) names.push_back(it->path().filename().string());
  }
  if (ec) throw IoError(fmt::format("{}: cannot read the folder: {}", dir.string(), ec.message()));
  std::sort(names.begin(), names.end());
  return names;
}

void RequireFolder(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(fmt::format("{}: expected {} folder, found {}", dir.string(), what,
                                 fs::exists(dir, ec) ? "a file" : "nothing"));
  }
}

/// The classes a selection file names, in file order.
std::vector<std::string> ReadClassFile(const std::string& path) {
  std::vector<std::string> names;
  std::istringstream in(util::ReadFile(path, std::uintmax_t{64} << 20));
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    size_t start = 0;
    while (start < line.size() && std::isspace(static_cast<unsigned char>(line[start]))) ++start;
    line = line.substr(start);
    if (line.empty() || line[0] == '#') continue;
    if (line.find('/') != std::string::npos) {
      throw InputError(fmt::format("{}:{}: expected a class folder name, got '{}'", path, line_no, line));
    }
    names.push_back(line);
  }
  if (names.empty()) throw InputError(fmt::format("{}: expected class names, one a line; found none", path));
  return names;
}

}  // namespace

const std::vector<std::string>& ImageExtensions() {
  static const std::vector<std::string> kExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".ppm",
                                                       ".pgm", ".tif",  ".tiff", ".webp"};
  return kExtensions;
}

std::vector<std::string> ImageFolderClasses(const fs::path& dir, const ClassSelection& classes) {
  const fs::path train = dir / "train";
  RequireFolder(train, "the training images' (one subfolder per class)");
  std::vector<std::string> all = SubfolderNames(train);
  if (all.empty()) {
    throw InputError(fmt::format("{}: expected one subfolder per class, found none", train.string()));
  }
  const std::string& spec = classes.spec;
  if (spec.empty()) return all;

  int64_t count = 0;
  const auto [end, err] = std::from_chars(spec.data(), spec.data() + spec.size(), count);
  if (err == std::errc() && end == spec.data() + spec.size()) {
    if (count < 1 || count > static_cast<int64_t>(all.size())) {
      throw InputError(fmt::format("--classes: expected a count in 1..{} (the classes in {}), got {}",
                                   all.size(), train.string(), spec));
    }
    all.resize(static_cast<size_t>(count));
    return all;
  }
  std::error_code ec;
  if (!fs::is_regular_file(spec, ec)) {
    throw InputError(fmt::format(
        "--classes: expected a count of classes or a file listing class names, got '{}' (no such file)", spec));
  }
  std::vector<std::string> wanted = ReadClassFile(spec);
  std::set<std::string> seen;
  for (const std::string& name : wanted) {
    if (!std::binary_search(all.begin(), all.end(), name)) {
      throw InputError(fmt::format("{}: class '{}' is not a folder of {}{}", spec, name, train.string(),
                                   util::DidYouMean(name, all)));
    }
    if (!seen.insert(name).second) throw InputError(fmt::format("{}: class '{}' is listed twice", spec, name));
  }
  std::sort(wanted.begin(), wanted.end());
  return wanted;
}

ImageFolderListing ListImageFolder(const fs::path& dir, const std::string& split,
                                   const std::vector<std::string>& class_names) {
  ImageFolderListing out;
  out.root = dir / split;
  RequireFolder(out.root, fmt::format("the {} images' (one subfolder per class)", split));
  out.class_names = class_names;
  if (split != "train") {
    const std::vector<std::string> train_classes = SubfolderNames(dir / "train");
    for (const std::string& name : SubfolderNames(out.root)) {
      if (!std::binary_search(train_classes.begin(), train_classes.end(), name)) {
        throw InputError(fmt::format("{}: class folder '{}' is not in {} (the classes are train/'s folders)",
                                     out.root.string(), name, (dir / "train").string()));
      }
    }
  }
  for (size_t label = 0; label < class_names.size(); ++label) {
    const fs::path class_dir = out.root / class_names[label];
    RequireFolder(class_dir, fmt::format("class '{}''s", class_names[label]));
    std::vector<ImageFile> files;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(class_dir, fs::directory_options::follow_directory_symlink, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      if (!it->is_regular_file(type_ec) || !IsImageName(it->path())) continue;
      ImageFile f;
      f.path = it->path().lexically_relative(out.root).generic_string();
      f.label = static_cast<int64_t>(label);
      f.bytes = it->file_size(type_ec);
      const auto mtime = it->last_write_time(type_ec);
      f.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
      if (type_ec) {
        throw IoError(fmt::format("{}: cannot read its size or time: {}", it->path().string(), type_ec.message()));
      }
      files.push_back(std::move(f));
    }
    if (ec) throw IoError(fmt::format("{}: cannot read the folder: {}", class_dir.string(), ec.message()));
    if (files.empty()) {
      throw InputError(fmt::format("{}: expected at least one image ({}), found none", class_dir.string(),
                                   util::JoinNames(ImageExtensions(), " ")));
    }
    std::sort(files.begin(), files.end(), [](const ImageFile& a, const ImageFile& b) { return a.path < b.path; });
    out.files.insert(out.files.end(), std::make_move_iterator(files.begin()), std::make_move_iterator(files.end()));
  }
  return out;
}

}  // namespace haq::data
