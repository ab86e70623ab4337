// Image folders: listing as torchvision's ImageFolder does, class selection, the
// preprocessed cache (content, reuse, thread count, staleness, damage), and
// LoadDataset's normalisation rules, each with exact messages for bad input.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "data/image_cache.h"
#include "data/image_folder.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "data/options.h"
#include "test_util.h"
#include "util/error.h"
#include "util/file.h"

namespace haq::data {
namespace {

namespace fs = std::filesystem;

/// Writes a PNG of h x w x c (c = 1 or 3) whose pixels depend on `seed`.
void WritePng(const fs::path& path, int h, int w, int c, int seed) {
  fs::create_directories(path.parent_path());
  cv::Mat m(h, w, c == 1 ? CV_8UC1 : CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int k = 0; k < c; ++k) m.ptr<uint8_t>(y)[x * c + k] = static_cast<uint8_t>((seed * 31 + y * 7 + x * 3 + k * 50) % 256);
    }
  }
  ASSERT_TRUE(cv::imwrite(path.string(), m)) << path;
}

/// DIR/train and DIR/val with classes "bird", "cat", "dog", of mixed sizes.
fs::path MakeFolder(const test::TempDir& t) {
  const fs::path root = t / "images";
  int seed = 0;
  for (const std::string split : {"train", "val"}) {
    for (const std::string cls : {"dog", "cat", "bird"}) {
      const int n = split == "train" ? 3 : 2;
      for (int i = 0; i < n; ++i) {
        ++seed;
        WritePng(root / split / cls / ("img" + std::to_string(i) + ".png"), 40 + 3 * i + seed % 5, 50 - i, 3, seed);
      }
    }
  }
  return root;
}

TEST(ImageFolderTest, ListsClassesSortedAndImagesByPathWithExtensionsInAnyCase) {
  test::TempDir t;
  const fs::path root = t / "f";
  WritePng(root / "train" / "b" / "z.PNG", 8, 8, 3, 1);
  WritePng(root / "train" / "b" / "a.png", 8, 8, 3, 2);
  WritePng(root / "train" / "b" / "sub" / "m.png", 8, 8, 3, 3);
  WritePng(root / "train" / "a" / "x.png", 8, 8, 3, 4);
  fs::copy_file(test::DataPath("pil/photo.jpg"), root / "train" / "a" / "y.JPEG");
  std::ofstream(root / "train" / "a" / "notes.txt") << "not an image";
  fs::create_directories(root / "train" / "c");
  WritePng(root / "train" / "c" / "q.bmp", 8, 8, 1, 5);

  const std::vector<std::string> classes = ImageFolderClasses(root, {});
  EXPECT_EQ(classes, (std::vector<std::string>{"a", "b", "c"}));
  const ImageFolderListing l = ListImageFolder(root, "train", classes);
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  for (const ImageFile& f : l.files) {
    paths.push_back(f.path);
    labels.push_back(f.label);
    EXPECT_EQ(f.bytes, fs::file_size(root / "train" / f.path)) << f.path;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"a/x.png", "a/y.JPEG", "b/a.png", "b/sub/m.png", "b/z.PNG", "c/q.bmp"}));
  EXPECT_EQ(labels, (std::vector<int64_t>{0, 0, 1, 1, 1, 2}));
}

TEST(ImageFolderTest, KeepsTheFirstNClassesOrThoseAFileNames) {
  test::TempDir t;
  const fs::path root = MakeFolder(t);
  EXPECT_EQ(ImageFolderClasses(root, {"2"}), (std::vector<std::string>{"bird", "cat"}));
  const auto file = t.Write("wnids.txt", "# the ones we want\ndog\n\n  bird  \n");
  EXPECT_EQ(ImageFolderClasses(root, {file.string()}), (std::vector<std::string>{"bird", "dog"}));
  // Labels are renumbered in the kept classes' sorted order.
  const ImageFolderListing l = ListImageFolder(root, "val", {"bird", "dog"});
  ASSERT_EQ(l.files.size(), 4u);
  EXPECT_EQ(l.files[0].path, "bird/img0.png");
  EXPECT_EQ(l.files[3].path, "dog/img1.png");
  EXPECT_EQ(l.files[3].label, 1);
}

