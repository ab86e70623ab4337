#include "deploy/codes.h"

#include <fmt/format.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "quant/quantizers.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::deploy {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPackedFormat = "haq-packed-1";
constexpr int64_t kMaxManifestBytes = int64_t{64} << 20;

// `values` reshaped to broadcast along `axis` of a tensor of `rank` dimensions
// (a single value broadcasts everywhere).
torch::Tensor AlongAxis(const std::vector<double>& values, int64_t axis, int64_t rank) {
  torch::Tensor t = torch::tensor(values, torch::kDouble).to(torch::kFloat);
  if (values.size() == 1 || rank == 0) return t.reshape({});
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = static_cast<int64_t>(values.size());
  return t.reshape(shape);
}

double AsFloat32(double v) { return static_cast<double>(static_cast<float>(v)); }

LayerCodes LinearCodes(const torch::Tensor& wq, const quant::WeightQuantizer& wqz) {
  LayerCodes c;
  c.scheme = "linear";
  c.axis = wqz.axis;
  const int bits = wqz.bits;
  c.zero_point = bits == 1 ? 0.5 : std::ldexp(1.0, bits - 1) - 1.0;
  for (double clip : wqz.clips) {
    // Binary weights {-c, +c} are (code - 0.5) * 2c; the grid is q * clip / n.
    c.scales.push_back(AsFloat32(clip > 0 ? quant::LinearScale(clip, bits, true) : 0.0));
  }
  const torch::Tensor scale = AlongAxis(c.scales, c.axis, wq.dim());
  if (bits == 1) {
    c.codes = (wq > 0).to(torch::kLong);
  } else {
    // Zero scales (a zero clip) quantize everything to 0: code = zero point.
    const torch::Tensor safe = torch::where(scale > 0, scale, torch::ones_like(scale));
    c.codes = torch::round(wq / safe).to(torch::kLong) + static_cast<int64_t>(c.zero_point);
  }
  return c;
}

LayerCodes KMeansCodes(const torch::Tensor& wq, int bits, const std::string& name) {
  LayerCodes c;
  c.scheme = "kmeans";
  const auto [values, inverse, counts] =
      torch::_unique2(wq.reshape({-1}), /*sorted=*/true, /*return_inverse=*/true);
  if (values.numel() > (int64_t{1} << bits)) {
    throw std::logic_error(fmt::format("layer '{}': {} distinct k-means values at {} bits", name,
                                       values.numel(), bits));
  }
  const torch::Tensor v = values.to(torch::kDouble).contiguous();
  c.codebook.assign(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
  c.codes = inverse.reshape(wq.sizes()).to(torch::kLong);
  return c;
}

void CheckCode(int64_t code, int64_t limit, const std::string& where) {
  if (code < 0 || code >= limit) {
    throw util::InputError(fmt::format("{}: expected codes 0..{}, found {}", where, limit - 1, code));
  }
}

// Little-endian bit stream, least significant bit first.
class BitWriter {
 public:
  explicit BitWriter(int64_t total_bits) : bytes_(static_cast<size_t>((total_bits + 7) / 8), 0) {}
  void Put(uint64_t code, int bits) {
    for (int b = 0; b < bits; ++b, ++pos_) {
      if ((code >> b) & 1U) bytes_[static_cast<size_t>(pos_ >> 3)] |= static_cast<char>(1 << (pos_ & 7));
    }
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  int64_t pos_ = 0;
};

uint64_t GetBits(const std::string& bytes, int64_t pos, int bits) {
  uint64_t code = 0;
  for (int b = 0; b < bits; ++b, ++pos) {
    const auto byte = static_cast<unsigned char>(bytes[static_cast<size_t>(pos >> 3)]);
    code |= static_cast<uint64_t>((byte >> (pos & 7)) & 1U) << b;
  }
  return code;
}

uint32_t Crc32(const std::string& bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t done = 0;
  while (done < bytes.size()) {
    const auto n = static_cast<uInt>(std::min<size_t>(bytes.size() - done, 1U << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), n);
    done += n;
  }
  return static_cast<uint32_t>(crc);
}

// Typed access to a manifest field, naming the file and the field path on error.
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) {
      throw util::InputError(fmt::format("{}: expected an object, got {}", where_, j_.type_name()));
    }
  }
  const json& At(const char* key) const { return util::JsonMember(j_, key, where_); }
  std::string Where(const char* key) const { return fmt::format("{}.{}", where_, key); }
  int64_t Int(const char* key, int64_t lo, int64_t hi) const {
    const json& v = At(key);
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      throw util::InputError(fmt::format("{}: expected an integer in {}..{}, got {}", Where(key), lo,
                                         hi, v.dump()));
    }
    return v.get<int64_t>();
  }
  double Number(const char* key) const {
    const json& v = At(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) {
      throw util::InputError(fmt::format("{}: expected a finite number, got {}", Where(key), v.dump()));
    }
    return v.get<double>();
  }
  std::string String(const char* key) const {
    const json& v = At(key);
    if (!v.is_string()) {
      throw util::InputError(fmt::format("{}: expected a string, got {}", Where(key), v.dump()));
    }
    return v.get<std::string>();
  }
  bool Bool(const char* key) const {
    const json& v = At(key);
    if (!v.is_boolean()) {
      throw util::InputError(fmt::format("{}: expected true or false, got {}", Where(key), v.dump()));
    }
    return v.get<bool>();
  }
  std::vector<double> Numbers(const char* key, size_t min_size) const {
    const json& v = At(key);
    std::vector<double> out;
    if (v.is_array()) {
      for (const json& e : v) {
        if (!e.is_number() || !std::isfinite(e.get<double>())) break;
        out.push_back(e.get<double>());
      }
    }
    if (!v.is_array() || out.size() != v.size() || out.size() < min_size) {
      throw util::InputError(fmt::format("{}: expected an array of at least {} finite numbers, got {}",
                                         Where(key), min_size, v.dump().substr(0, 80)));
    }
    return out;
  }

 private:
  const json& j_;
  std::string where_;
};

}  // namespace

