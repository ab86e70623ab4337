#include "search/restarts.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <string>

#include "util/error.h"
#include "util/file.h"

namespace haq::search {

namespace {
constexpr std::string_view kHeader = "haq-restarting-agent-1";

// Removes a file when it goes out of scope (the inner agent's save, staged beside
// the combined one; a leftover after a kill is an "agent-" file the search cleans up).
struct Staged {
  std::string path;
  ~Staged() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};
}  // namespace

RestartingAgent::RestartingAgent(Factory make, int64_t episodes_per_restart, std::FILE* progress)
    : make_(std::move(make)), episodes_per_restart_(episodes_per_restart), progress_(progress) {
  if (episodes_per_restart_ < 1) {
    throw util::InputError(fmt::format(
        "RestartingAgent: expected at least 1 episode per restart, got {}", episodes_per_restart_));
  }
  agent_ = make_(0);
}

std::string RestartingAgent::name() const { return agent_->name(); }

void RestartingAgent::BeginEpisode(int64_t episode) {
  if (episode < 0) {
    throw util::InputError(
        fmt::format("RestartingAgent::BeginEpisode: expected episode >= 0, got {}", episode));
  }
  const int64_t r = RestartOf(episode);
  // Episodes come in order: the current restart's, or the first of the next. Anything
  // else means the saved agent does not belong to this point of the run.
  if (r != restart_ && !(r == restart_ + 1 && episode == r * episodes_per_restart_)) {
    throw util::InputError(fmt::format(
        "a search with restarts of {} episodes: episode {} belongs to restart {}, but the agent "
        "is in restart {}",
        episodes_per_restart_, episode + 1, r + 1, restart_ + 1));
  }
  if (r != restart_) {
    agent_ = make_(r);
    restart_ = r;
    if (progress_ != nullptr) {
      fmt::print(progress_, "restart {}: a fresh {} agent from episode {}\n", r + 1, agent_->name(),
                 episode + 1);
    }
  }
  agent_->BeginEpisode(episode - r * episodes_per_restart_);
}

double RestartingAgent::Act(const std::vector<float>& state) { return agent_->Act(state); }

void RestartingAgent::EndEpisode(const Episode& episode) {
  if (episode.index < 0) return agent_->EndEpisode(episode);
  if (RestartOf(episode.index) != restart_) {
    throw util::InputError(fmt::format("a search with restarts of {} episodes: ending episode {} "
                                       "of restart {}, but the agent is in restart {}",
                                       episodes_per_restart_, episode.index + 1,
                                       RestartOf(episode.index) + 1, restart_ + 1));
  }
  Episode inner = episode;
  inner.index -= restart_ * episodes_per_restart_;
  agent_->EndEpisode(inner);
}

void RestartingAgent::Save(const std::string& path) const {
  const Staged inner{path + ".inner"};
  agent_->Save(inner.path);
  util::WriteFileAtomic(path, fmt::format("{}\n{}\n", kHeader, restart_) + util::ReadFile(inner.path));
}

void RestartingAgent::Load(const std::string& path) {
  const std::string text = util::ReadFile(path);
  const size_t first = text.find('\n');
  const size_t second = first == std::string::npos ? first : text.find('\n', first + 1);
  if (first == std::string::npos || std::string_view(text).substr(0, first) != kHeader) {
    // A save of the strategy itself: a run started without restarts, now given some.
    std::unique_ptr<Agent> agent = make_(0);
    agent->Load(path);
    agent_ = std::move(agent);
    restart_ = 0;
    return;
  }
  if (second == std::string::npos) {
    throw util::InputError(
        fmt::format("{}: line 2: expected the restart, a number >= 0, got the end of the file", path));
  }
  const std::string_view number = std::string_view(text).substr(first + 1, second - first - 1);
  int64_t r = -1;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), r);
  if (ec != std::errc() || end != number.data() + number.size() || r < 0) {
    throw util::InputError(fmt::format("{}: line 2: expected the restart, a number >= 0, got '{}'",
                                       path, number));
  }
  const Staged inner{path + ".inner"};
  util::WriteFileAtomic(inner.path, std::string_view(text).substr(second + 1));
  std::unique_ptr<Agent> agent = make_(r);
  try {
    agent->Load(inner.path);
  } catch (const util::InputError& e) {
    // Name the file the user has, not the staged copy.
    std::string message = e.what();
    for (size_t at = message.find(inner.path); at != std::string::npos;
         at = message.find(inner.path, at)) {
      message.replace(at, inner.path.size(), path);
      at += path.size();
    }
    throw util::InputError(fmt::format("{} (restart {}'s agent)", message, r + 1));
  }
  agent_ = std::move(agent);
  restart_ = r;
}

}  // namespace haq::search
