#pragma once
/// JSON input with the project's error contract: text that does not parse (or holds
/// a number beyond double's range, like 1E999) becomes an InputError naming where it
/// came from, never an internal error.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace haq::util {

/// Parses `text`; InputError "WHERE: malformed JSON: REASON" otherwise, and
/// "WHERE: KEY: key given twice in one object" for a repeated key (which nlohmann
/// would resolve silently to the last value).
nlohmann::json ParseJson(std::string_view text, const std::string& where);

/// The parser callback ParseJson uses to refuse repeated keys, for callers that
/// parse themselves (to report line and column). Each call makes a fresh state.
nlohmann::json::parser_callback_t RejectDuplicateKeys(const std::string& where);

/// Reads (ReadFile, with its size guard) and parses the file at `path`; errors name it.
nlohmann::json ReadJsonFile(const std::filesystem::path& path,
                            std::uintmax_t max_bytes = std::uintmax_t{1} << 32);

/// How a value of type T is described in messages ("an integer", ...).
template <typename T>
constexpr const char* JsonExpected() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  if constexpr (std::is_floating_point_v<T>) return "a number";
  if constexpr (std::is_integral_v<T>) return "an integer";
  return "a string";
}

/// True if `v` holds a T exactly: integers must be integers (3.5 is not truncated)
/// within T's range, numbers finite JSON numbers, strings strings, bools bools.
template <typename T>
bool JsonIs(const nlohmann::json& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean();
  } else if constexpr (std::is_floating_point_v<T>) {
    return v.is_number();
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(std::is_signed_v<T>, "read unsigned fields as int64_t and range-check them");
    if (v.is_number_unsigned()) {
      return v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    }
    if (!v.is_number_integer()) return false;
    const int64_t x = v.get<int64_t>();
    return x >= std::numeric_limits<T>::min() && x <= std::numeric_limits<T>::max();
  } else {
    return v.is_string();
  }
}

/// Field `key` of object `j`, of any type. InputError "WHERE: missing field 'KEY'"
/// (also when `j` is not an object).
inline const nlohmann::json& JsonMember(const nlohmann::json& j, const char* key,
                                        const std::string& where) {
  if (!j.is_object() || !j.contains(key)) {
    throw InputError(where + ": missing field '" + key + "'");
  }
  return j.at(key);
}

/// Field `key` of object `j` as a T. InputError "WHERE: missing field 'KEY'" (also
/// when `j` is not an object) or "WHERE: KEY: expected an integer, got VALUE".
template <typename T>
T JsonField(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = JsonMember(j, key, where);
  if (!JsonIs<T>(v)) {
    throw InputError(where + ": " + key + ": expected " + JsonExpected<T>() + ", got " + v.dump());
  }
  return v.get<T>();
}

/// `v` as a list of numbers: "WHERE: expected an array of numbers, got TYPE" or
/// "WHERE[I]: expected a number, got TYPE".
std::vector<double> JsonNumbers(const nlohmann::json& v, const std::string& where);

/// The same, but `fallback` when `j` has no `key`.
template <typename T>
T JsonFieldOr(const nlohmann::json& j, const char* key, const std::string& where, T fallback) {
  if (j.is_object() && !j.contains(key)) return fallback;
  return JsonField<T>(j, key, where);
}

}  // namespace haq::util