int64_t OutputAxis(const graph::Node& node) {
  if (node.op_type == "Conv") return 0;
  if (node.op_type == "Gemm") return node.Int("transB", 0) != 0 ? 0 : 1;
  return 1;  // MatMul: [K, N]
}

std::vector<LayerCodes> ExtractCodes(const graph::Network& net, quant::PolicyHook& hook) {
  torch::NoGradGuard no_grad;
  const auto& qlayers = net.quant_layers();
  const std::vector<double> a_clips = hook.ActivationClips();
  const std::vector<bool> a_signed = hook.ActivationSigned();
  const bool kmeans = hook.context().options().method == quant::WeightMethod::kKMeans;
  std::vector<LayerCodes> out;
  for (size_t i = 0; i < qlayers.size(); ++i) {
    const int bits = hook.policy().layers[i].w_bits;
    const torch::Tensor w = net.Initializer(qlayers[i].weight_value);
    const torch::Tensor wq = hook.Weight(i, w).detach().to(torch::kFloat).contiguous();
    LayerCodes c = kmeans ? KMeansCodes(wq, bits, qlayers[i].name)
                          : LinearCodes(wq, hook.context().Weights(i, bits));
    c.name = qlayers[i].name;
    c.bits = bits;
    c.shape = wq.sizes().vec();
    c.a_bits = hook.policy().layers[i].a_bits;
    c.a_clip = c.a_bits == 0 ? 0.0 : a_clips[i];
    c.a_signed = a_signed[i];
    if (!torch::equal(DecodeWeight(c), wq)) {
      throw std::logic_error(fmt::format(
          "layer '{}': integer codes do not reproduce the quantized weight exactly", c.name));
    }
    out.push_back(std::move(c));
  }
  return out;
}

torch::Tensor DecodeWeight(const LayerCodes& layer) {
  if (layer.scheme == "kmeans") {
    const torch::Tensor book = torch::tensor(layer.codebook, torch::kDouble).to(torch::kFloat);
    return book.index_select(0, layer.codes.reshape({-1})).reshape(layer.shape);
  }
  const torch::Tensor scale =
      AlongAxis(layer.scales, layer.axis, static_cast<int64_t>(layer.shape.size()));
  return (layer.codes.to(torch::kFloat) - static_cast<float>(layer.zero_point)) * scale;
}

