// `haq report` on synthetic run directories: the Pareto front against brute force,
// nice ticks, every chart's data marks against the policy and the cost model, a
// partial run, every bad input's message (with nothing written), and the --compare
// matrix against direct cost-model evaluations.
#include "report/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "hw/cost_model.h"
#include "hw/spec.h"
#include "report/synthetic_run.h"
#include "test_util.h"
#include "util/error.h"
#include "util/file.h"

namespace haq {
namespace {

namespace fs = std::filesystem;
using report::Point;
using test::RunHaq;
using Attrs = std::map<std::string, std::string>;

// ---- HTML inspection helpers -------------------------------------------------------

// The <svg> element with `id`, whole (charts are never nested).
std::string SvgById(const std::string& html, const std::string& id) {
  const size_t at = html.find(fmt::format("id=\"{}\"", id));
  if (at == std::string::npos) return "";
  const size_t begin = html.rfind("<svg", at);
  const size_t end = html.find("</svg>", at);
  return html.substr(begin, end - begin);
}

// The data-* attributes of every data mark (class "mark ...") in `fragment`.
std::vector<Attrs> Marks(const std::string& fragment) {
  static const std::regex mark(R"re(<(rect|circle|path) class="mark([^"]*)"([^>]*)>)re");
  static const std::regex attr(R"re(data-([a-z-]+)="([^"]*)")re");
  std::vector<Attrs> out;
  for (auto it = std::sregex_iterator(fragment.begin(), fragment.end(), mark);
       it != std::sregex_iterator(); ++it) {
    Attrs a;
    a["class"] = (*it)[2];
    const std::string rest = (*it)[3];
    for (auto m = std::sregex_iterator(rest.begin(), rest.end(), attr); m != std::sregex_iterator(); ++m) {
      a[(*m)[1]] = (*m)[2];
    }
    out.push_back(a);
  }
  return out;
}

std::vector<Attrs> Filter(const std::vector<Attrs>& marks, const std::string& key, const std::string& value) {
  std::vector<Attrs> out;
  for (const auto& m : marks) {
    if (m.contains(key) && m.at(key) == value) out.push_back(m);
  }
  return out;
}

double Value(const Attrs& a, const std::string& key = "value") { return std::stod(a.at(key)); }

// ---- Pure functions ----------------------------------------------------------------

std::set<size_t> BruteForceFront(const std::vector<Point>& p) {
  std::set<size_t> front;
  for (size_t i = 0; i < p.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < p.size() && !dominated; ++j) {
      dominated = p[j].cost <= p[i].cost && p[j].accuracy >= p[i].accuracy &&
                  (p[j].cost < p[i].cost || p[j].accuracy > p[i].accuracy);
    }
    if (!dominated) front.insert(i);
  }
  return front;
}

TEST(ReportTest, ParetoFrontEqualsBruteForceOnRandomPointSets) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    // Small integer grids make ties and duplicates common; some trials use reals.
    const int n = static_cast<int>(rng() % 40);
    const bool grid = trial % 2 == 0;
    std::uniform_int_distribution<int> coord(0, 6);
    std::uniform_real_distribution<double> real(0.0, 1.0);
    std::vector<Point> points;
    for (int i = 0; i < n; ++i) {
      points.push_back(grid ? Point{static_cast<double>(coord(rng)), static_cast<double>(coord(rng))}
                            : Point{real(rng), real(rng)});
    }
    const std::vector<size_t> front = report::ParetoFront(points);
    EXPECT_EQ(std::set<size_t>(front.begin(), front.end()), BruteForceFront(points)) << "trial " << trial;
    EXPECT_EQ(std::set<size_t>(front.begin(), front.end()).size(), front.size());
    for (size_t k = 1; k < front.size(); ++k) {
      EXPECT_LE(points[front[k - 1]].cost, points[front[k]].cost);
      EXPECT_LE(points[front[k - 1]].accuracy, points[front[k]].accuracy);
    }
  }
  EXPECT_TRUE(report::ParetoFront({}).empty());
}

TEST(ReportTest, NiceTicksCoverTheRangeWithOneTwoFiveSteps) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> exponent(-4.0, 5.0), unit(-1.0, 1.0);
  for (int trial = 0; trial < 500; ++trial) {
    const double scale = std::pow(10.0, exponent(rng));
    const double a = unit(rng) * scale, b = unit(rng) * scale;
    const double lo = std::min(a, b), hi = std::max(a, b);
    const report::Ticks t = report::NiceTicks(lo, hi, 5);
    ASSERT_GE(t.values.size(), 2u);
    EXPECT_LE(t.values.size(), 12u) << lo << " " << hi;
    EXPECT_LE(t.lo, lo);
    EXPECT_GE(t.hi, hi);
    const double mantissa = t.step / std::pow(10.0, std::floor(std::log10(t.step) + 1e-9));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
                std::abs(mantissa - 5) < 1e-9)
        << t.step;
    for (size_t k = 0; k < t.values.size(); ++k) {
      EXPECT_NEAR(t.values[k], t.lo + static_cast<double>(k) * t.step, 1e-9 * t.step * 100);
      EXPECT_NEAR(std::round(t.values[k] / t.step), t.values[k] / t.step, 1e-6);
    }
  }
  const report::Ticks bits = report::NiceTicks(0.0, 8.3, 5);
  EXPECT_EQ(bits.step, 2.0);
  EXPECT_EQ(bits.values, (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const report::Ticks ratio = report::NiceTicks(0.41, 0.6, 5);
  EXPECT_DOUBLE_EQ(ratio.step, 0.05);
  EXPECT_DOUBLE_EQ(ratio.lo, 0.4);
  EXPECT_DOUBLE_EQ(ratio.hi, 0.6);
  const report::Ticks single = report::NiceTicks(3.0, 3.0, 5);
  EXPECT_LT(single.lo, 3.0);
  EXPECT_GT(single.hi, 3.0);
  EXPECT_EQ(report::FormatTick(0.25, 0.05), "0.25");
  EXPECT_EQ(report::FormatTick(10.0, 5.0), "10");
  EXPECT_EQ(report::FormatTick(-1e-17, 0.5), "0.0");
  EXPECT_EQ(report::FormatTick(-2.0, 1.0), "-2");
}

// ---- Whole reports -----------------------------------------------------------------

struct Rendered {
  std::vector<search::EpisodeRecord> log;
  report::RunReportData run;
  std::string html;
};

Rendered RenderSynthetic(const fs::path& dir, const test::SyntheticRunOptions& o) {
  Rendered r;
  r.log = test::WriteSyntheticRun(dir, o);
  r.run = report::LoadRun(dir);
  r.html = report::RenderHtml(r.run);
  return r;
}

// Costs of `policy` on `hw` layer by layer, straight from the cost model.
std::vector<hw::Cost> DirectCosts(const std::string& hw_name, const std::vector<hw::LayerShape>& layers,
                                  const hw::Policy& policy) {
  const auto model = hw::MakeCostModel(hw::BuiltinHardware(hw_name));
  std::vector<hw::Cost> out;
  for (size_t l = 0; l < layers.size(); ++l) {
    const int a = policy.layers[l].a_bits == 0 ? 8 : policy.layers[l].a_bits;
    out.push_back(model->Evaluate(layers[l], policy.layers[l].w_bits, a));
  }
  return out;
}

TEST(ReportTest, EveryChartHasOneMarkPerDatumWithThePolicysAndCostModelsValues) {
  test::TempDir tmp;
  test::SyntheticRunOptions o;  // mobilenet_v1 on bitfusion: all four layer classes, energy
  const Rendered r = RenderSynthetic(tmp / "run", o);
  const auto layers = test::SyntheticLayers(o);
  const size_t n_layers = layers.size();
  const auto& best = r.log[static_cast<size_t>(r.log.back().best_episode)];
  EXPECT_EQ(r.run.best_episode().episode, best.episode);

  // Bits: a weight bar and an activation bar per layer, values = the best policy.
  const auto bits = Marks(SvgById(r.html, "bits-chart"));
  ASSERT_EQ(bits.size(), 2 * n_layers);
  const auto w = Filter(bits, "bits", "w"), a = Filter(bits, "bits", "a");
  ASSERT_EQ(w.size(), n_layers);
  ASSERT_EQ(a.size(), n_layers);
  std::set<std::string> kinds;
  for (size_t l = 0; l < n_layers; ++l) {
    EXPECT_EQ(w[l].at("layer"), std::to_string(l));
    EXPECT_EQ(Value(w[l]), best.policy.layers[l].w_bits) << l;
    EXPECT_EQ(Value(a[l]), best.policy.layers[l].a_bits) << l;
    EXPECT_EQ(w[l].at("kind"), report::LayerClass(layers[l]));
    kinds.insert(w[l].at("kind"));
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"conv", "pointwise", "depthwise", "fc"}));
  EXPECT_EQ(a[0].at("class"), " k-conv act fp");  // the pinned first layer reads the raw input