TEST(ImageFolderTest, BadFoldersAndSelectionsAreRefusedWithExactMessages) {
  test::TempDir t;
  const fs::path root = MakeFolder(t);
  const std::string train = (root / "train").string();
  EXPECT_EQ(test::InputErrorOf([&] { ImageFolderClasses(root, {"4"}); }),
            "--classes: expected a count in 1..3 (the classes in " + train + "), got 4");
  EXPECT_EQ(test::InputErrorOf([&] { ImageFolderClasses(root, {"0"}); }),
            "--classes: expected a count in 1..3 (the classes in " + train + "), got 0");
  EXPECT_EQ(test::InputErrorOf([&] { ImageFolderClasses(root, {"no-such-file"}); }),
            "--classes: expected a count of classes or a file listing class names, got 'no-such-file' (no such file)");
  const auto typo = t.Write("typo.txt", "dogs\n");
  EXPECT_EQ(test::InputErrorOf([&] { ImageFolderClasses(root, {typo.string()}); }),
            typo.string() + ": class 'dogs' is not a folder of " + train + " (did you mean 'dog'?)");
  const auto twice = t.Write("twice.txt", "cat\ncat\n");
  EXPECT_EQ(test::InputErrorOf([&] { ImageFolderClasses(root, {twice.string()}); }),
            twice.string() + ": class 'cat' is listed twice");
  const auto empty = t.Write("empty.txt", "# nothing\n");
  EXPECT_EQ(test::InputErrorOf([&] { ImageFolderClasses(root, {empty.string()}); }),
            empty.string() + ": expected class names, one a line; found none");
  EXPECT_EQ(test::InputErrorOf([&] { ImageFolderClasses(t / "none", {}); }),
            (t / "none" / "train").string() + ": expected the training images' (one subfolder per class) folder, found nothing");

  fs::create_directories(root / "val" / "eel");
  EXPECT_EQ(test::InputErrorOf([&] { ListImageFolder(root, "val", {"bird", "cat", "dog"}); }),
            (root / "val").string() + ": class folder 'eel' is not in " + train +
                " (the classes are train/'s folders)");
  fs::remove(root / "val" / "eel");
  fs::remove_all(root / "val" / "cat");
  EXPECT_EQ(test::InputErrorOf([&] { ListImageFolder(root, "val", {"bird", "cat", "dog"}); }),
            (root / "val" / "cat").string() + ": expected class 'cat''s folder, found nothing");
  fs::create_directories(root / "val" / "cat");
  std::ofstream(root / "val" / "cat" / "readme.md") << "no images here";
  EXPECT_EQ(test::InputErrorOf([&] { ListImageFolder(root, "val", {"bird", "cat", "dog"}); }),
            (root / "val" / "cat").string() +
                ": expected at least one image (.jpg .jpeg .png .bmp .ppm .pgm .tif .tiff .webp), found none");
}

/// The cache's images, computed without it.
torch::Tensor Direct(const ImageFolderListing& l, const ImageGeometry& g) {
  std::vector<torch::Tensor> images;
  for (const ImageFile& f : l.files) {
    images.push_back(EvalTransform(DecodeImage((l.root / f.path).string(), g.channels), g.height, g.width));
  }
  return torch::stack(images);
}

/// What a FILE* stream received.
std::string Drain(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int ch; (ch = std::fgetc(f)) != EOF;) s += static_cast<char>(ch);
  std::rewind(f);
  return s;
}

TEST(ImageCacheTest, HoldsTheTransformedImagesAndIsReusedAtAnyThreadCount) {
  test::TempDir t;
  const fs::path root = MakeFolder(t);
  const ImageFolderListing l = ListImageFolder(root, "train", ImageFolderClasses(root, {}));
  const ImageGeometry g{3, 32, 32};
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const CachedImages one = OpenImageCache(l, g, {t / "c1", nullptr});
  torch::set_num_threads(2);
  const CachedImages two = OpenImageCache(l, g, {t / "c2", nullptr});
  torch::set_num_threads(threads);
  EXPECT_TRUE(one.built);
  EXPECT_EQ(one.images.sizes(), (std::vector<int64_t>{9, 3, 32, 32}));
  EXPECT_TRUE(torch::equal(one.images, Direct(l, g)));
  EXPECT_TRUE(torch::equal(one.labels, torch::tensor({0, 0, 0, 1, 1, 1, 2, 2, 2}, torch::kInt64)));
  EXPECT_EQ(util::ReadFile(one.file), util::ReadFile(two.file));
  EXPECT_EQ(one.file.filename(), two.file.filename());

  const CachedImages again = OpenImageCache(l, g, {t / "c1", nullptr});
  EXPECT_FALSE(again.built);
  EXPECT_EQ(again.file, one.file);
  EXPECT_TRUE(torch::equal(again.images, one.images));
  EXPECT_EQ(test::ListDir(t / "c1"), one.file.filename().string() + "\n");
}

