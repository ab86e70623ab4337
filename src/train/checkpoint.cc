#include "train/checkpoint.h"

#include <fmt/format.h>

#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

namespace haq::train {

namespace {

c10::Dict<std::string, at::Tensor> ToDict(const std::map<std::string, torch::Tensor>& m) {
  c10::Dict<std::string, at::Tensor> d;
  for (const auto& [k, v] : m) d.insert(k, v.detach().contiguous());
  return d;
}

std::map<std::string, torch::Tensor> FromDict(const c10::IValue& v, const std::string& where) {
  if (!v.isGenericDict()) throw util::InputError(where + ": expected a dict of tensors");
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : v.toGenericDict()) {
    if (!kv.key().isString() || !kv.value().isTensor()) {
      throw util::InputError(where + ": expected a dict of name -> tensor");
    }
    out[kv.key().toStringRef()] = kv.value().toTensor();
  }
  return out;
}

}  // namespace

void SaveCheckpoint(const Checkpoint& c, const std::filesystem::path& path) {
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("format", std::string(kCheckpointFormat));
  d.insert("model_name", c.model);
  d.insert("meta", c.meta.dump());
  d.insert("model", ToDict(c.model_state));
  d.insert("optimizer", ToDict(c.optimizer_state));
  const std::vector<char> bytes = torch::pickle_save(d);
  util::WriteFileAtomic(path, std::string_view(bytes.data(), bytes.size()));
}

Checkpoint LoadCheckpoint(const std::filesystem::path& path) {
  const std::string bytes = util::ReadFile(path, std::uintmax_t{4} << 30);
  const std::string where = path.string();
  c10::IValue root;
  try {
    root = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw util::InputError(fmt::format("{}: not a haq checkpoint (unreadable archive: {})", where, why));
  }
  if (!root.isGenericDict()) throw util::InputError(where + ": not a haq checkpoint (no top-level dict)");
  const auto dict = root.toGenericDict();
  auto get = [&](const char* key) -> c10::IValue {
    if (!dict.contains(key)) {
      throw util::InputError(fmt::format("{}: not a haq checkpoint (no '{}' entry)", where, key));
    }
    return dict.at(key);
  };
  const c10::IValue format = get("format");
  if (!format.isString() || format.toStringRef() != kCheckpointFormat) {
    throw util::InputError(fmt::format("{}: format: expected '{}', got '{}'", where, kCheckpointFormat,
                                       format.isString() ? format.toStringRef() : "?"));
  }
  auto string_entry = [&](const char* key) {
    const c10::IValue v = get(key);
    if (!v.isString()) {
      throw util::InputError(fmt::format("{}: {}: expected a string, got {}", where, key,
                                         v.tagKind()));
    }
    return v.toStringRef();
  };
  Checkpoint c;
  c.model = string_entry("model_name");
  c.meta = util::ParseJson(string_entry("meta"), where + ": meta");
  if (c.meta.is_null()) c.meta = nlohmann::json::object();
  if (!c.meta.is_object()) {
    throw util::InputError(
        fmt::format("{}: meta: expected a JSON object, got {}", where, c.meta.type_name()));
  }
  c.model_state = FromDict(get("model"), where + ": model");
  c.optimizer_state = FromDict(get("optimizer"), where + ": optimizer");
  return c;
}

}  // namespace haq::train