  // Per-layer latency and energy equal the cost model's; the bound is marked.
  const auto direct = DirectCosts(o.hardware, layers, best.policy);
  const auto latency = Marks(SvgById(r.html, "latency-chart"));
  const auto energy = Marks(SvgById(r.html, "energy-chart"));
  ASSERT_EQ(latency.size(), n_layers);
  ASSERT_EQ(energy.size(), n_layers);
  std::set<std::string> bounds;
  for (size_t l = 0; l < n_layers; ++l) {
    EXPECT_DOUBLE_EQ(Value(latency[l]), direct[l].seconds * 1e3) << l;
    EXPECT_DOUBLE_EQ(Value(energy[l]), direct[l].EnergyPj() * 1e-6) << l;
    EXPECT_EQ(latency[l].at("bound"), hw::BoundName(direct[l].bound));
    EXPECT_DOUBLE_EQ(r.run.layer_costs[l].seconds, direct[l].seconds);
    bounds.insert(latency[l].at("bound"));
  }
  EXPECT_EQ(r.html.find("energy-note"), std::string::npos);

  // Curve: reward, accuracy and cost ratio for every episode.
  const auto curve = Marks(SvgById(r.html, "curve-chart"));
  ASSERT_EQ(curve.size(), 3 * r.log.size());
  for (const char* series : {"reward", "accuracy", "cost_ratio"}) {
    const auto s = Filter(curve, "series", series);
    ASSERT_EQ(s.size(), r.log.size());
    for (size_t e = 0; e < r.log.size(); ++e) {
      const auto& rec = r.log[e];
      EXPECT_EQ(s[e].at("episode"), std::to_string(e + 1));
      const double expected = std::string(series) == "reward"     ? rec.reward
                              : std::string(series) == "accuracy" ? rec.accuracy
                                                                  : rec.cost_ratio;
      EXPECT_DOUBLE_EQ(Value(s[e]), expected) << series << " " << e;
    }
  }