TEST(ImageCacheTest, AChangedFolderGetsANewCacheAndADamagedOneIsRebuiltWithAMessage) {
  test::TempDir t;
  const fs::path root = MakeFolder(t);
  const ImageGeometry g{1, 24, 24};
  const auto classes = ImageFolderClasses(root, {});
  const ImageFolderListing before = ListImageFolder(root, "val", classes);
  const CachedImages first = OpenImageCache(before, g, {t / "c", nullptr});

  // Another image in place of one (size and time change): another key, another file.
  WritePng(root / "val" / "cat" / "img1.png", 60, 61, 3, 99);
  const ImageFolderListing after = ListImageFolder(root, "val", classes);
  const CachedImages second = OpenImageCache(after, g, {t / "c", nullptr});
  EXPECT_TRUE(second.built);
  EXPECT_NE(second.file, first.file);
  EXPECT_TRUE(torch::equal(second.images, Direct(after, g)));
  EXPECT_FALSE(torch::equal(second.images, first.images));

  // Damage: one pixel byte flipped, then the file cut short.
  std::FILE* notes = std::tmpfile();
  const std::string good = util::ReadFile(second.file);
  std::string bad = good;
  bad[bad.size() - 5] = static_cast<char>(bad[bad.size() - 5] ^ 0x40);
  util::WriteFileAtomic(second.file, bad);
  const CachedImages repaired = OpenImageCache(after, g, {t / "c", notes});
  EXPECT_TRUE(repaired.built);
  EXPECT_EQ(util::ReadFile(repaired.file), good);
  EXPECT_NE(Drain(notes).find("image cache " + second.file.string() +
                              ": checksum mismatch (the file was damaged); rebuilding it\n"),
            std::string::npos)
      << Drain(notes);

  std::FILE* notes2 = std::tmpfile();
  util::WriteFileAtomic(second.file, good.substr(0, good.size() - 100));
  EXPECT_TRUE(OpenImageCache(after, g, {t / "c", notes2}).built);
  EXPECT_NE(Drain(notes2).find(fmt::format(": {} bytes where {} were expected (truncated or overwritten); rebuilding it",
                                           good.size() - 100, good.size())),
            std::string::npos)
      << Drain(notes2);
  EXPECT_EQ(util::ReadFile(second.file), good);
  std::fclose(notes);
  std::fclose(notes2);

  // An image that does not decode is named; nothing is left behind.
  std::ofstream(root / "val" / "dog" / "img0.png", std::ios::trunc) << "garbage";
  const ImageFolderListing broken = ListImageFolder(root, "val", classes);
  const std::string listing_before = test::ListDir(t / "c");
  EXPECT_EQ(test::InputErrorOf([&] { OpenImageCache(broken, g, {t / "c", nullptr}); }),
            (root / "val" / "dog" / "img0.png").string() +
                ": expected a JPEG, PNG, BMP, PPM/PGM, TIFF or WebP image, got 7 bytes starting 67 61 72 62 61 67 65");
  EXPECT_EQ(test::ListDir(t / "c"), listing_before);
}

/// The resident size in KiB of the mapping holding `p` (its Rss line in
/// /proc/self/smaps): the pages this process has mapped, not the page cache.
int64_t MappedResidentKib(const void* p) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const auto addr = reinterpret_cast<uintptr_t>(p);
  while (std::getline(in, line)) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo <= addr && addr < hi;
    } else if (inside && line.starts_with("Rss:")) {
      return std::stoll(line.substr(4));
    }
  }
  ADD_FAILURE() << "no mapping holds " << p;
  return -1;
}

