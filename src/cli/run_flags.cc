#include "cli/run_flags.h"

#include <type_traits>

namespace haq::cli {

std::set<std::string> GivenRunKeys(const CLI::App& app) {
  std::set<std::string> given;
  for (const search::RunParam& p : search::RunParams()) {
    if (app.count(p.flag) > 0) given.insert(p.key);
  }
  return given;
}

void AddRunFlags(CLI::App& app, search::RunSettings& s, const std::set<std::string>& keys) {
  const search::RunSettings defaults;
  for (const search::RunParam& p : search::RunParams()) {
    if (!keys.empty() && !keys.contains(p.key)) continue;
    std::visit(
        [&](auto member) {
          using T = std::remove_cvref_t<decltype(s.*member)>;
          if constexpr (std::is_same_v<T, bool>) {
            // A flag that turns a default on (--budget-state) or off (--no-pin-first).
            app.add_flag((defaults.*member ? "!" : "") + p.flag, s.*member, p.help);
          } else {
            CLI::Option* option = app.add_option(p.flag, s.*member, p.help)->capture_default_str();
            if constexpr (std::is_same_v<T, std::string>) {
              if (!p.allowed.empty()) option->check(CLI::IsMember(p.allowed));
              if (p.repeatable) {
                option->delimiter(',')->multi_option_policy(CLI::MultiOptionPolicy::Join);
              }
            } else if constexpr (std::is_same_v<T, double>) {
              if (p.min > 0 && p.min < 1e-20) {  // any positive number (learning rates)
                option->check(CLI::PositiveNumber);
              } else {
                option->check(CLI::Range(p.min, p.max));
              }
            } else if constexpr (!std::is_unsigned_v<T>) {
              option->check(CLI::Range(static_cast<T>(p.min), static_cast<T>(p.max)));
            }
          }
        },
        p.member);
  }
}

}  // namespace haq::cli