int64_t PackedBits(const std::vector<LayerCodes>& layers) {
  int64_t total = 0;
  for (const LayerCodes& l : layers) total += l.codes.numel() * l.bits;
  return total;
}

void WritePacked(const std::vector<LayerCodes>& layers, const graph::Network& net,
                 const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw util::IoError(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  const int64_t total_bits = PackedBits(layers);
  BitWriter writer(total_bits);
  json jl = json::array();
  int64_t offset = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerCodes& l = layers[i];
    const torch::Tensor codes = l.codes.contiguous();
    const int64_t* p = codes.data_ptr<int64_t>();
    for (int64_t k = 0; k < codes.numel(); ++k) writer.Put(static_cast<uint64_t>(p[k]), l.bits);
    json j = {{"name", l.name},
              {"kind", hw::KindName(net.quant_layers()[i].shape.kind)},
              {"shape", l.shape},
              {"bits", l.bits},
              {"bit_offset", offset},
              {"scheme", l.scheme},
              {"a_bits", l.a_bits},
              {"a_clip", l.a_clip},
              {"a_scale", l.a_bits == 0 ? 0.0 : quant::LinearScale(l.a_clip, l.a_bits, l.a_signed)},
              {"a_signed", l.a_signed}};
    if (l.scheme == "kmeans") {
      j["codebook"] = l.codebook;
    } else {
      j["scales"] = l.scales;
      j["axis"] = l.axis;
      j["zero_point"] = l.zero_point;
    }
    jl.push_back(std::move(j));
    offset += codes.numel() * l.bits;
  }
  const std::string& bytes = writer.bytes();
  const json manifest = {
      {"format", kPackedFormat},
      {"model", net.name()},
      {"value", "weight = (code - zero_point) * scale (linear; scale per output channel when "
                "there are several, along axis), or codebook[code] (kmeans)"},
      {"bit_order", "codes in layer order, each `bits` wide, least significant bit first"},
      {"input", {{"chw", net.input_spec().chw}, {"mean", net.input_spec().mean},
                 {"std", net.input_spec().std}}},
      {"weights_file", "weights.bin"},
      {"weights_bits", total_bits},
      {"weights_bytes", static_cast<int64_t>(bytes.size())},
      {"weights_crc32", Crc32(bytes)},
      {"layers", jl}};
  util::WriteFileAtomic(dir / "weights.bin", bytes);
  util::WriteFileAtomic(dir / "manifest.json", manifest.dump(2) + "\n");
}

