#include "search/front.h"

#include <fmt/format.h>

#include <algorithm>

#include "search/env.h"
#include "util/error.h"
#include "util/json.h"

namespace haq::search {

using json = nlohmann::json;

std::vector<std::string> ParseSweepBudgets(const std::string& text, const std::string& flag) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw util::InputError(fmt::format(
        "{}: expected METRIC=A1,A2,... (for instance latency=0.3,0.4,0.5), got '{}'", flag, text));
  }
  const std::string metric = text.substr(0, eq);
  std::vector<std::string> out;
  size_t start = eq + 1;
  for (int i = 1;; ++i) {
    const size_t comma = text.find(',', start);
    const std::string amount = text.substr(start, comma == std::string::npos ? comma : comma - start);
    const std::string where = fmt::format("{} (budget {})", flag, i);
    if (amount.empty()) {
      throw util::InputError(fmt::format("{}: expected an amount, got an empty entry in '{}'", where, text));
    }
    const std::string budget = metric + "=" + amount;
    const Budget b = ParseBudget(budget, where);
    if (!b.hardware.empty()) {
      throw util::InputError(fmt::format(
          "{}: a sweep's budgets are on the run's hardware (--hw); expected no @{}, got '{}'", where,
          b.hardware, amount));
    }
    for (size_t k = 0; k < out.size(); ++k) {
      if (out[k] == budget) {
        throw util::InputError(fmt::format("{}: '{}' is budget {} already; expected each amount once",
                                           where, amount, k + 1));
      }
    }
    out.push_back(budget);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.size() < 2) {
    throw util::InputError(fmt::format(
        "{}: expected at least two amounts for a sweep (one budget is a search: haq search "
        "--budget), got '{}'",
        flag, text));
  }
  return out;
}

std::string SweepRunName(const std::string& budget) {
  std::string name = budget;
  std::replace(name.begin(), name.end(), '=', '-');
  return name;
}

namespace {

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<double> OptionalNumber(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return util::JsonField<double>(j, key, where);
}

const json& Array(const json& j, const char* key, const std::string& where) {
  const json& a = util::JsonMember(j, key, where);
  if (!a.is_array()) {
    throw util::InputError(fmt::format("{}: {}: expected a list, got {}", where, key, a.dump()));
  }
  return a;
}

}  // namespace

SweepFront::LineCount SweepFront::AboveLine() const {
  LineCount c;
  for (const FrontPoint& p : points) {
    if (!p.above_line) continue;
    ++c.spanned;
    c.above += *p.above_line > 0 ? 1 : 0;
  }
  return c;
}

json SweepFront::ToJson() const {
  json points_json = json::array();
  for (const FrontPoint& p : points) {
    points_json.push_back({{"budget", p.budget},
                           {"run", p.run},
                           {"cost_ratio", p.cost_ratio},
                           {"test_top1", p.test_top1},
                           {"seeds", p.seeds},
                           {"minus_uniform", Optional(p.minus_uniform)},
                           {"above_line", Optional(p.above_line)}});
  }
  json uniform_json = json::array();
  for (const UniformPoint& u : uniform) {
    uniform_json.push_back(
        {{"bits", u.bits}, {"cost_ratio", u.cost_ratio}, {"test_top1", u.test_top1}, {"seeds", u.seeds}});
  }
  return {{"version", 1},
          {"model", model},
          {"hardware", hardware},
          {"metric", metric},
          {"final_seeds", final_seeds},
          {"final_finetune_steps", final_finetune_steps},
          {"points", points_json},
          {"uniform", uniform_json}};
}

SweepFront SweepFront::FromJson(const json& j, const std::string& where) {
  if (!j.is_object()) {
    throw util::InputError(fmt::format("{}: expected a JSON object, got {}", where, j.type_name()));
  }
  SweepFront f;
  f.model = util::JsonField<std::string>(j, "model", where);
  f.hardware = util::JsonField<std::string>(j, "hardware", where);
  f.metric = util::JsonField<std::string>(j, "metric", where);
  f.final_finetune_steps = util::JsonField<int64_t>(j, "final_finetune_steps", where);
  for (const json& s : Array(j, "final_seeds", where)) {
    if (!s.is_number_unsigned()) {
      throw util::InputError(fmt::format("{}: final_seeds: expected seeds >= 0, got {}", where, s.dump()));
    }
    f.final_seeds.push_back(s.get<uint64_t>());
  }
  const json& points = Array(j, "points", where);
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string at = fmt::format("{}: points[{}]", where, i);
    FrontPoint p;
    p.budget = util::JsonField<std::string>(points[i], "budget", at);
    p.run = util::JsonField<std::string>(points[i], "run", at);
    p.cost_ratio = util::JsonField<double>(points[i], "cost_ratio", at);
    p.test_top1 = util::JsonField<double>(points[i], "test_top1", at);
    p.seeds = util::JsonNumbers(util::JsonMember(points[i], "seeds", at), at + ": seeds");
    p.minus_uniform = OptionalNumber(points[i], "minus_uniform", at);
    p.above_line = OptionalNumber(points[i], "above_line", at);
    f.points.push_back(std::move(p));
  }
  const json& uniform = Array(j, "uniform", where);
  for (size_t i = 0; i < uniform.size(); ++i) {
    const std::string at = fmt::format("{}: uniform[{}]", where, i);
    UniformPoint u;
    u.bits = util::JsonField<int>(uniform[i], "bits", at);
    u.cost_ratio = util::JsonField<double>(uniform[i], "cost_ratio", at);
    u.test_top1 = util::JsonField<double>(uniform[i], "test_top1", at);
    u.seeds = util::JsonNumbers(util::JsonMember(uniform[i], "seeds", at), at + ": seeds");
    f.uniform.push_back(std::move(u));
  }
  return f;
}

std::optional<double> UniformLineAt(const std::vector<UniformPoint>& uniform, double cost_ratio) {
  std::vector<UniformPoint> u = uniform;
  std::sort(u.begin(), u.end(),
            [](const UniformPoint& a, const UniformPoint& b) { return a.cost_ratio < b.cost_ratio; });
  for (size_t i = 0; i + 1 < u.size(); ++i) {
    const UniformPoint& a = u[i];
    const UniformPoint& b = u[i + 1];
    if (cost_ratio < a.cost_ratio || cost_ratio > b.cost_ratio) continue;
    if (b.cost_ratio == a.cost_ratio) return std::max(a.test_top1, b.test_top1);
    const double t = (cost_ratio - a.cost_ratio) / (b.cost_ratio - a.cost_ratio);
    return a.test_top1 + t * (b.test_top1 - a.test_top1);
  }
  if (u.size() == 1 && cost_ratio == u[0].cost_ratio) return u[0].test_top1;
  return std::nullopt;
}

}  // namespace haq::search
