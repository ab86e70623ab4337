#pragma once
/// The `haq` subcommands. Each Register* declares its flags on `app` and returns
/// the action run when the subcommand is chosen. Only cli/ prints to the user.
#include <CLI/CLI.hpp>

#include <functional>

namespace haq::cli {

using Action = std::function<void()>;

Action RegisterCost(CLI::App& app);
Action RegisterList(CLI::App& app);
Action RegisterTrain(CLI::App& app);
Action RegisterEval(CLI::App& app);
Action RegisterQuantize(CLI::App& app);
Action RegisterSearch(CLI::App& app);
Action RegisterSensitivity(CLI::App& app);
Action RegisterSweep(CLI::App& app);
Action RegisterReport(CLI::App& app);
Action RegisterExport(CLI::App& app);
Action RegisterWorker(CLI::App& app);

}  // namespace haq::cli
