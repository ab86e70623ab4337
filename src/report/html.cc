// The report's HTML: one self-contained document, inline CSS and SVG, and a short
// script that records on every chart how many of its data marks the browser drew
// (data-rendered), so a headless browser's DOM dump proves real rendering.
//
// Every data mark has class "mark" and data-* attributes with its values, so tests
// count and check marks without a browser.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "report/report.h"
#include "report/svg.h"
#include "util/stats.h"

namespace haq::report {

namespace {

using svg::Escape;
using svg::Frame;
using svg::Num;
using svg::Px;
using svg::Scale;

constexpr double kWidth = 1100;
constexpr int kBits = 8;

constexpr const char* kCss = R"css(
body { font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1c2430;
       margin: 0 auto; padding: 16px 28px 48px; max-width: 1160px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #d5dbe3; padding-bottom: 4px; }
p.note { color: #4a5565; margin: 4px 0 10px; }
.status { display: inline-block; font-weight: bold; font-size: 17px; padding: 6px 14px;
          border-radius: 6px; margin: 8px 0; }
.status.complete { background: #dff3e4; color: #17622c; border: 2px solid #3aa35a; }
.status.partial { background: #fff1d6; color: #8a4b00; border: 2px solid #e08a00; }
dl.headline { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 10px 0; }
dl.headline dt { font-weight: bold; color: #4a5565; }
dl.headline dd { margin: 0; }
table { border-collapse: collapse; font-size: 13.5px; margin: 8px 0; }
th, td { border-bottom: 1px solid #e3e7ed; padding: 3px 10px; text-align: left; }
th { background: #f2f5f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.diag { background: #eef6ff; font-weight: bold; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13.5px; margin: 4px 0 6px 60px; }
.legend span.sw { display: inline-block; width: 14px; height: 14px; vertical-align: -2px;
                  margin-right: 5px; border-radius: 2px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg.chart text { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; fill: #1c2430; }
svg.chart .tick { font-size: 12px; fill: #4a5565; }
svg.chart .axis-label { font-size: 13px; font-weight: bold; fill: #34404f; }
svg.chart .panel-title { font-size: 14px; font-weight: bold; }
svg.chart .bar-value { font-size: 10px; fill: #34404f; }
svg.chart .ref-label { font-size: 11.5px; fill: #7a4b00; }
svg.chart .summary-label { font-size: 11.5px; fill: #5c4300; }
svg.chart .grid { stroke: #e6eaef; stroke-width: 1; }
svg.chart .axis-line { stroke: #8592a3; stroke-width: 1; }
svg.chart .zero-line { stroke: #34404f; stroke-width: 1.2; }
.k-conv, .sw.k-conv { fill: #2f7d4f; background: #2f7d4f; }
.k-pointwise, .sw.k-pointwise { fill: #2d6fb7; background: #2d6fb7; }
.k-depthwise, .sw.k-depthwise { fill: #e07b1f; background: #e07b1f; }
.k-fc, .sw.k-fc { fill: #8a4fb0; background: #8a4fb0; }
svg.chart rect.act { fill-opacity: 0.55; }
svg.chart rect.fp { fill: url(#fp-hatch); fill-opacity: 1; stroke: #8592a3; stroke-width: 0.6; }
.sw.fp { background: repeating-linear-gradient(45deg, #b8c1cc 0 2px, #fff 2px 5px); border: 1px solid #8592a3; }
.s-w, .sw.s-w { fill: #2d6fb7; background: #2d6fb7; }
.s-a, .sw.s-a { fill: #e07b1f; background: #e07b1f; }
.b-compute, .sw.b-compute { fill: #2d6fb7; background: #2d6fb7; }
.b-memory, .sw.b-memory { fill: #d1495b; background: #d1495b; }
svg.chart .uniform-line { fill: none; stroke: #c98a00; stroke-width: 2; stroke-dasharray: 6 4; }
svg.chart circle.uniform-point { fill: #c98a00; }
svg.chart circle.searched { fill: #d1495b; }
svg.chart line.seed-range { stroke: #d1495b; stroke-width: 1.6; }
svg.chart line.seed-range.u { stroke: #c98a00; }
.legend span.sw.uniform-line { background: repeating-linear-gradient(90deg, #c98a00 0 6px, transparent 6px 10px); width: 22px; height: 3px; vertical-align: 4px; }
.legend span.sw.searched { background: #d1495b; border-radius: 50%; }
.legend span.sw.seed-range { background: #d1495b; width: 2px; height: 14px; }
svg.chart circle.point { fill: #2d6fb7; fill-opacity: 0.8; }
svg.chart circle.point.walled { fill: #fff; fill-opacity: 1; stroke: #2d6fb7; stroke-width: 1.4; }
svg.chart circle.point.front { fill: #d1495b; fill-opacity: 0.95; }
.legend span.sw.point { background: #2d6fb7; opacity: 0.8; border-radius: 50%; }
.legend span.sw.walled { background: #fff; border: 1.5px solid #2d6fb7; border-radius: 50%; }
.legend span.sw.front { background: #d1495b; border-radius: 50%; }
svg.chart .best-line, svg.chart .front-line { fill: none; stroke: #d1495b; stroke-width: 2; }
.legend span.sw.best-line { background: #d1495b; width: 22px; height: 3px; vertical-align: 4px; }
svg.chart .best-ring { fill: none; stroke: #111; stroke-width: 2.5; }
.legend span.sw.best-ring { border: 2.5px solid #111; border-radius: 50%; width: 10px; height: 10px; }
svg.chart .ref { stroke: #c98a00; stroke-width: 1.3; stroke-dasharray: 5 4; }
.legend span.sw.ref { background: repeating-linear-gradient(90deg, #c98a00 0 5px, transparent 5px 9px); width: 22px; height: 2px; vertical-align: 4px; }
svg.chart path.summary { fill: #f2b705; stroke: #5c4300; stroke-width: 1.2; }
.legend span.sw.summary { background: #f2b705; border: 1px solid #5c4300; transform: rotate(45deg) scale(0.75); }
)css";

// Records on each chart how many data marks have a nonzero rendered size.
constexpr const char* kScript = R"js(
window.addEventListener('load', function () {
  document.querySelectorAll('svg.chart').forEach(function (chart) {
    var drawn = 0;
    chart.querySelectorAll('.mark').forEach(function (m) {
      var b = m.getBBox();
      if (b.width > 0 && b.height > 0) drawn++;
    });
    chart.setAttribute('data-rendered', String(drawn));
  });
});
)js";

constexpr const char* kClasses[] = {"conv", "pointwise", "depthwise", "fc"};

std::string Swatch(const std::string& css_class, const std::string& label) {
  return fmt::format("<span><span class=\"sw {}\"></span>{}</span>", css_class, Escape(label));
}

std::string Legend(const std::vector<std::string>& items) {
  std::string out = "<div class=\"legend\">";
  for (const auto& i : items) out += i;
  return out + "</div>\n";
}

std::string UnquantizedHatch() {
  return "<defs><pattern id=\"fp-hatch\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" "
         "patternTransform=\"rotate(45)\"><rect width=\"5\" height=\"5\" fill=\"#fff\"/>"
         "<rect width=\"2\" height=\"5\" fill=\"#b8c1cc\"/></pattern></defs>\n";
}

// Every `k`-th layer index is labelled, k a 1-2-5 step wide enough for the labels.
int LabelEvery(size_t layers, double band) {
  for (int k : {1, 2, 5, 10, 20, 50, 100}) {
    if (band * k >= 18) return k;
  }
  return static_cast<int>(layers);
}

std::string LayerTitle(const hw::LayerShape& l, size_t i) {
  return fmt::format("layer {}: {} ({}, {})", i, l.name, LayerClass(l), l.Summary());
}

// Per-layer band geometry shared by the per-layer charts.
struct Bands {
  Frame frame;
  size_t count = 0;
  double band() const { return frame.width / static_cast<double>(count); }
  double x(size_t i) const { return frame.left + band() * (static_cast<double>(i) + 0.15); }
  double bar_width() const { return band() * 0.7; }
  double centre(size_t i) const { return frame.left + band() * (static_cast<double>(i) + 0.5); }
};

std::string LayerIndexAxis(const Bands& b, double y) {
  std::string out;
  const int every = LabelEvery(b.count, b.band());
  for (size_t i = 0; i < b.count; i += static_cast<size_t>(every)) {
    out += svg::Text(b.centre(i), y, std::to_string(i), "tick", "middle");
  }
  out += svg::Text(b.frame.left + b.frame.width / 2, y + 20,
                   "layer index (hover a bar for the layer's name and shape)", "axis-label", "middle");
  return out;
}

// One half of the bit chart: grid and labels of 0..8 bits from the zero line.
std::string BitsHalf(const Frame& f, double zero, double unit, int direction, const std::string& label) {
  std::string out;
  for (int b = 2; b <= kBits; b += 2) {
    const double y = zero - direction * b * unit;
    out += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n", Px(f.left),
                       Px(f.right()), Px(y), Px(y));
    out += svg::Text(f.left - 6, y + 4, std::to_string(b), "tick", "end");
  }
  const double cy = zero - direction * kBits * unit / 2;
  out += fmt::format(
      "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate({} {}) rotate(-90)\">"
      "{}</text>\n",
      Px(f.left - 34), Px(cy), Escape(label));
  return out;
}

std::string BitBar(const Bands& b, size_t i, const hw::LayerShape& l, int bits, bool weight,
                   double zero, double unit) {
  const bool fp = !weight && bits == 0;
  const double h = (fp ? kBits : bits) * unit;
  const double y = weight ? zero - h : zero;
  const std::string what = weight ? fmt::format("{}-bit weights", bits)
                           : fp   ? std::string("input not quantized (costed as 8-bit)")
                                  : fmt::format("{}-bit activations", bits);
  std::string out = fmt::format(
      "<rect class=\"mark k-{}{}\" data-layer=\"{}\" data-kind=\"{}\" data-bits=\"{}\" "
      "data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}: {}</title></rect>\n",
      LayerClass(l), weight ? "" : fp ? " act fp" : " act", i, LayerClass(l), weight ? "w" : "a",
      bits, Px(b.x(i)), Px(y), Px(b.bar_width()), Px(h), Escape(LayerTitle(l, i)), what);
  if (b.band() >= 13) {
    const double ty = weight ? y - 3 : y + h + 11;
    out += svg::Text(b.centre(i), ty, fp ? "fp" : std::to_string(bits), "bar-value", "middle");
  }
  return out;
}

std::string BitsChart(const RunReportData& run, const std::string& id) {
  const double unit = 15;  // px per bit
  Bands b;
  b.frame = {70, 26, kWidth - 90, 2 * kBits * unit + 28};
  b.count = run.layers.size();
  const double zero = b.frame.top + kBits * unit + 14;
  const double height = b.frame.bottom() + 62;
  const hw::Policy& p = run.best_episode().policy;
  std::string out = svg::Open(id, kWidth, height,
                              fmt::format("Bits per layer of the best policy (episode {})",
                                          run.best_episode().episode + 1));
  out += UnquantizedHatch();
  out += BitsHalf(b.frame, zero, unit, 1, "weight bits");
  out += BitsHalf(b.frame, zero, unit, -1, "activation bits");
  for (size_t i = 0; i < b.count; ++i) {
    out += BitBar(b, i, run.layers[i], p.layers[i].w_bits, true, zero, unit);
    out += BitBar(b, i, run.layers[i], p.layers[i].a_bits, false, zero, unit);
  }
  out += fmt::format("<line class=\"zero-line\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n",
                     Px(b.frame.left), Px(b.frame.right()), Px(zero), Px(zero));
  out += LayerIndexAxis(b, b.frame.bottom() + 24);
  return out + "</svg>\n";
}

std::string BitsLegend(const RunReportData& run) {
  std::set<std::string> present;
  for (const auto& l : run.layers) present.insert(LayerClass(l));
  std::vector<std::string> items;
  for (const char* c : kClasses) {
    if (present.contains(c)) {
      items.push_back(Swatch(fmt::format("k-{}", c), c == std::string("pointwise") ? "pointwise (1x1 conv)" : c));
    }
  }
  items.push_back(Swatch("fp", "input not quantized"));
  items.push_back("<span>weights up (solid), activations down (light)</span>");
  return Legend(items);
}

struct LayerSeries {
  std::string id;
  std::string title;
  std::string axis_label;  // with unit
  std::string unit;
  std::vector<double> values;
};

std::string LayerCostChart(const RunReportData& run, const LayerSeries& s) {
  Bands b;
  b.frame = {80, 20, kWidth - 100, 220};
  b.count = run.layers.size();
  const Ticks t = NiceTicks(0.0, *std::max_element(s.values.begin(), s.values.end()), 5);
  const Scale y = svg::YScale(b.frame, t);
  std::string out = svg::Open(s.id, kWidth, b.frame.bottom() + 62, s.title);
  out += svg::YAxis(b.frame, y, t, s.axis_label);
  for (size_t i = 0; i < b.count; ++i) {
    const char* bound = hw::BoundName(run.layer_costs[i].bound);
    const double top = y(s.values[i]);
    out += fmt::format(
        "<rect class=\"mark b-{}\" data-layer=\"{}\" data-bound=\"{}\" data-value=\"{}\" x=\"{}\" "
        "y=\"{}\" width=\"{}\" height=\"{}\"><title>{}: {:.4g} {}, {}-bound</title></rect>\n",
        bound, i, bound, Num(s.values[i]), Px(b.x(i)), Px(top), Px(b.bar_width()),
        Px(std::max(y(0.0) - top, 0.0)), Escape(LayerTitle(run.layers[i], i)), s.values[i], s.unit,
        bound);
  }
  out += LayerIndexAxis(b, b.frame.bottom() + 24);
  return out + "</svg>\n";
}

std::string LayerCostSection(const RunReportData& run) {
  LayerSeries latency{"latency-chart", "Per-layer latency of the best policy", "latency (ms)", "ms", {}};
  LayerSeries energy{"energy-chart", "Per-layer energy of the best policy", "energy (µJ)", "µJ", {}};
  for (const hw::Cost& c : run.layer_costs) {
    latency.values.push_back(c.seconds * 1e3);
    energy.values.push_back(c.EnergyPj() * 1e-6);
  }
  std::string out = "<h2>Per-layer latency and energy of the best policy</h2>\n";
  out += fmt::format("<p class=\"note\">On {} at batch {}; the colour says which resource bounds "
                     "the layer's latency.</p>\n",
                     Escape(run.spec.name), run.layers.front().batch);
  out += Legend({Swatch("b-compute", "compute-bound"), Swatch("b-memory", "memory-bound")});
  out += LayerCostChart(run, latency);
  if (run.layer_costs.front().has_energy) {
    out += LayerCostChart(run, energy);
  } else {
    out += fmt::format("<p class=\"note\" id=\"energy-note\">Energy: not shown, {} has no energy "
                       "table (no energy data was published for it).</p>\n",
                       Escape(run.spec.name));
  }
  return out;
}

// The per-layer sensitivity the planned strategies measured: the ILP's curvature
// traces per value (log scale) or the greedy probes' top-1 lost at b_min.
struct SensitivitySeries {
  std::string heading, note, axis_label;
  bool log = false;
  std::vector<std::optional<double>> value[2];  // [weight, input] per layer
  std::vector<std::string> text[2];             // what each bar says on hover
};

std::optional<SensitivitySeries> SensitivityOf(const RunReportData& run) {
  SensitivitySeries s;
  const size_t n = run.layers.size();
  for (auto& v : s.value) v.assign(n, std::nullopt);
  for (auto& t : s.text) t.assign(n, "");
  if (run.sensitivity) {
    const quant::SensitivityTable& t = *run.sensitivity;
    s.log = true;
    s.heading = "Per-layer sensitivity (Hessian traces)";
    s.axis_label = "log10 of trace per value";
    int hidden = 0;
    for (size_t l = 0; l < n; ++l) {
      const quant::LayerSensitivity& ls = t.layers[l];
      const double per[2] = {ls.weights > 0 ? ls.weight_trace / ls.weights : 0.0,
                             ls.inputs > 0 ? ls.input_trace / ls.inputs : 0.0};
      const double se[2] = {ls.weights > 0 ? ls.weight_trace_se / ls.weights : 0.0,
                            ls.inputs > 0 ? ls.input_trace_se / ls.inputs : 0.0};
      for (int k = 0; k < 2; ++k) {
        if ((k == 0 ? ls.weights : ls.inputs) == 0) continue;
        s.text[k][l] = fmt::format("{}: tr(H)/n = {:.3g} ± {:.2g}", k == 0 ? "weight" : "input",
                                   per[k], se[k]);
        if (per[k] > 0) {
          s.value[k][l] = per[k];
        } else {
          ++hidden;
        }
      }
    }
    s.note = fmt::format(
        "The curvature trace per value of each layer's weight and input (Hutchinson, {} probes{}), "
        "the weight the integer program gives each tensor's quantization error.{}",
        t.probes, t.converged ? "" : ", stopped at the cap before the tolerance",
        hidden > 0 ? fmt::format(" {} estimates at or below zero (noise) are not drawn.", hidden)
                   : std::string());
  } else if (!run.probes.empty()) {
    const int b = run.settings.b_min;
    const double reference = run.probes.front().accuracy;
    s.heading = fmt::format("Per-layer sensitivity (greedy probes at {} bits)", b);
    s.axis_label = "top-1 lost (points)";
    for (const search::Probe& p : run.probes) {
      if (p.layer < 0 || p.bits != b) continue;
      const int k = p.weight ? 0 : 1;
      s.value[k][p.layer] = reference - p.accuracy;
      s.text[k][p.layer] = fmt::format("{} at {} bits: top-1 {:.2f}%, {:+.2f} points", p.weight ? "weight" : "input",
                                       b, p.accuracy, p.accuracy - reference);
    }
    const size_t planned = search::GreedyProbes(*run.env).size();
    s.note = fmt::format(
        "Top-1 on the reward images lost when only this tensor is at {} bits and every other at "
        "{} (reference {:.2f}%): the drops the greedy walk lowers layers by{}.",
        b, run.settings.b_max, reference,
        run.probes.size() < planned
            ? fmt::format("; {} of {} probes done", run.probes.size(), planned)
            : std::string());
  } else {
    return std::nullopt;
  }
  return s;
}

std::string SensitivityChart(const RunReportData& run, const SensitivitySeries& s) {
  Bands b;
  b.frame = {80, 20, kWidth - 100, 220};
  b.count = run.layers.size();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& series : s.value) {
    for (const auto& v : series) {
      if (!v) continue;
      const double x = s.log ? std::log10(*v) : *v;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
  if (!(lo <= hi)) lo = hi = 0.0;
  if (!s.log) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  const Ticks t = NiceTicks(s.log ? std::floor(lo) : lo, s.log ? std::ceil(hi) : hi, 5);
  const Scale y = svg::YScale(b.frame, t);
  const double base = y(s.log ? t.lo : 0.0);
  std::string out = svg::Open("sensitivity-chart", kWidth, b.frame.bottom() + 62, s.heading);
  out += svg::YAxis(b.frame, y, t, s.axis_label);
  const double w = b.bar_width() / 2;
  for (size_t i = 0; i < b.count; ++i) {
    for (int k = 0; k < 2; ++k) {
      if (!s.value[k][i]) continue;
      const double v = *s.value[k][i];
      const double top = y(s.log ? std::log10(v) : v);
      // At least 1 px, so an exact zero still shows as a tick.
      const double h = std::max(std::abs(base - top), 1.0);
      out += fmt::format(
          "<rect class=\"mark {}\" data-layer=\"{}\" data-kind=\"{}\" data-value=\"{}\" "
          "x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}: {}</title></rect>\n",
          k == 0 ? "s-w" : "s-a", i, k == 0 ? "w" : "a", Num(v), Px(b.x(i) + k * w),
          Px(std::min(base, top)), Px(w), Px(h), Escape(LayerTitle(run.layers[i], i)),
          Escape(s.text[k][i]));
    }
  }
  if (!s.log) {
    out += fmt::format("<line class=\"zero-line\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n",
                       Px(b.frame.left), Px(b.frame.right()), Px(base), Px(base));
  }
  out += LayerIndexAxis(b, b.frame.bottom() + 24);
  return out + "</svg>\n";
}

std::string SensitivitySection(const RunReportData& run) {
  const std::optional<SensitivitySeries> s = SensitivityOf(run);
  if (!s) return "";
  return fmt::format("<h2>{}</h2>\n<p class=\"note\">{}</p>\n", Escape(s->heading), Escape(s->note)) +
         Legend({Swatch("s-w", "weight"), Swatch("s-a", "input")}) + SensitivityChart(run, *s);
}

// A staircase through (x, y) points: each value holds until the next x.
std::string StepPath(const std::vector<std::pair<double, double>>& pts, double x_end) {
  std::string d;
  for (size_t i = 0; i < pts.size(); ++i) {
    d += i == 0 ? fmt::format("M{} {}", Px(pts[i].first), Px(pts[i].second))
                : fmt::format(" H{} V{}", Px(pts[i].first), Px(pts[i].second));
  }
  if (!pts.empty()) d += fmt::format(" H{}", Px(x_end));
  return d;
}

struct CurvePanel {
  std::string series;  // data-series
  std::string label;   // y axis
  double (*value)(const Episode&);
  std::optional<double> reference;  // a horizontal line (the budget)
  std::string reference_label;
};

std::string CurvePanelSvg(const RunReportData& run, const CurvePanel& panel, const Frame& f,
                          const Scale& x, const Ticks& xt) {
  std::vector<double> v;
  for (const Episode& e : run.episodes) v.push_back(panel.value(e));
  double lo = *std::min_element(v.begin(), v.end());
  double hi = *std::max_element(v.begin(), v.end());
  if (panel.reference) {
    lo = std::min(lo, *panel.reference);
    hi = std::max(hi, *panel.reference);
  }
  const Ticks yt = NiceTicks(lo, hi, 4);
  const Scale y = svg::YScale(f, yt);
  std::string out = svg::YAxis(f, y, yt, panel.label);
  out += svg::XAxis(f, x, xt, panel.series == "cost_ratio" ? "episode" : "");
  if (panel.reference) {
    const double ry = y(*panel.reference);
    out += fmt::format("<line class=\"ref\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n", Px(f.left),
                       Px(f.right()), Px(ry), Px(ry));
    const bool low = ry > f.top + f.height / 2;  // label on the side with room
    out += svg::Text(f.right() - 4, low ? ry - 5 : ry + 14, panel.reference_label, "ref-label", "end");
  }
  std::vector<std::pair<double, double>> best;
  for (const Episode& e : run.episodes) {
    best.emplace_back(x(e.episode + 1.0), y(v[static_cast<size_t>(e.best_episode)]));
  }
  out += fmt::format("<path class=\"best-line\" d=\"{}\"/>\n", StepPath(best, best.back().first));
  const double r = run.episodes.size() > 300 ? 2 : 3.5;
  for (size_t i = 0; i < run.episodes.size(); ++i) {
    const Episode& e = run.episodes[i];
    out += fmt::format(
        "<circle class=\"mark point{}\" data-series=\"{}\" data-episode=\"{}\" data-value=\"{}\" "
        "cx=\"{}\" cy=\"{}\" r=\"{}\"><title>episode {}: {} {:.4g}</title></circle>\n",
        e.walled ? " walled" : "", panel.series, e.episode + 1, Num(v[i]), Px(x(e.episode + 1.0)),
        Px(y(v[i])), Px(r), e.episode + 1, panel.label, v[i]);
  }
  return out;
}

std::string CurveChart(const RunReportData& run, const std::string& id) {
  const search::QuantEnv& env = *run.env;
  const std::vector<CurvePanel> panels = {
      {"reward", "reward", [](const Episode& e) { return e.reward; }, std::nullopt, ""},
      {"accuracy", "accuracy (%)", [](const Episode& e) { return e.accuracy; }, std::nullopt, ""},
      {"cost_ratio", "cost (x 8-bit)", [](const Episode& e) { return e.cost_ratio; },
       env.budget() / env.uniform8_cost(), "budget"}};
  const double panel_h = 150, gap = 46;
  const Ticks xt = NiceTicks(1.0, std::max<double>(2.0, static_cast<double>(run.episodes.size())), 10);
  const double height = 14 + 3 * panel_h + 2 * gap + 50;
  std::string out = svg::Open(id, kWidth, height, "Search curve: reward, accuracy and cost per episode");
  for (size_t k = 0; k < panels.size(); ++k) {
    const Frame f{80, 14 + static_cast<double>(k) * (panel_h + gap), kWidth - 100, panel_h};
    out += CurvePanelSvg(run, panels[k], f, svg::XScale(f, xt), xt);
  }
  return out + "</svg>\n";
}

std::string CurveLegend() {
  return Legend({Swatch("point", "an episode"), Swatch("walled", "an episode the budget wall cut"),
                 Swatch("best-line", "the best episode so far (by reward)")});
}

// Rows for labels centred at increasing `centres` (each `width` wide): a label goes
// in the first row where it clears the previous label, or else in the row whose last
// label ends furthest left.
std::vector<int> LabelRows(const std::vector<double>& centres, double width) {
  std::vector<double> row_end;
  std::vector<int> rows;
  for (double c : centres) {
    size_t r = 0;
    while (r < row_end.size() && row_end[r] > c - width / 2) ++r;
    if (r == row_end.size() && row_end.size() >= 4) {
      r = static_cast<size_t>(std::min_element(row_end.begin(), row_end.end()) - row_end.begin());
    }
    if (r == row_end.size()) row_end.push_back(0.0);
    row_end[r] = c + width / 2;
    rows.push_back(static_cast<int>(r));
  }
  return rows;
}

// Accuracy (reward set) against cost ratio: every episode, the Pareto front, the
// best episode, uniform baselines and summary.json's rows (test top-1).
std::string ParetoChart(const RunReportData& run, const std::string& id) {
  const search::QuantEnv& env = *run.env;
  const std::vector<Point> points = EpisodePoints(run);
  std::vector<double> xs, ys;
  for (const Point& p : points) {
    xs.push_back(p.cost);
    ys.push_back(p.accuracy);
  }
  for (double c : run.uniform_costs) xs.push_back(c / env.uniform8_cost());
  if (run.summary) {
    for (const SummaryRow& r : *run.summary) {
      xs.push_back(r.cost_ratio);
      ys.push_back(r.test_top1);
    }
  }
  const Ticks xt = NiceTicks(*std::min_element(xs.begin(), xs.end()), *std::max_element(xs.begin(), xs.end()), 10);
  const Ticks yt = NiceTicks(*std::min_element(ys.begin(), ys.end()), *std::max_element(ys.begin(), ys.end()), 6);
  // The uniform lines' labels go in as many rows above the plot as they need.
  std::vector<double> ratios, label_x;
  const Scale x = svg::XScale(Frame{80, 0, kWidth - 100, 0}, xt);
  for (double c : run.uniform_costs) {
    ratios.push_back(c / env.uniform8_cost());
    label_x.push_back(x(ratios.back()));
  }
  const std::vector<int> rows = LabelRows(label_x, 40);
  const int n_rows = *std::max_element(rows.begin(), rows.end()) + 1;
  const Frame f{80, 12.0 + 15.0 * n_rows, kWidth - 100, 380};
  const Scale y = svg::YScale(f, yt);
  std::string out = svg::Open(id, kWidth, f.bottom() + 50, "Accuracy against cost of every evaluated policy");
  out += svg::YAxis(f, y, yt, "accuracy (%)");
  out += svg::XAxis(f, x, xt, "cost (x uniform 8-bit)");
  for (size_t k = 0; k < ratios.size(); ++k) {
    const double px = label_x[k];
    out += fmt::format("<line class=\"ref uniform\" data-bits=\"{}\" data-value=\"{}\" x1=\"{}\" "
                       "x2=\"{}\" y1=\"{}\" y2=\"{}\"><title>uniform {}-bit: {:.3f}x</title></line>\n",
                       k + 1, Num(ratios[k]), Px(px), Px(px), Px(f.top), Px(f.bottom()), k + 1, ratios[k]);
    out += svg::Text(px, f.top - 6 - 15.0 * rows[k], fmt::format("{}-bit", k + 1), "ref-label", "middle");
  }
  const std::vector<size_t> front = ParetoFront(points);
  std::vector<bool> on_front(points.size(), false);
  std::vector<std::pair<double, double>> stair;
  for (size_t i : front) {
    on_front[i] = true;
    stair.emplace_back(x(points[i].cost), y(points[i].accuracy));
  }
  out += fmt::format("<path class=\"front-line\" d=\"{}\"/>\n", StepPath(stair, f.right()));
  for (size_t i = 0; i < points.size(); ++i) {
    const Episode& e = run.episodes[i];
    out += fmt::format(
        "<circle class=\"mark point{}{}\" data-episode=\"{}\" data-cost=\"{}\" data-value=\"{}\" "
        "cx=\"{}\" cy=\"{}\" r=\"3.5\"><title>episode {}: {:.2f}% at {:.3f}x{}</title></circle>\n",
        on_front[i] ? " front" : "", e.walled ? " walled" : "", e.episode + 1, Num(e.cost_ratio),
        Num(e.accuracy), Px(x(e.cost_ratio)), Px(y(e.accuracy)), e.episode + 1, e.accuracy,
        e.cost_ratio, on_front[i] ? " (Pareto front)" : "");
  }
  const Episode& best = run.best_episode();
  out += fmt::format("<circle class=\"best-ring\" id=\"{}-best\" data-episode=\"{}\" cx=\"{}\" cy=\"{}\" "
                     "r=\"8\"><title>best episode {} (highest reward)</title></circle>\n",
                     id, best.episode + 1, Px(x(best.cost_ratio)), Px(y(best.accuracy)),
                     best.episode + 1);
  if (run.summary) {
    for (const SummaryRow& r : *run.summary) {
      const double cx = x(r.cost_ratio), cy = y(r.test_top1);
      out += fmt::format(
          "<path class=\"mark summary\" data-label=\"{}\" data-cost=\"{}\" data-value=\"{}\" "
          "d=\"M{} {} l7 7 l-7 7 l-7 -7 z\"><title>{}: test top-1 {:.2f}% at {:.3f}x</title></path>\n",
          Escape(r.label), Num(r.cost_ratio), Num(r.test_top1), Px(cx), Px(cy - 7), Escape(r.label),
          r.test_top1, r.cost_ratio);
      const bool near_right = cx > f.right() - 140;
      out += svg::Text(near_right ? cx - 11 : cx + 11, cy + 4, r.label.substr(0, r.label.find(" (")),
                       "summary-label", near_right ? "end" : "start");
    }
  }
  return out + "</svg>\n";
}

std::string ParetoLegend(const RunReportData& run) {
  std::vector<std::string> items = {
      Swatch("point", "a policy (reward-set accuracy)"), Swatch("front", "on the Pareto front"),
      Swatch("best-line", "Pareto front"), Swatch("best-ring", "best (highest reward)"),
      Swatch("ref", "uniform N-bit cost (pins as in the run)")};
  if (run.summary) items.push_back(Swatch("summary", "summary.json rows (test top-1)"));
  return Legend(items);
}

std::string Fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

std::string CostText(const RunReportData& run, double cost) {
  const search::QuantEnv& env = *run.env;
  return fmt::format("{:.4g} {} ({:.3f}x of uniform 8-bit)", env.InUnit(cost),
                     search::MetricUnit(env.budget_spec().metric), cost / env.uniform8_cost());
}

std::string Headline(const RunReportData& run) {
  const Episode& b = run.best_episode();
  const search::QuantEnv& env = *run.env;
  std::string out = fmt::format("<div class=\"status {}\" id=\"status\">Status: {}</div>\n",
                                run.complete() ? "complete" : "partial", Escape(run.Status()));
  out += "<dl class=\"headline\">\n";
  auto row = [&out](const std::string& key, const std::string& html) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", key, html);
  };
  row("Model", fmt::format("{} ({} quantizable layers)", Escape(run.model), run.layers.size()));
  row("Hardware", fmt::format("{} — {} ({}, {:g} MHz; costs at batch {})", Escape(run.spec.name),
                              Escape(run.spec.description), Escape(run.spec.kind),
                              run.spec.clock_hz / 1e6, run.layers.front().batch));
  row("Budget", fmt::format("{} = {}", Escape(run.settings.budget), Escape(CostText(run, env.budget()))));
  row("Agent", Escape(run.settings.agent));
  row("Episodes", fmt::format("{} done / {} planned", run.episodes.size(), run.settings.total_episodes()));
  row("Best policy", fmt::format("episode {}: reward {:.3f}, reward-set accuracy {:.2f}%, cost {}",
                                 b.episode + 1, b.reward, b.accuracy, Escape(CostText(run, b.cost))));
  row("Run directory", Escape(run.dir.string()));
  out += "</dl>\n";
  return out;
}

std::string SummaryTable(const RunReportData& run) {
  if (!run.summary) {
    return "<p class=\"note\">No summary.json: the run did not finish, so there are no test-set "
           "results.</p>\n";
  }
  // A column per further budget (--budget given several times), with its limit.
  std::string others;
  for (const search::BudgetCost& b : run.summary->front().other_budgets) {
    others += fmt::format("<th class=\"num\">{} (limit {:.4g} {})</th>", Escape(b.budget),
                          b.limit_in_unit, Escape(b.unit));
  }
  std::string out = fmt::format(
      "<table id=\"summary-table\"><tr><th>policy</th><th class=\"num\">cost</th>{}<th "
      "class=\"num\">test top-1</th><th class=\"num\">after final fine-tune</th></tr>\n",
      others);
  size_t seeds = 1;
  for (const SummaryRow& r : *run.summary) {
    const std::string after = r.finetuned_seeds.size() > 1
                                  ? util::MeanSpread(r.finetuned_seeds)
                                  : fmt::format("{:.2f}", r.test_top1_finetuned);
    seeds = std::max(seeds, r.finetuned_seeds.size());
    std::string cells;
    for (const search::BudgetCost& b : r.other_budgets) {
      cells += fmt::format("<td class=\"num\">{:.4g} {} ({:.3f}x)</td>", b.cost_in_unit,
                           Escape(b.unit), b.cost_ratio);
    }
    out += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td>{}<td class=\"num\">{:.2f}%</td><td "
                       "class=\"num\">{}%</td></tr>\n",
                       Escape(r.label), Escape(CostText(run, r.cost)), cells, r.test_top1, after);
  }
  out += "</table>\n";
  if (seeds > 1) {
    out += fmt::format("<p class=\"note\">After the final fine-tune: mean ± population standard "
                       "deviation over {} seeds (batch order and calibration sample).</p>\n",
                       seeds);
  }
  if (!run.searched_minus_uniform.empty()) {
    const size_t n = run.searched_minus_uniform.size();
    out += fmt::format(
        "<p id=\"paired-difference\">Searched minus the uniform baseline after the final "
        "fine-tune: <b>{} points</b>{}.</p>\n",
        util::MeanSpread(run.searched_minus_uniform),
        n > 1 ? fmt::format(" ({} seeds, each pair fine-tuned with the same seed)", n) : "");
  }
  return out;
}

std::string LayerTable(const RunReportData& run) {
  std::string out =
      "<table id=\"layer-table\"><tr><th class=\"num\">#</th><th>layer</th><th>kind</th>"
      "<th>shape</th><th class=\"num\">w</th><th class=\"num\">a</th><th class=\"num\">latency "
      "(ms)</th><th class=\"num\">energy (µJ)</th><th>bound</th></tr>\n";
  const hw::Policy& p = run.best_episode().policy;
  for (size_t i = 0; i < run.layers.size(); ++i) {
    const hw::Cost& c = run.layer_costs[i];
    out += fmt::format(
        "<tr data-layer=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td>{}</td></tr>\n",
        i, i, Escape(run.layers[i].name), LayerClass(run.layers[i]), Escape(run.layers[i].Summary()),
        p.layers[i].w_bits, p.layers[i].a_bits == 0 ? "fp" : std::to_string(p.layers[i].a_bits),
        Fixed(c.seconds * 1e3, 4), c.has_energy ? Fixed(c.EnergyPj() * 1e-6, 3) : "–",
        hw::BoundName(c.bound));
  }
  return out + "</table>\n";
}

std::string SettingsTable(const RunReportData& run) {
  std::string out = "<table id=\"settings-table\"><tr><th>setting</th><th>value</th></tr>\n";
  const nlohmann::json settings = run.settings.ToJson();
  for (const auto& [key, value] : settings.items()) {
    out += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", Escape(key),
                       Escape(value.is_string() ? value.get<std::string>() : value.dump()));
  }
  return out + "</table>\n";
}

std::string Document(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n{}<script>{}</script>\n</body>\n</html>\n",
      Escape(title), kCss, body, kScript);
}

std::string RunTitle(const RunReportData& run) {
  return fmt::format("{} on {}, {}", run.model, run.spec.name, run.settings.budget);
}

}  // namespace

std::string RenderHtml(const RunReportData& run) {
  std::string body = fmt::format("<h1>haq search report: {}</h1>\n", Escape(RunTitle(run)));
  body += Headline(run);
  body += SummaryTable(run);
  body += fmt::format("<h2>Bits per layer of the best policy (episode {})</h2>\n",
                      run.best_episode().episode + 1);
  body += BitsLegend(run) + BitsChart(run, "bits-chart");
  body += LayerCostSection(run);
  body += SensitivitySection(run);
  body += "<h2>Search curve</h2>\n";
  body += CurveLegend() + CurveChart(run, "curve-chart");
  body += fmt::format(
      "<h2>Accuracy against cost</h2>\n<p class=\"note\">{} policies; {} on the Pareto front "
      "(highest accuracy for their cost).</p>\n",
      run.episodes.size(), ParetoFront(EpisodePoints(run)).size());
  body += ParetoLegend(run) + ParetoChart(run, "pareto-chart");
  body += "<h2>Layers of the best policy</h2>\n" + LayerTable(run);
  body += "<h2>Settings</h2>\n" + SettingsTable(run);
  return Document(fmt::format("haq report: {}", RunTitle(run)), body);
}

namespace {

// A point of the sweep's chart: its mark, with the seeds' range as a bar.
std::string FrontMark(const Scale& x, const Scale& y, double cost_ratio, double mean,
                      const std::vector<double>& seeds, const std::string& css_class,
                      const std::string& data, const std::string& title) {
  std::string out;
  const auto [lo, hi] = std::minmax_element(seeds.begin(), seeds.end());
  if (lo != seeds.end() && *lo < *hi) {
    out += fmt::format("<line class=\"seed-range{}\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\n",
                       css_class == "searched" ? "" : " u", Px(x(cost_ratio)), Px(x(cost_ratio)),
                       Px(y(*lo)), Px(y(*hi)));
  }
  out += fmt::format(
      "<circle class=\"mark {}\" {} data-cost=\"{}\" data-value=\"{}\" cx=\"{}\" cy=\"{}\" "
      "r=\"5\"><title>{}</title></circle>\n",
      css_class, data, Num(cost_ratio), Num(mean), Px(x(cost_ratio)), Px(y(mean)), Escape(title));
  return out;
}

// Test top-1 after the final fine-tune against cost: the searched policy of every
// budget and the uniform widths joined by the line a searched point is judged
// against; bars span the fine-tune seeds.
std::string FrontChart(const search::SweepFront& f, const std::string& id) {
  std::vector<double> xs, ys;
  for (const search::FrontPoint& p : f.points) {
    xs.push_back(p.cost_ratio);
    ys.insert(ys.end(), p.seeds.begin(), p.seeds.end());
  }
  for (const search::UniformPoint& u : f.uniform) {
    xs.push_back(u.cost_ratio);
    ys.insert(ys.end(), u.seeds.begin(), u.seeds.end());
  }
  const Ticks xt = NiceTicks(*std::min_element(xs.begin(), xs.end()), *std::max_element(xs.begin(), xs.end()), 10);
  const Ticks yt = NiceTicks(*std::min_element(ys.begin(), ys.end()), *std::max_element(ys.begin(), ys.end()), 6);
  const Frame fr{80, 16, kWidth - 100, 420};
  const Scale x = svg::XScale(fr, xt);
  const Scale y = svg::YScale(fr, yt);
  std::string out = svg::Open(id, kWidth, fr.bottom() + 50,
                              "Test top-1 after the final fine-tune against cost: searched and uniform");
  out += svg::YAxis(fr, y, yt, "test top-1 after the final fine-tune (%)");
  out += svg::XAxis(fr, x, xt, fmt::format("{} (x uniform 8-bit)", f.metric));
  std::vector<search::UniformPoint> u = f.uniform;
  std::sort(u.begin(), u.end(), [](const auto& a, const auto& b) { return a.cost_ratio < b.cost_ratio; });
  std::string d;
  for (const search::UniformPoint& p : u) {
    d += fmt::format("{}{} {}", d.empty() ? "M" : " L", Px(x(p.cost_ratio)), Px(y(p.test_top1)));
  }
  out += fmt::format("<path class=\"uniform-line\" d=\"{}\"/>\n", d);
  for (const search::UniformPoint& p : u) {
    out += FrontMark(x, y, p.cost_ratio, p.test_top1, p.seeds, "uniform-point",
                     fmt::format("data-bits=\"{}\"", p.bits),
                     fmt::format("uniform {}-bit: {:.2f}% at {:.3f}x", p.bits, p.test_top1, p.cost_ratio));
    out += svg::Text(x(p.cost_ratio), y(p.test_top1) + 18, fmt::format("{}-bit", p.bits), "ref-label",
                     "middle");
  }
  for (const search::FrontPoint& p : f.points) {
    out += FrontMark(x, y, p.cost_ratio, p.test_top1, p.seeds, "searched",
                     fmt::format("data-budget=\"{}\"", Escape(p.budget)),
                     fmt::format("{}: {:.2f}% at {:.3f}x{}", p.budget, p.test_top1, p.cost_ratio,
                                 p.above_line ? fmt::format(", {:+.2f} above the uniform line", *p.above_line)
                                              : std::string()));
  }
  return out + "</svg>\n";
}

std::string Signed(const std::optional<double>& v) {
  return v ? fmt::format("{:+.2f}", *v) : std::string("&ndash;");
}

}  // namespace

std::string RenderSweepHtml(const search::SweepFront& f) {
  const std::string title = fmt::format("{} on {}, {} sweep", f.model, f.hardware, f.metric);
  std::string body = fmt::format("<h1>haq sweep report: {}</h1>\n", Escape(title));
  const auto [above, spanned] = f.AboveLine();
  body += fmt::format(
      "<p class=\"note\">{} budgets; {} of the {} searched policies within the uniform widths' span "
      "lie above the line between them. Every policy had the same final fine-tune ({} steps{}).</p>\n",
      f.points.size(), above, spanned, f.final_finetune_steps,
      f.final_seeds.size() > 1 ? fmt::format(", {} seeds; bars span them", f.final_seeds.size())
                               : std::string());
  body += "<h2>The front</h2>\n";
  body += Legend({Swatch("searched", "searched policy of a budget"),
                  Swatch("uniform-line", "uniform widths, joined"),
                  Swatch("seed-range", "range over fine-tune seeds")});
  body += FrontChart(f, "front-chart");
  body += "<h2>Points</h2>\n<table>\n<tr><th>policy</th><th class=\"num\">cost (x 8-bit)</th>"
          "<th class=\"num\">test top-1 after FT (%)</th><th class=\"num\">per seed</th>"
          "<th class=\"num\">minus its uniform baseline</th><th class=\"num\">above the uniform "
          "line</th><th>run</th></tr>\n";
  auto seeds_text = [](const std::vector<double>& v) {
    std::string t;
    for (double a : v) t += fmt::format("{}{:.2f}", t.empty() ? "" : " ", a);
    return t;
  };
  for (const search::FrontPoint& p : f.points) {
    body += fmt::format(
        "<tr><td>searched, {}</td><td class=\"num\">{:.3f}</td><td class=\"num\">{:.2f}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td><a href=\"{}/report.html\">{}</a></td></tr>\n",
        Escape(p.budget), p.cost_ratio, p.test_top1, seeds_text(p.seeds), Signed(p.minus_uniform),
        Signed(p.above_line), Escape(p.run), Escape(p.run));
  }
  for (const search::UniformPoint& u : f.uniform) {
    body += fmt::format(
        "<tr><td>uniform {}-bit</td><td class=\"num\">{:.3f}</td><td class=\"num\">{:.2f}</td>"
        "<td class=\"num\">{}</td><td></td><td></td><td></td></tr>\n",
        u.bits, u.cost_ratio, u.test_top1, seeds_text(u.seeds));
  }
  body += "</table>\n";
  return Document(fmt::format("haq sweep report: {}", title), body);
}

namespace {

std::string CompareMatrixTable(const std::vector<RunReportData>& runs) {
  const auto m = CompareMatrix(runs);
  std::string out = "<table id=\"compare-matrix\"><tr><th>best policy of \\ cost on</th>";
  for (size_t j = 0; j < runs.size(); ++j) {
    out += fmt::format("<th class=\"num\">run {}: {}<br>{}</th>", j + 1, Escape(runs[j].spec.name),
                       search::MetricName(runs[j].env->budget_spec().metric));
  }
  out += "</tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    out += fmt::format("<tr><td>run {}: {}</td>", i + 1, Escape(runs[i].dir.string()));
    for (size_t j = 0; j < runs.size(); ++j) {
      const CompareCell& c = m[i][j];
      out += fmt::format(
          "<td class=\"num{}\" data-policy=\"{}\" data-hardware=\"{}\" data-cost=\"{}\" "
          "data-value=\"{}\" data-ratio=\"{}\">{:.4g} {} ({:.3f}x)</td>",
          i == j ? " diag" : "", i, j, Num(c.cost), Num(c.in_unit), Num(c.ratio), c.in_unit,
          search::MetricUnit(runs[j].env->budget_spec().metric), c.ratio);
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string CompareHeadlines(const std::vector<RunReportData>& runs) {
  std::string out =
      "<table id=\"compare-runs\"><tr><th>run</th><th>directory</th><th>hardware</th><th>budget</th>"
      "<th>agent</th><th>episodes</th><th>status</th><th class=\"num\">best episode</th><th "
      "class=\"num\">reward</th><th class=\"num\">accuracy</th><th class=\"num\">cost</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunReportData& r = runs[i];
    const Episode& b = r.best_episode();
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{:.3f}</td><td class=\"num\">{:.2f}%</td>"
        "<td class=\"num\">{}</td></tr>\n",
        i + 1, Escape(r.dir.string()), Escape(r.spec.name), Escape(r.settings.budget), Escape(r.settings.agent),
        r.episodes.size(), r.settings.total_episodes(), Escape(r.Status()), b.episode + 1, b.reward,
        b.accuracy, Escape(CostText(r, b.cost)));
  }
  return out + "</table>\n";
}

}  // namespace

std::string RenderCompareHtml(const std::vector<RunReportData>& runs) {
  CheckComparable(runs);
  std::string body = fmt::format("<h1>haq search comparison: {} runs of {}</h1>\n", runs.size(),
                                 Escape(runs.front().model));
  body += CompareHeadlines(runs);
  body += "<h2>Best policies on every run's hardware</h2>\n<p class=\"note\">Rows: the best policy "
          "of each run; columns: the hardware and budget metric of each run. Cells: cost, and in "
          "brackets its ratio to uniform 8-bit on that hardware (first/last layer pins as that run "
          "has them).</p>\n";
  body += CompareMatrixTable(runs);
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunReportData& r = runs[i];
    body += fmt::format("<h2>Run {}: {} ({})</h2>\n", i + 1, Escape(RunTitle(r)), Escape(r.dir.string()));
    body += BitsLegend(r) + BitsChart(r, fmt::format("bits-chart-{}", i));
    body += CurveLegend() + CurveChart(r, fmt::format("curve-chart-{}", i));
  }
  return Document(fmt::format("haq comparison: {} runs", runs.size()), body);
}

}  // namespace haq::report
