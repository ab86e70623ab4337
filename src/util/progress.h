#pragma once
/// Progress lines for long runs: done/total, rate and ETA. On a terminal the line is
/// redrawn in place; otherwise (logs, CI) a line is printed at most every
/// `min_interval_s` seconds, so logs stay short. The library reports through a
/// Progress it is given; only the CLI decides where it goes.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace haq::util {

/// Seconds elapsed since `t0` on the steady clock.
double SecondsSince(std::chrono::steady_clock::time_point t0);

/// "1:02:03" / "2:03" for seconds.
std::string FormatDuration(double seconds);

class Progress {
 public:
  /// `stream` may be nullptr (silent). `unit` names what is counted ("img").
  Progress(std::FILE* stream, std::string label, int64_t total, std::string unit,
           double min_interval_s = 10.0);
  /// Reports `done` of total with an optional suffix ("loss 0.31").
  void Update(int64_t done, const std::string& suffix = "");
  /// Final line with the elapsed time.
  void Finish(const std::string& suffix = "");
  double ElapsedSeconds() const;

 private:
  std::string Line(int64_t done, const std::string& suffix) const;
  std::FILE* stream_;
  std::string label_;
  int64_t total_;
  std::string unit_;
  double min_interval_s_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  bool printed_ = false;
};

}  // namespace haq::util
