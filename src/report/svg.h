#pragma once
/// Small SVG building blocks for the report's charts: linear scales, plot frames,
/// axes with nice ticks, escaping. Internal to report/.
#include <string>
#include <string_view>

#include "report/report.h"

namespace haq::report::svg {

/// `text` with &, <, >, " and ' escaped for HTML/SVG text and attributes.
std::string Escape(std::string_view text);

/// A number as an attribute value that reads back exactly (shortest round trip).
std::string Num(double value);
/// A coordinate, rounded to 0.01 px.
std::string Px(double value);

/// Maps the domain [d0, d1] linearly onto the range [r0, r1].
struct Scale {
  double d0 = 0.0, d1 = 1.0, r0 = 0.0, r1 = 1.0;
  double operator()(double v) const {
    return d1 == d0 ? (r0 + r1) / 2 : r0 + (v - d0) * (r1 - r0) / (d1 - d0);
  }
};

/// A plot area inside an SVG (pixels).
struct Frame {
  double left = 0.0, top = 0.0, width = 0.0, height = 0.0;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

/// Scales of a frame from tick ranges (x left to right, y bottom to top).
Scale XScale(const Frame& f, const Ticks& t);
Scale YScale(const Frame& f, const Ticks& t);

/// `<svg class="chart" id=... viewBox=...>` opening tag with an accessible title.
std::string Open(const std::string& id, double width, double height, const std::string& title);

/// Grid lines, tick marks and labels of a y axis at the frame's left, with `label`
/// written vertically beside it.
std::string YAxis(const Frame& f, const Scale& y, const Ticks& t, const std::string& label);
/// The same for an x axis along the frame's bottom, `label` centred below.
std::string XAxis(const Frame& f, const Scale& x, const Ticks& t, const std::string& label);
/// Text at (x, y) with a CSS class and anchor ("start", "middle", "end").
std::string Text(double x, double y, const std::string& text, const std::string& css_class,
                 const std::string& anchor = "start");

}  // namespace haq::report::svg
