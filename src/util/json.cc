#include "util/json.h"

#include <fmt/format.h>

#include "util/error.h"
#include "util/file.h"

namespace haq::util {

nlohmann::json ParseJson(std::string_view text, const std::string& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range (1E999)
    throw InputError(fmt::format("{}: malformed JSON: {}", where, e.what()));
  }
}

nlohmann::json ReadJsonFile(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  return ParseJson(ReadFile(path, max_bytes), path.string());
}

}  // namespace haq::util
