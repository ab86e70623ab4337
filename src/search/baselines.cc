#include "search/baselines.h"

#include <fmt/format.h>

#include <cctype>
#include <stdexcept>
#include <sstream>

#include "util/error.h"
#include "util/file.h"

namespace haq::search {

namespace {
constexpr const char* kUniformHeader = "haq-uniform-agent-1";
constexpr const char* kRandomHeader = "haq-random-agent-1";
constexpr const char* kPlannedHeader = "haq-planned-agent-1";

// The file's text after its first line, which must be `header`.
std::string Body(const std::string& path, const char* header) {
  const std::string text = util::ReadFile(path);
  const auto nl = text.find('\n');
  if (nl == std::string::npos || text.substr(0, nl) != header) {
    throw util::InputError(
        fmt::format("{}: expected a saved agent starting with '{}', got something else", path, header));
  }
  return text.substr(nl + 1);
}
}  // namespace

void UniformAgent::Save(const std::string& path) const {
  util::WriteFileAtomic(path, fmt::format("{}\n{:.17g}\n", kUniformHeader, action_));
}

void UniformAgent::Load(const std::string& path) {
  std::string body = Body(path, kUniformHeader);
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
  char* end = nullptr;
  const double a = std::strtod(body.c_str(), &end);
  // The whole body must be the number; NaN fails both comparisons.
  if (body.empty() || *end != '\0' || !(a >= 0 && a <= 1)) {
    throw util::InputError(fmt::format("{}: expected an action in [0, 1], got '{}'", path, body));
  }
  action_ = a;
}

double RandomAgent::Act(const std::vector<float>&) { return UniformUnit(rng_); }

void RandomAgent::Save(const std::string& path) const {
  std::ostringstream s;
  s << rng_;
  util::WriteFileAtomic(path, fmt::format("{}\n{}\n", kRandomHeader, s.str()));
}

void RandomAgent::Load(const std::string& path) {
  std::istringstream s(Body(path, kRandomHeader));
  std::mt19937_64 rng;
  s >> rng;
  if (s.fail()) {
    throw util::InputError(fmt::format("{}: expected a random generator state, got malformed text", path));
  }
  rng_ = rng;
}

PlannedAgent::PlannedAgent(std::string name, Planner planner)
    : name_(std::move(name)), planner_(std::move(planner)) {}

PlannedAgent::PlannedAgent(std::string name, std::vector<std::vector<double>> plan)
    : name_(std::move(name)), plan_(std::move(plan)) {
  if (plan_.empty()) throw util::InputError(fmt::format("{}: expected at least one planned policy", name_));
}

void PlannedAgent::Prepare(const std::filesystem::path& dir) {
  if (!planner_) return;
  plan_ = planner_(dir);
  if (plan_.empty()) throw util::InputError(fmt::format("{}: expected at least one planned policy", name_));
}

const std::vector<std::vector<double>>& PlannedAgent::Plan() const {
  if (plan_.empty()) {
    throw std::logic_error(fmt::format("{}: used before Prepare made its plan", name_));
  }
  return plan_;
}

void PlannedAgent::BeginEpisode(int64_t episode) {
  current_ = static_cast<size_t>(episode) % Plan().size();
  step_ = 0;
}

double PlannedAgent::Act(const std::vector<float>&) {
  const std::vector<double>& actions = Plan()[current_];
  if (step_ >= actions.size()) {
    throw util::InputError(fmt::format("{}: planned policy {} has {} steps, asked for step {}",
                                       name_, current_, actions.size(), step_ + 1));
  }
  return actions[step_++];
}

std::string PlannedAgent::Text() const {
  std::string text = fmt::format("{}\n{}\n", kPlannedHeader, Plan().size());
  for (const auto& actions : Plan()) {
    for (double a : actions) text += fmt::format("{:.17g} ", a);
    text += "\n";
  }
  return text;
}

void PlannedAgent::Save(const std::string& path) const { util::WriteFileAtomic(path, Text()); }

void PlannedAgent::Load(const std::string& path) {
  Body(path, kPlannedHeader);  // the header check
  if (util::ReadFile(path) != Text()) {
    throw util::InputError(fmt::format(
        "{}: the run's planned policies differ from the ones planned now (another sensitivity "
        "table or solver?); start a new run",
        path));
  }
}

}  // namespace haq::search
