#pragma once
/// The flags of the run parameters (search/run_settings.h), each with its
/// parameter's check and default, for `haq search` and the commands that run a part
/// of a search (`haq sensitivity`).
#include <CLI/CLI.hpp>

#include <set>
#include <string>

#include "search/run_settings.h"

namespace haq::cli {

/// One flag per run parameter writing into `s`; only those of `keys` (settings keys)
/// unless it is empty.
void AddRunFlags(CLI::App& app, search::RunSettings& s, const std::set<std::string>& keys = {});

/// The settings keys of the run flags given on `app`'s command line.
std::set<std::string> GivenRunKeys(const CLI::App& app);

}  // namespace haq::cli
