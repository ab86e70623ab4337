#include "util/json.h"

#include <fmt/format.h>

#include <memory>
#include <set>
#include <vector>

#include "util/error.h"
#include "util/file.h"

namespace haq::util {

nlohmann::json::parser_callback_t RejectDuplicateKeys(const std::string& where) {
  // The keys seen so far in each object still open, innermost last.
  auto open = std::make_shared<std::vector<std::set<std::string>>>();
  return [open, where](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      open->emplace_back();
    } else if (event == E::object_end) {
      open->pop_back();
    } else if (event == E::key && !open->back().insert(parsed.get<std::string>()).second) {
      throw InputError(fmt::format("{}: {}: key given twice in one object", where,
                                   parsed.get<std::string>()));
    }
    return true;
  };
}

nlohmann::json ParseJson(std::string_view text, const std::string& where) {
  try {
    return nlohmann::json::parse(text, RejectDuplicateKeys(where));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range (1E999)
    throw InputError(fmt::format("{}: malformed JSON: {}", where, e.what()));
  }
}

nlohmann::json ReadJsonFile(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  return ParseJson(ReadFile(path, max_bytes), path.string());
}

std::vector<double> JsonNumbers(const nlohmann::json& v, const std::string& where) {
  if (!v.is_array()) {
    throw InputError(where + ": expected an array of numbers, got " + v.type_name());
  }
  std::vector<double> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number()) {
      throw InputError(where + "[" + std::to_string(i) + "]: expected a number, got " +
                       v[i].type_name());
    }
    out.push_back(v[i].get<double>());
  }
  return out;
}

}  // namespace haq::util