  // Accuracy against cost: every episode, the front marked, summary rows.
  const std::string pareto = SvgById(r.html, "pareto-chart");
  const auto pm = Marks(pareto);
  std::vector<Point> points;
  for (const auto& rec : r.log) points.push_back({rec.cost_ratio, rec.accuracy});
  const auto front = BruteForceFront(points);
  size_t n_front = 0, n_points = 0;
  for (const auto& m : pm) {
    if (m.at("class").find("summary") != std::string::npos) continue;
    const size_t e = std::stoul(m.at("episode")) - 1;
    ++n_points;
    EXPECT_DOUBLE_EQ(Value(m, "cost"), r.log[e].cost_ratio);
    EXPECT_DOUBLE_EQ(Value(m), r.log[e].accuracy);
    const bool on_front = m.at("class").find("front") != std::string::npos;
    EXPECT_EQ(on_front, front.contains(e)) << e;
    n_front += on_front;
  }
  EXPECT_EQ(n_points, r.log.size());
  EXPECT_EQ(n_front, front.size());
  EXPECT_EQ(pm.size(), r.log.size() + 3);  // + summary.json's three rows
  EXPECT_NE(pareto.find(fmt::format("id=\"pareto-chart-best\" data-episode=\"{}\"", best.episode + 1)),
            std::string::npos);

