#include "report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace haq::report {

Ticks NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = hi = 0.0;
  if (lo > hi) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double rough = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(rough)));
  const double norm = rough / mag;
  const double step = (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
  // Small tolerances keep data that sits on a tick (up to rounding) from adding a tick.
  const auto first = static_cast<int64_t>(std::floor(lo / step + 1e-9));
  const auto last = static_cast<int64_t>(std::ceil(hi / step - 1e-9));
  Ticks t;
  t.step = step;
  for (int64_t k = first; k <= last; ++k) {
    const double v = static_cast<double>(k) * step;
    t.values.push_back(v == 0.0 ? 0.0 : v);  // no "-0"
  }
  t.lo = t.values.front();
  t.hi = t.values.back();
  return t;
}

std::string FormatTick(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  std::string s = fmt::format("{:.{}f}", value, decimals);
  if (s.starts_with("-") && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

namespace svg {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Num(double value) { return fmt::format("{}", value); }

std::string Px(double value) {
  std::string s = fmt::format("{:.2f}", value);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

Scale XScale(const Frame& f, const Ticks& t) { return {t.lo, t.hi, f.left, f.right()}; }
Scale YScale(const Frame& f, const Ticks& t) { return {t.lo, t.hi, f.bottom(), f.top}; }

std::string Open(const std::string& id, double width, double height, const std::string& title) {
  return fmt::format(
      "<svg class=\"chart\" id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" role=\"img\"><title>{}</title>\n",
      id, Px(width), Px(height), Px(width), Px(height), Escape(title));
}

std::string Text(double x, double y, const std::string& text, const std::string& css_class,
                 const std::string& anchor) {
  return fmt::format("<text x=\"{}\" y=\"{}\" class=\"{}\" text-anchor=\"{}\">{}</text>\n", Px(x),
                     Px(y), css_class, anchor, Escape(text));
}

std::string YAxis(const Frame& f, const Scale& y, const Ticks& t, const std::string& label) {
  std::string out = "<g class=\"axis\">\n";
  for (double v : t.values) {
    const double py = y(v);
    out += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n",
                       Px(f.left), Px(f.right()), Px(py), Px(py));
    out += Text(f.left - 6, py + 4, FormatTick(v, t.step), "tick", "end");
  }
  out += fmt::format("<line class=\"axis-line\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>\n",
                     Px(f.left), Px(f.top), Px(f.bottom()));
  const double cy = f.top + f.height / 2;
  out += fmt::format(
      "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate({} {}) rotate(-90)\">"
      "{}</text>\n</g>\n",
      Px(f.left - 52), Px(cy), Escape(label));
  return out;
}

std::string XAxis(const Frame& f, const Scale& x, const Ticks& t, const std::string& label) {
  std::string out = "<g class=\"axis\">\n";
  for (double v : t.values) {
    const double px = x(v);
    out += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n", Px(px),
                       Px(px), Px(f.top), Px(f.bottom()));
    out += Text(px, f.bottom() + 16, FormatTick(v, t.step), "tick", "middle");
  }
  out += fmt::format("<line class=\"axis-line\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>\n",
                     Px(f.left), Px(f.right()), Px(f.bottom()));
  out += Text(f.left + f.width / 2, f.bottom() + 36, label, "axis-label", "middle");
  out += "</g>\n";
  return out;
}

}  // namespace svg
}  // namespace haq::report
