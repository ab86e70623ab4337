#include "util/progress.h"

#include <fmt/format.h>
#include <unistd.h>

namespace haq::util {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(std::FILE* stream, std::string label, int64_t total, std::string unit,
                   double min_interval_s)
    : stream_(stream),
      label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      min_interval_s_(min_interval_s),
      tty_(stream && ::isatty(::fileno(stream))),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::ElapsedSeconds() const {
  return SecondsSince(start_);
}

std::string Progress::Line(int64_t done, const std::string& suffix) const {
  const double elapsed = ElapsedSeconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  constexpr int kWidth = 20;
  const int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : 0;
  const std::string bar = std::string(static_cast<size_t>(filled), '#') +
                          std::string(static_cast<size_t>(kWidth - filled), '.');
  return fmt::format("{} [{}] {}/{} {:.0f} {}/s ETA {}{}{}", label_, bar, done, total_, rate, unit_,
                     FormatDuration(eta), suffix.empty() ? "" : " ", suffix);
}

void Progress::Update(int64_t done, const std::string& suffix) {
  if (!stream_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (tty_) {
    if (since < 0.2 && done < total_) return;
    fmt::print(stream_, "\r\033[K{}", Line(done, suffix));
  } else {
    if (since < min_interval_s_ && printed_) return;
    fmt::print(stream_, "{}\n", Line(done, suffix));
  }
  std::fflush(stream_);
  last_print_ = now;
  printed_ = true;
}

void Progress::Finish(const std::string& suffix) {
  if (!stream_) return;
  fmt::print(stream_, "{}{} done in {}{}{}\n", tty_ ? "\r\033[K" : "", label_,
             FormatDuration(ElapsedSeconds()), suffix.empty() ? "" : ", ", suffix);
  std::fflush(stream_);
}

}  // namespace haq::util