  // Uniform baselines: cost of uniform b (first layer 8-bit weights on the raw input,
  // last layer 8/8) over uniform 8, from the cost model directly.
  static const std::regex uniform(R"re(class="ref uniform" data-bits="(\d)" data-value="([^"]*)")re");
  auto uniform_latency = [&](int b) {
    hw::Policy p = hw::UniformPolicy(layers, b, b);
    p.layers.front() = {p.layers.front().name, 8, 0};
    p.layers.back() = {p.layers.back().name, 8, 8};
    double s = 0;
    for (const auto& c : DirectCosts(o.hardware, layers, p)) s += c.seconds;
    return s;
  };
  int n_uniform = 0;
  for (auto it = std::sregex_iterator(pareto.begin(), pareto.end(), uniform); it != std::sregex_iterator(); ++it) {
    const int b = std::stoi((*it)[1]);
    EXPECT_NEAR(std::stod((*it)[2]), uniform_latency(b) / uniform_latency(8), 1e-12) << b;
    ++n_uniform;
  }
  EXPECT_EQ(n_uniform, 8);

  // Header, tables.
  EXPECT_NE(r.html.find("<div class=\"status complete\" id=\"status\">Status: complete</div>"),
            std::string::npos);
  EXPECT_NE(r.html.find("<table id=\"layer-table\">"), std::string::npos);
  EXPECT_NE(r.html.find("<td>budget</td><td>latency=0.6</td>"), std::string::npos);
  EXPECT_EQ(r.html.find("http://") , r.html.find("http://www.w3.org/2000/svg"));  // no external links
  EXPECT_EQ(r.html.find("https://"), std::string::npos);
}

// haq search --final-candidates may deliver another policy than the best by reward;
// summary.json's final_episode names it and the report shows that one.
TEST(ReportTest, ThePolicyShownIsTheOneTheRunDelivered) {
  test::TempDir tmp;
  const auto log = test::WriteSyntheticRun(tmp / "run", {});
  const int64_t best = log.back().best_episode;
  const int64_t other = best == 0 ? 1 : 0;
  EXPECT_EQ(report::LoadRun(tmp / "run").best_episode().episode, best);
  auto j = nlohmann::json::parse(util::ReadFile(tmp / "run" / "summary.json"));
  j["final_episode"] = other;
  util::WriteFileAtomic(tmp / "run" / "summary.json", j.dump());
  const report::RunReportData run = report::LoadRun(tmp / "run");
  EXPECT_EQ(run.best_episode().episode, other);
  const auto w = Filter(Marks(SvgById(report::RenderHtml(run), "bits-chart")), "bits", "w");
  const hw::Policy& p = log[static_cast<size_t>(other)].policy;
  ASSERT_EQ(w.size(), p.layers.size());
  for (size_t l = 0; l < w.size(); ++l) EXPECT_EQ(Value(w[l]), p.layers[l].w_bits) << l;
}

// haq search --final-seeds K: the fine-tuned rows carry one accuracy per seed and
// the summary the paired differences; the table shows mean ± spread of those values.
TEST(ReportTest, FinalSeedsShowAsMeanAndSpreadWithThePairedDifference) {
  test::TempDir tmp;
  test::WriteSyntheticRun(tmp / "run", {});
  auto j = nlohmann::json::parse(util::ReadFile(tmp / "run" / "summary.json"));
  // statistics.mean / pstdev: [86.0, 86.5, 85.75] -> 86.08 ± 0.31;
  // [89.5, 89.0, 88.75] -> 89.08 ± 0.31; differences [3.5, 2.5, 3.0] -> 3.00 ± 0.41.
  j["rows"][1]["test_top1_finetuned_seeds"] = {86.0, 86.5, 85.75};
  j["rows"][2]["test_top1_finetuned_seeds"] = {89.5, 89.0, 88.75};
  j["searched_minus_uniform"] = {{"per_seed", {3.5, 2.5, 3.0}}, {"mean", 3.0}, {"std", 0.408}};
  util::WriteFileAtomic(tmp / "run" / "summary.json", j.dump());
  const std::string html = report::RenderHtml(report::LoadRun(tmp / "run"));
  EXPECT_NE(html.find("<td class=\"num\">86.08 ± 0.31%</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td class=\"num\">89.08 ± 0.31%</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">92.50%</td></tr>"), std::string::npos);  // 8-bit: one value
  EXPECT_NE(html.find("mean ± population standard deviation over 3 seeds"), std::string::npos);
  EXPECT_NE(html.find("fine-tune: <b>3.00 ± 0.41 points</b> (3 seeds, each pair fine-tuned with "
                      "the same seed)."),
            std::string::npos);
  // A run from before --final-seeds has neither.
  test::WriteSyntheticRun(tmp / "old", {});
  const std::string old = report::RenderHtml(report::LoadRun(tmp / "old"));
  EXPECT_EQ(old.find("±"), std::string::npos);
  EXPECT_EQ(old.find("paired-difference"), std::string::npos);
}

// A sweep's report: one mark per searched budget and per uniform width with its
// values, the seeds' range as a bar, the uniform line through the widths by cost,
// and the count of points above that line.
TEST(ReportTest, ASweepsFrontShowsEveryBudgetAndUniformWidthWithItsValues) {
  search::SweepFront f;
  f.model = "mobilenet_v2_fmnist";
  f.hardware = "bismo-edge";
  f.metric = "latency";
  f.final_seeds = {0, 1};
  f.final_finetune_steps = 600;
  f.uniform = {{2, 0.2, 70.0, {69.0, 71.0}}, {3, 0.3, 86.0, {86.0, 86.0}}, {4, 0.4, 90.0, {89.5, 90.5}}};
  f.points = {{"latency=0.25", "latency-0.25", 0.25, 80.0, {79.0, 81.0}, 1.0, 2.0},
              {"latency=0.35", "latency-0.35", 0.35, 87.5, {87.0, 88.0}, 0.5, -0.5},
              {"latency=0.5", "latency-0.5", 0.5, 91.0, {91.0, 91.0}, 1.0, std::nullopt}};
  const std::string html = report::RenderSweepHtml(f);
  const std::string chart = SvgById(html, "front-chart");
  const auto marks = Marks(chart);
  const auto searched = Filter(marks, "class", " searched");
  ASSERT_EQ(searched.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(searched[i].at("budget"), f.points[i].budget);
    EXPECT_EQ(Value(searched[i], "cost"), f.points[i].cost_ratio);
    EXPECT_EQ(Value(searched[i]), f.points[i].test_top1);
  }
  const auto uniform = Filter(marks, "class", " uniform-point");
  ASSERT_EQ(uniform.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(std::stoi(uniform[i].at("bits")), f.uniform[i].bits);
    EXPECT_EQ(Value(uniform[i]), f.uniform[i].test_top1);
  }
  // Bars for every point whose seeds differ: two searched, two uniform.
  size_t bars = 0;
  for (size_t at = chart.find("seed-range"); at != std::string::npos; at = chart.find("seed-range", at + 1)) ++bars;
  EXPECT_EQ(bars, 4u);
  // The line through the widths by cost: a move and two segments.
  const size_t d = chart.find("class=\"uniform-line\" d=\"");
  ASSERT_NE(d, std::string::npos);
  const std::string path = chart.substr(d, chart.find("\"/>", d) - d);
  EXPECT_EQ(std::count(path.begin(), path.end(), 'M'), 1);
  EXPECT_EQ(std::count(path.begin(), path.end(), 'L'), 2);
  EXPECT_NE(html.find("3 budgets; 1 of the 2 searched policies within the uniform widths' span lie "
                      "above the line"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">-0.50</td>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"latency-0.35/report.html\">"), std::string::npos);
}

// A run of several budgets: the summary table has a column per further budget with
// its limit and each row's cost there, as summary.json holds them.
TEST(ReportTest, FurtherBudgetsShowAsAColumnOfTheSummaryTable) {
  test::TempDir tmp;
  test::WriteSyntheticRun(tmp / "run", {});
  auto j = nlohmann::json::parse(util::ReadFile(tmp / "run" / "summary.json"));
  const double energy[] = {1.5, 0.575, 0.5125};
  for (size_t i = 0; i < 3; ++i) {
    j["rows"][i]["other_budgets"] = {{{"budget", "energy=3bit@bitfusion"}, {"unit", "mJ"},
                                      {"limit_in_unit", 0.58}, {"cost_in_unit", energy[i]},
                                      {"cost_ratio", energy[i] / 1.5}}};
  }
  util::WriteFileAtomic(tmp / "run" / "summary.json", j.dump());
  const std::string html = report::RenderHtml(report::LoadRun(tmp / "run"));
  EXPECT_NE(html.find("<th class=\"num\">energy=3bit@bitfusion (limit 0.58 mJ)</th>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td class=\"num\">1.5 mJ (1.000x)</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.575 mJ (0.383x)</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.5125 mJ (0.342x)</td>"), std::string::npos);
}

TEST(ReportTest, HardwareWithoutEnergyOmitsTheEnergyChartWithANote) {
  test::TempDir tmp;
  test::SyntheticRunOptions o;
  o.hardware = "bismo-edge";
  o.model = "mobilenet_v2";
  const Rendered r = RenderSynthetic(tmp / "run", o);
  EXPECT_EQ(SvgById(r.html, "energy-chart"), "");
  EXPECT_NE(r.html.find("Energy: not shown, bismo-edge has no energy table"), std::string::npos);
  EXPECT_EQ(Marks(SvgById(r.html, "latency-chart")).size(), test::SyntheticLayers(o).size());
}

// The planned strategies' sensitivity chart: for an ILP run, one bar per tensor with
// the trace per value of sensitivity.json (the negative estimate left out, and said
// so); for a greedy run, the top-1 each tensor lost at b_min in greedy_probes.jsonl.
// Runs of the other strategies have no such chart.
TEST(ReportTest, TheSensitivityChartShowsTheTracesOrTheProbesTheRunKept) {
  test::TempDir tmp;
  test::SyntheticRunOptions o;
  o.planned = "ilp";
  const Rendered ilp = RenderSynthetic(tmp / "ilp", o);
  const size_t n = test::SyntheticLayers(o).size();
  const auto table = quant::SensitivityTable::FromJson(
      nlohmann::json::parse(util::ReadFile(tmp / "ilp" / quant::kSensitivityFile)), "t");
  const auto marks = Marks(SvgById(ilp.html, "sensitivity-chart"));
  ASSERT_EQ(marks.size(), 2 * n - 1);
  const auto w = Filter(marks, "kind", "w"), a = Filter(marks, "kind", "a");
  ASSERT_EQ(w.size(), n - 1);
  ASSERT_EQ(a.size(), n);
  for (size_t l = 0; l < n; ++l) {
    EXPECT_DOUBLE_EQ(Value(a[l]), table.layers[l].input_trace / table.layers[l].inputs) << l;
    const size_t wi = l < 1 ? l : l - 1;
    if (l == 1) continue;
    EXPECT_EQ(w[wi].at("layer"), std::to_string(l));
    EXPECT_DOUBLE_EQ(Value(w[wi]), table.layers[l].weight_trace / table.layers[l].weights) << l;
  }
  EXPECT_NE(ilp.html.find("1 estimates at or below zero (noise) are not drawn"), std::string::npos);

  o.planned = "greedy";
  const Rendered greedy = RenderSynthetic(tmp / "greedy", o);
  const std::vector<search::Probe> probes = search::ReadProbes(*greedy.run.env, tmp / "greedy" / search::kProbesFile);
  const auto gm = Marks(SvgById(greedy.html, "sensitivity-chart"));
  size_t at_min = 0;
  for (const search::Probe& p : probes) {
    if (p.layer < 0 || p.bits != greedy.run.settings.b_min) continue;
    const auto m = Filter(Filter(gm, "layer", std::to_string(p.layer)), "kind", p.weight ? "w" : "a");
    ASSERT_EQ(m.size(), 1u) << p.layer;
    EXPECT_DOUBLE_EQ(Value(m[0]), probes[0].accuracy - p.accuracy);
    ++at_min;
  }
  EXPECT_EQ(gm.size(), at_min);
  EXPECT_EQ(at_min, 2 * (n - 2));  // every layer but the pinned first and last

  o.planned = "";
  EXPECT_EQ(SvgById(RenderSynthetic(tmp / "ddpg", o).html, "sensitivity-chart"), "");

  // A table of another network is refused, naming the file.
  auto j = nlohmann::json::parse(util::ReadFile(tmp / "ilp" / quant::kSensitivityFile));
  j["layers"][2]["name"] = "other";
  util::WriteFileAtomic(tmp / "ilp" / quant::kSensitivityFile, j.dump());
  EXPECT_EQ(test::InputErrorOf([&] { report::LoadRun(tmp / "ilp"); }),
            fmt::format("{}: layers[2].name: expected '{}' (network.json), got 'other'",
                        (tmp / "ilp" / quant::kSensitivityFile).string(),
                        test::SyntheticLayers(o)[2].name));
}

TEST(ReportTest, AnInterruptedRunRendersItsCommittedEpisodesMarkedPartial) {
  test::TempDir tmp;
  test::SyntheticRunOptions o;
  o.episodes_logged = 10;  // the log ran ahead of the commit point
  o.episodes_committed = 7;
  o.episodes_planned = 50;
  o.finished = false;
  const Rendered r = RenderSynthetic(tmp / "run", o);
  EXPECT_FALSE(r.run.complete());
  EXPECT_EQ(r.run.episodes.size(), 7u);
  EXPECT_NE(r.html.find("<div class=\"status partial\" id=\"status\">Status: partial (interrupted "
                        "after episode 7; no summary.json)</div>"),
            std::string::npos);
  EXPECT_NE(r.html.find("7 done / 50 planned"), std::string::npos);
  EXPECT_EQ(Marks(SvgById(r.html, "curve-chart")).size(), 3 * 7u);
  EXPECT_EQ(Marks(SvgById(r.html, "pareto-chart")).size(), 7u);  // no summary rows

  const auto cli = RunHaq("report run", tmp.path());
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("7/50 episodes, partial (interrupted after episode 7; no summary.json)"),
            std::string::npos)
      << cli.out;
}

TEST(ReportTest, CliWritesTheReportAndASummary) {
  test::TempDir tmp;
  const auto log = test::WriteSyntheticRun(tmp / "run", {});
  const auto r = RunHaq("report run", tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto& best = log[static_cast<size_t>(log.back().best_episode)];
  EXPECT_NE(r.out.find(fmt::format("best: episode {}, reward {:.3f}, accuracy {:.2f}%", best.episode + 1,
                                   best.reward, best.accuracy)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("mean bits per layer class: conv (1): w 8.0, a fp; pointwise (13)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Pareto front: "), std::string::npos);
  EXPECT_NE(r.out.find("wrote run/report.html\n"), std::string::npos) << r.out;
  const std::string html = util::ReadFile(tmp / "run" / "report.html");
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  const auto other = RunHaq("report run --out elsewhere.html", tmp.path());
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(util::ReadFile(tmp / "elsewhere.html"), html);
}

// ---- Bad input ---------------------------------------------------------------------

struct BadCase {
  std::string name;
  std::function<void(const fs::path& run)> damage;  // applied to a complete synthetic run
  std::string args;
  std::string message;  // stderr, exactly; a trailing '*' matches any rest of the line
};

using json = nlohmann::json;

// A damage that edits one of the run's JSON files in place.
std::function<void(const fs::path&)> EditJsonFile(const std::string& file,
                                                  std::function<void(json&)> edit) {
  return [=](const fs::path& run) {
    json j = json::parse(util::ReadFile(run / file));
    edit(j);
    util::WriteFileAtomic(run / file, j.dump());
  };
}
std::function<void(const fs::path&)> EditNetwork(std::function<void(json&)> edit) {
  return EditJsonFile("network.json", std::move(edit));
}
std::function<void(const fs::path&)> EditSettings(std::function<void(json&)> edit) {
  return EditJsonFile("settings.json", std::move(edit));
}
// Edits line `index` (from 0) of log.jsonl.
std::function<void(const fs::path&)> EditLogLine(size_t index, std::function<void(json&)> edit) {
  return [=](const fs::path& run) {
    std::istringstream in(util::ReadFile(run / "log.jsonl"));
    std::string text;
    size_t i = 0;
    for (std::string line; std::getline(in, line); ++i) {
      if (i == index) {
        json j = json::parse(line);
        edit(j);
        line = j.dump();
      }
      text += line + "\n";
    }
    util::WriteFileAtomic(run / "log.jsonl", text);
  };
}

TEST(ReportTest, BadInputGivesAnExactMessageAndWritesNothing) {
  const std::vector<BadCase> cases = {
      {"missing directory", [](const fs::path& d) { fs::remove_all(d); }, "report run",
       "haq: error: run: no such directory\n"},
      {"not a run", [](const fs::path& d) { fs::remove(d / "settings.json"); }, "report run",
       "haq: error: run: not a search run directory (no settings.json; haq search --out DIR makes "
       "one)\n"},
      {"run from before network.json", [](const fs::path& d) { fs::remove(d / "network.json"); },
       "report run",
       "haq: error: run/network.json: missing: the report needs the run's layer shapes, which haq "
       "search writes into every new run directory (this run was made before it did; run the "
       "search again to report it)\n"},
      {"malformed network.json", [](const fs::path& d) { util::WriteFileAtomic(d / "network.json", "{\"model\": "); },
       "report run", "haq: error: run/network.json: malformed JSON: *"},
      {"network.json with no layers field",
       [](const fs::path& d) { util::WriteFileAtomic(d / "network.json", R"({"model": "m"})"); },
       "report run", "haq: error: run/network.json: missing field 'layers'\n"},
      {"network.json without layers",
       [](const fs::path& d) { util::WriteFileAtomic(d / "network.json", R"({"model": "m", "layers": 3})"); },
       "report run", "haq: error: run/network.json: layers: expected a non-empty array, got 3\n"},
      {"network.json layer field",
       [](const fs::path& d) {
         auto j = nlohmann::json::parse(util::ReadFile(d / "network.json"));
         j["layers"][2]["kernel_h"] = "three";
         util::WriteFileAtomic(d / "network.json", j.dump());
       },
       "report run",
       "haq: error: run/network.json: layers[2].kernel_h: expected an integer, got \"three\"\n"},
      {"missing hardware.yaml", [](const fs::path& d) { fs::remove(d / "hardware.yaml"); }, "report run",
       "haq: error: run/hardware.yaml: missing: the report needs the run's hardware spec, which "
       "haq search writes into every new run directory (this run was made before it did; run the "
       "search again to report it)\n"},
      {"malformed hardware.yaml",
       [](const fs::path& d) { util::WriteFileAtomic(d / "hardware.yaml", "version: 1\nname: x\nkind: tpu\n"); },
       "report run",
       "haq: error: run/hardware.yaml:3: kind: expected one of bismo, bitfusion, got 'tpu'\n"},
      {"malformed log line",
       [](const fs::path& d) {
         std::string log = util::ReadFile(d / "log.jsonl");
         const size_t second = log.find('\n') + 1;
         log.insert(second, "{not json\n");
         util::WriteFileAtomic(d / "log.jsonl", log);
       },
       "report run", "haq: error: run/log.jsonl:2: malformed JSON: *"},
      {"log field",
       [](const fs::path& d) {
         std::string log = util::ReadFile(d / "log.jsonl");
         const size_t at = log.find("\"accuracy\":", log.find('\n'));
         log.replace(at, 11, "\"accuracy\":\"high\",\"x\":");
         util::WriteFileAtomic(d / "log.jsonl", log);
       },
       "report run", "haq: error: run/log.jsonl:2: accuracy: expected a number, got \"high\"\n"},
      {"log line without policy", EditLogLine(1, [](json& j) { j.erase("policy"); }), "report run",
       "haq: error: run/log.jsonl:2: missing field 'policy'\n"},
      {"no state.json", [](const fs::path& d) { fs::remove(d / "state.json"); }, "report run",
       "haq: error: run/state.json: missing: no episode of this run was committed, nothing to "
       "report\n"},
      {"0 committed episodes",
       [](const fs::path& d) {
         util::WriteFileAtomic(d / "state.json", R"({"format": "haq-search-state-1", "episodes_done": 0,
             "agent_file": "agent-000000.bin", "best_episode": 0})");
       },
       "report run",
       "haq: error: run/state.json: episodes_done: expected at least 1 committed episode, got 0\n"},
      {"summary without rows",
       [](const fs::path& d) { util::WriteFileAtomic(d / "summary.json", "{}"); }, "report run",
       "haq: error: run/summary.json: rows: expected an array\n"},
      {"final_episode out of range",
       [](const fs::path& d) {
         auto j = nlohmann::json::parse(util::ReadFile(d / "summary.json"));
         j["final_episode"] = 12;
         util::WriteFileAtomic(d / "summary.json", j.dump());
       },
       "report run", "haq: error: run/summary.json: final_episode: expected 0..11, got 12\n"},
      {"a per-seed accuracy not a number",
       EditJsonFile("summary.json",
                    [](json& j) { j["rows"][2]["test_top1_finetuned_seeds"] = {90.5, "x"}; }),
       "report run",
       "haq: error: run/summary.json: rows[2]: test_top1_finetuned_seeds[1]: expected a number, "
       "got string\n"},
      {"paired differences not an array",
       EditJsonFile("summary.json",
                    [](json& j) { j["searched_minus_uniform"] = {{"per_seed", 0.5}}; }),
       "report run",
       "haq: error: run/summary.json: searched_minus_uniform: per_seed: expected an array of "
       "numbers, got number\n"},
      {"paired differences without per_seed",
       EditJsonFile("summary.json",
                    [](json& j) { j["searched_minus_uniform"] = {{"mean", 0.5}}; }),
       "report run",
       "haq: error: run/summary.json: searched_minus_uniform: missing field 'per_seed'\n"},
      {"no paired differences",
       EditJsonFile("summary.json",
                    [](json& j) { j["searched_minus_uniform"] = {{"per_seed", json::array()}}; }),
       "report run",
       "haq: error: run/summary.json: searched_minus_uniform: per_seed: expected at least one "
       "value, got []\n"},
      {"unwritable output", [](const fs::path&) {}, "report run --out no/such/dir/r.html",
       "haq: error: no/such/dir/r.html: cannot write: No such file or directory\n"},
      {"compare with one run", [](const fs::path&) {}, "report --compare run",
       "haq: error: --compare: expected at least 2 run directories, got 1\n"},
      // network.json: the layer shapes (docs/RELIABILITY.md, section 4).
      {"network.json without model", EditNetwork([](json& j) { j.erase("model"); }), "report run",
       "haq: error: run/network.json: missing field 'model'\n"},
      {"network.json model not a string", EditNetwork([](json& j) { j["model"] = 5; }),
       "report run", "haq: error: run/network.json: model: expected a string, got 5\n"},
      {"network.json with 16385 layers",
       EditNetwork([](json& j) { j["layers"] = json(std::vector<json>(16385, j["layers"][2])); }),
       "report run",
       "haq: error: run/network.json: layers: expected an array of 1 to 16384 layers, got 16385 "
       "layers\n"},
      {"layer name not a string", EditNetwork([](json& j) { j["layers"][1]["name"] = 5; }),
       "report run", "haq: error: run/network.json: layers[1].name: expected a string, got 5\n"},
      {"is_first not a boolean", EditNetwork([](json& j) { j["layers"][0]["is_first"] = 1; }),
       "report run",
       "haq: error: run/network.json: layers[0].is_first: expected true or false, got 1\n"},
      {"input values x batch over 2^44",
       EditNetwork([](json& j) {
         j["layers"][2]["in_h"] = 1 << 20;
         j["layers"][2]["in_w"] = 1 << 20;
       }),
       "report run",
       "haq: error: run/network.json: layers[2]: layer 'model.1.3': input values x batch: "
       "expected at most 2^44, got more (1x1 s1 32->64 1048576x1048576)\n"},
      {"groups not a divisor", EditNetwork([](json& j) { j["layers"][2]["groups"] = 3; }),
       "report run",
       "haq: error: run/network.json: layers[2]: layer 'model.1.3': groups: expected a divisor "
       "of in_channels (32) and out_channels (64), got 3\n"},
      {"depthwise with more outputs than inputs",
       EditNetwork([](json& j) {
         j["layers"][1]["out_channels"] = 2 * j["layers"][1]["in_channels"].get<int>();
       }),
       "report run", "haq: error: run/network.json: layers[1]: layer 'model.1.0': depthwise: expected groups == "
       "in_channels == out_channels, got 32, 32, 64\n"},
      {"fc with a 3x3 kernel", EditNetwork([](json& j) { j["layers"].back()["kernel_h"] = 3; }),
       "report run", "haq: error: run/network.json: layers[27]: layer 'fc': fc: expected a 1x1 kernel, 1x1 "
       "output and one group\n"},
      {"logged policy one layer short",
       EditLogLine(1, [](json& j) { j["policy"].erase(j["policy"].end() - 1); }), "report run",
       "haq: error: run/log.jsonl: line 2: expected episode 1 with best_episode in 0..1 and 28 "
       "layers, got episode 1, best_episode 1, 27 layers\n"},
      // The rest of the run directory (section 10).
      {"settings.json malformed",
       [](const fs::path& d) { util::WriteFileAtomic(d / "settings.json", "{\"agent\": "); },
       "report run", "haq: error: run/settings.json: malformed JSON: *"},
      {"settings.json not an object",
       [](const fs::path& d) { util::WriteFileAtomic(d / "settings.json", "[]"); }, "report run",
       "haq: error: run/settings.json: expected a JSON object, got array\n"},
      {"settings.json without agent", EditSettings([](json& j) { j.erase("agent"); }),
       "report run", "haq: error: run/settings.json: missing setting 'agent'\n"},
      {"settings.json b_min not an integer", EditSettings([](json& j) { j["b_min"] = "x"; }),
       "report run", "haq: error: run/settings.json: setting 'b_min': unexpected value \"x\"\n"},
      {"settings.json budget", EditSettings([](json& j) { j["budget"] = "latency=fast"; }),
       "report run", "haq: error: run/settings.json: setting 'budget': expected a positive number after "
       "'latency=', "
       "got 'fast'\n"},
      {"settings.json bits out of range",
       EditSettings([](json& j) {
         j["b_min"] = 0;
         j["b_max"] = 9;
       }),
       "report run", "haq: error: run/settings.json: setting 'b_min': expected 1..8, got 0\n"},
      {"episode numbers out of order", EditLogLine(2, [](json& j) { j["episode"] = 5; }),
       "report run",
       "haq: error: run/log.jsonl: line 3: expected episode 2 with best_episode in 0..2 and 28 "
       "layers, got episode 5, best_episode 1, 28 layers\n"},
      {"best_episode out of range", EditLogLine(2, [](json& j) { j["best_episode"] = 7; }),
       "report run",
       "haq: error: run/log.jsonl: line 3: expected episode 2 with best_episode in 0..2 and 28 "
       "layers, got episode 2, best_episode 7, 28 layers\n"},
      {"compare runs of different layers",
       [](const fs::path& d) {
         test::WriteSyntheticRun(d.parent_path() / "v2", {});
         EditNetwork([](json& j) { j["layers"][3]["name"] = "renamed"; })(d.parent_path() / "v2");
       },
       "report --compare run v2 --out c.html", "haq: error: --compare: layer 3 is 'model.2.0' in run and 'renamed' in v2; runs must "
       "share the model's layers\n"},
      {"output path is a directory",
       [](const fs::path& d) { fs::create_directory(d.parent_path() / "out.html"); },
       "report run --out out.html", "haq: error: out.html: cannot write: is a directory\n"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    test::TempDir tmp;
    test::WriteSyntheticRun(tmp / "run", {});
    c.damage(tmp / "run");
    const std::string before = fs::exists(tmp / "run") ? test::ListDir(tmp / "run") : "";
    const std::string before_top = test::ListDir(tmp.path());
    const auto r = RunHaq(c.args, tmp.path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    if (c.message.ends_with("*")) {
      const std::string prefix = c.message.substr(0, c.message.size() - 1);
      EXPECT_TRUE(r.err.starts_with(prefix)) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    } else {
      EXPECT_EQ(r.err, c.message);
    }
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(test::ListDir(tmp.path()), before_top);
    if (fs::exists(tmp / "run")) {
      EXPECT_EQ(test::ListDir(tmp / "run"), before);
    }
  }
}

// ---- Several runs ------------------------------------------------------------------

TEST(ReportTest, CompareMatrixCellsEqualDirectCostModelEvaluations) {
  test::TempDir tmp;
  test::SyntheticRunOptions edge, fusion;
  edge.hardware = "bismo-edge";
  edge.budget = "latency=0.5";
  edge.seed = 2;
  fusion.hardware = "bitfusion";
  fusion.budget = "energy=0.6";
  fusion.seed = 3;
  const auto edge_log = test::WriteSyntheticRun(tmp / "edge", edge);
  const auto fusion_log = test::WriteSyntheticRun(tmp / "fusion", fusion);
  const auto r = RunHaq("report --compare edge fusion --out cmp.html", tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote cmp.html\n"), std::string::npos) << r.out;
  const std::string html = util::ReadFile(tmp / "cmp.html");

  const std::vector<hw::Policy> best = {
      edge_log[static_cast<size_t>(edge_log.back().best_episode)].policy,
      fusion_log[static_cast<size_t>(fusion_log.back().best_episode)].policy};
  // Column j: run j's hardware and metric (edge: latency in s; fusion: energy in pJ).
  auto direct = [&](const hw::Policy& p, size_t j) {
    const test::SyntheticRunOptions& o = j == 0 ? edge : fusion;
    double s = 0;
    for (const auto& c : DirectCosts(o.hardware, test::SyntheticLayers(o), p)) {
      s += j == 0 ? c.seconds : c.EnergyPj();
    }
    return s;
  };
  hw::Policy uniform8 = hw::UniformPolicy(test::SyntheticLayers(edge), 8, 8);
  uniform8.layers.front().a_bits = 0;
  static const std::regex cell(
      R"re(data-policy="(\d)" data-hardware="(\d)" data-cost="([^"]*)" data-value="([^"]*)" data-ratio="([^"]*)")re");
  int cells = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), cell); it != std::sregex_iterator(); ++it) {
    const size_t i = std::stoul((*it)[1]), j = std::stoul((*it)[2]);
    const double expected = direct(best[i], j);
    EXPECT_NEAR(std::stod((*it)[3]), expected, 1e-12 * expected) << i << " " << j;
    EXPECT_NEAR(std::stod((*it)[4]), j == 0 ? expected * 1e3 : expected * 1e-9, 1e-12 * expected)
        << i << " " << j;
    EXPECT_NEAR(std::stod((*it)[5]), expected / direct(uniform8, j), 1e-12) << i << " " << j;
    ++cells;
  }
  EXPECT_EQ(cells, 4);
  // The diagonal is each run's own logged cost.
  EXPECT_NEAR(direct(best[0], 0), edge_log[static_cast<size_t>(edge_log.back().best_episode)].cost, 1e-15);
  for (const char* id : {"bits-chart-0", "bits-chart-1", "curve-chart-0", "curve-chart-1"}) {
    EXPECT_FALSE(Marks(SvgById(html, id)).empty()) << id;
  }
  EXPECT_EQ(Marks(SvgById(html, "curve-chart-1")).size(), 3 * fusion_log.size());
}

TEST(ReportTest, CompareRefusesRunsOfDifferentModels) {
  test::TempDir tmp;
  test::SyntheticRunOptions v2;
  v2.model = "mobilenet_v2";
  test::WriteSyntheticRun(tmp / "v1", {});
  test::WriteSyntheticRun(tmp / "v2", v2);
  const auto r = RunHaq("report --compare v1 v2", tmp.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "haq: error: --compare: v1 has 28 layers (mobilenet_v1), v2 has 53 (mobilenet_v2); runs "
            "must share the model's layers\n");
  EXPECT_EQ(test::ListDir(tmp.path()), "v1\nv2\n");
}

}  // namespace
}  // namespace haq