std::vector<LayerCodes> ReadPacked(const fs::path& dir) {
  const fs::path manifest_path = dir / "manifest.json";
  const std::string src = manifest_path.string();
  const json manifest = util::ReadJsonFile(manifest_path, kMaxManifestBytes);
  const Fields top(manifest, src);
  if (top.String("format") != kPackedFormat) {
    throw util::InputError(fmt::format("{}: format: expected \"{}\", got {}", src, kPackedFormat,
                                       top.At("format").dump()));
  }
  const std::string weights_file = top.String("weights_file");
  if (weights_file.empty() || weights_file.find('/') != std::string::npos || weights_file == "." ||
      weights_file == "..") {
    throw util::InputError(fmt::format("{}: weights_file: expected a file name in the export's "
                                       "directory, got \"{}\"", src, weights_file));
  }
  const fs::path weights_path = dir / weights_file;
  const int64_t total_bits = top.Int("weights_bits", 0, int64_t{1} << 45);
  const int64_t want_bytes = (total_bits + 7) / 8;
  std::error_code ec;
  const auto size = fs::file_size(weights_path, ec);
  if (!ec && size != static_cast<uintmax_t>(want_bytes)) {
    throw util::InputError(fmt::format("{}: expected {} bytes ({} bits, as {} says), got {}",
                                       weights_path.string(), want_bytes, total_bits, src, size));
  }
  const std::string bytes = util::ReadFile(weights_path, static_cast<uintmax_t>(want_bytes));
  if (Crc32(bytes) != static_cast<uint32_t>(top.Int("weights_crc32", 0, 0xFFFFFFFFLL))) {
    throw util::InputError(fmt::format("{}: CRC-32 differs from {}'s weights_crc32: the file is "
                                       "corrupt or from another export",
                                       weights_path.string(), src));
  }
  const json& jl = top.At("layers");
  if (!jl.is_array() || jl.empty()) {
    throw util::InputError(fmt::format("{}: layers: expected a non-empty array", src));
  }
  std::vector<LayerCodes> out;
  int64_t offset = 0;
  for (size_t i = 0; i < jl.size(); ++i) {
    const Fields f(jl[i], fmt::format("{}: layers[{}]", src, i));
    LayerCodes l;
    l.name = f.String("name");
    l.bits = static_cast<int>(f.Int("bits", 1, 8));
    l.scheme = f.String("scheme");
    const json& shape = f.At("shape");
    int64_t count = 1;
    if (!shape.is_array() || shape.empty() || shape.size() > 8) {
      throw util::InputError(fmt::format("{}: expected 1 to 8 dimensions, got {}", f.Where("shape"),
                                         shape.dump()));
    }
    for (const json& d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (int64_t{1} << 31) ||
          count > (int64_t{1} << 40) / d.get<int64_t>()) {
        throw util::InputError(fmt::format("{}: expected positive sizes with at most 2^40 elements, "
                                           "got {}", f.Where("shape"), shape.dump()));
      }
      l.shape.push_back(d.get<int64_t>());
      count *= d.get<int64_t>();
    }
    if (f.Int("bit_offset", 0, total_bits) != offset || offset + count * l.bits > total_bits) {
      throw util::InputError(fmt::format(
          "{}: expected {} (the layers before it) with {} bits left for this layer, got {}",
          f.Where("bit_offset"), offset, count * l.bits, f.At("bit_offset").dump()));
    }
    int64_t limit = 0;
    if (l.scheme == "kmeans") {
      l.codebook = f.Numbers("codebook", 1);
      limit = static_cast<int64_t>(l.codebook.size());
      if (limit > (int64_t{1} << l.bits)) {
        throw util::InputError(fmt::format("{}: expected at most 2^{} values, got {}",
                                           f.Where("codebook"), l.bits, limit));
      }
    } else if (l.scheme == "linear") {
      l.axis = f.Int("axis", 0, static_cast<int64_t>(l.shape.size()) - 1);
      l.scales = f.Numbers("scales", 1);
      l.zero_point = f.Number("zero_point");
      const size_t channels = static_cast<size_t>(l.shape[static_cast<size_t>(l.axis)]);
      if (l.scales.size() != 1 && l.scales.size() != channels) {
        throw util::InputError(fmt::format("{}: expected 1 or {} (shape[{}]) scales, got {}",
                                           f.Where("scales"), channels, l.axis, l.scales.size()));
      }
      limit = l.bits == 1 ? 2 : (int64_t{1} << l.bits) - 1;
    } else {
      throw util::InputError(fmt::format("{}: expected \"linear\" or \"kmeans\", got \"{}\"",
                                         f.Where("scheme"), l.scheme));
    }
    l.a_bits = static_cast<int>(f.Int("a_bits", 0, 8));
    l.a_clip = f.Number("a_clip");
    l.a_signed = f.Bool("a_signed");
    torch::Tensor codes = torch::empty({count}, torch::kLong);
    int64_t* p = codes.data_ptr<int64_t>();
    for (int64_t k = 0; k < count; ++k) {
      p[k] = static_cast<int64_t>(GetBits(bytes, offset + k * l.bits, l.bits));
      CheckCode(p[k], limit, fmt::format("{}: layer '{}' weight {}", weights_path.string(), l.name, k));
    }
    l.codes = codes.reshape(l.shape);
    offset += count * l.bits;
    out.push_back(std::move(l));
  }
  if (offset != total_bits) {
    throw util::InputError(fmt::format("{}: weights_bits: expected {} (the sum over layers), got {}",
                                       src, offset, total_bits));
  }
  return out;
}

}  // namespace haq::deploy