TEST(ImageCacheTest, ReadingAMappedSetLeavesItsPagesOutOfTheResidentSet) {
  // 60 images of 3x96x96 (1.6 MiB): validation and every loader epoch release the
  // pages they read, so at most the fault-around windows (64 KiB) of the images
  // being read stay mapped, whatever the set's size; the control reads it all.
  test::TempDir t;
  const fs::path root = t / "images";
  for (int i = 0; i < 60; ++i) {
    WritePng(root / "train" / fmt::format("c{}", i % 3) / fmt::format("{}.png", i), 100, 120, 3, i);
    if (i < 3) WritePng(root / "val" / fmt::format("c{}", i) / "v.png", 100, 120, 3, i);
  }
  DataOptions o;
  o.dataset = "imagefolder";
  o.dir = root.string();
  o.cache = (t / "cache").string();
  ModelInput rgb{{3, 96, 96}, {}, {}};
  const Dataset built = LoadDataset(o, /*train=*/true, &rgb);  // builds the cache
  const Dataset d = LoadDataset(o, /*train=*/true, &rgb);      // maps and validates it
  ASSERT_TRUE(d.mapped);
  const void* p = d.images.data_ptr();
  const int64_t total_kib = d.images.nbytes() / 1024;
  const int64_t window_kib = 64;
  EXPECT_LE(MappedResidentKib(p), window_kib) << "after validation";

  EXPECT_GT(d.images.sum().item<int64_t>(), 0);  // the control: every page read
  EXPECT_GE(MappedResidentKib(p), total_kib);

  const int64_t threads = at::get_num_threads();
  for (const bool rrc : {false, true}) {
    ReleaseMappedPages(p, d.images.nbytes(), p, d.images.nbytes());
    EXPECT_LE(MappedResidentKib(p), 4);
    LoaderOptions lo;
    lo.batch_size = 16;
    lo.shuffle = true;
    lo.seed = 3;
    lo.augment.random_resized_crop = rrc;
    lo.augment.hflip = rrc;
    BatchLoader loader(Subset(d, torch::arange(5, 60)), lo);
    Batch b;
    int64_t seen = 0;
    while (loader.Next(b)) seen += b.labels.size(0);
    EXPECT_EQ(seen, 55);
    EXPECT_LE(MappedResidentKib(p), window_kib * (threads + 1)) << "rrc " << rrc << ", of " << total_kib << " KiB";
  }
}

TEST(ImageFolderDatasetTest, NormalisesWithTheModelsStatisticsElseTheFlagsElseImageNets) {
  test::TempDir t;
  const fs::path root = MakeFolder(t);
  DataOptions o;
  o.dataset = "imagefolder";
  o.dir = root.string();
  o.cache = (t / "cache").string();
  ModelInput rgb{{3, 32, 32}, {}, {}};
  const Dataset d = LoadDataset(o, /*train=*/true, &rgb);
  EXPECT_EQ(d.size(), 9);
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"bird", "cat", "dog"}));
  EXPECT_EQ(d.mean, (std::vector<double>{0.485, 0.456, 0.406}));
  EXPECT_EQ(d.std, (std::vector<double>{0.229, 0.224, 0.225}));
  EXPECT_EQ(LoadDataset(o, /*train=*/false, &rgb).size(), 6);

  ModelInput own{{1, 16, 16}, {0.3}, {0.4}};
  const Dataset grey = LoadDataset(o, true, &own);
  EXPECT_EQ(grey.mean, std::vector<double>{0.3});
  EXPECT_EQ(grey.images.sizes(), (std::vector<int64_t>{9, 1, 16, 16}));

  ModelInput bare{{1, 16, 16}, {}, {}};
  EXPECT_EQ(test::InputErrorOf([&] { LoadDataset(o, true, &bare); }),
            "--mean/--std: the model has no normalisation of its own and takes 1 channel(s); give --mean and --std "
            "(ImageNet's are used only for 3 channels)");
  o.mean = {0.5};
  o.std = {0.5, 0.5};
  EXPECT_EQ(test::InputErrorOf([&] { LoadDataset(o, true, &bare); }),
            "--std: expected 1 value(s), one per input channel of the model, got 2");
  o.std = {0.25};
  EXPECT_EQ(LoadDataset(o, true, &bare).std, std::vector<double>{0.25});

  EXPECT_EQ(test::InputErrorOf([&] { LoadDataset(o, true, nullptr); }),
            "--dataset imagefolder: this command cannot read image folders (no model fixes the image size)");
  o.dir.clear();
  EXPECT_EQ(test::InputErrorOf([&] { LoadDataset(o, true, &rgb); }),
            "--data-dir: imagefolder needs the folder holding train/ and val/ (one subfolder per class)");
}

}  // namespace
}  // namespace haq::data
