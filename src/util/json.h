#pragma once
/// JSON input with the project's error contract: text that does not parse (or holds
/// a number beyond double's range, like 1E999) becomes an InputError naming where it
/// came from, never an internal error.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace haq::util {

/// Parses `text`; InputError "WHERE: malformed JSON: REASON" otherwise.
nlohmann::json ParseJson(std::string_view text, const std::string& where);

/// Reads (ReadFile, with its size guard) and parses the file at `path`; errors name it.
nlohmann::json ReadJsonFile(const std::filesystem::path& path,
                            std::uintmax_t max_bytes = std::uintmax_t{1} << 32);

}  // namespace haq::util
