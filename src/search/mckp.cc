#include "search/mckp.h"

#include <fmt/format.h>
#include <glpk.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "util/error.h"

namespace haq::search {

namespace {

std::string Shown(const ChoiceProblem& p, size_t b, double cost) {
  return p.show_cost ? p.show_cost(b, cost) : fmt::format("{:.6g}", cost);
}

void CheckProblem(const ChoiceProblem& p) {
  const size_t budgets = p.limits.size();
  if (p.limit_names.size() != budgets) {
    throw util::InputError(fmt::format("choice problem: expected one name per budget ({}), got {}",
                                       budgets, p.limit_names.size()));
  }
  for (size_t b = 0; b < budgets; ++b) {
    if (!(p.limits[b] > 0) || !std::isfinite(p.limits[b])) {
      throw util::InputError(fmt::format("budget {}: expected a positive finite limit, got {}",
                                         p.limit_names[b], p.limits[b]));
    }
  }
  if (p.groups.empty()) throw util::InputError("choice problem: expected at least one group, got 0");
  if (!(p.time_limit_seconds > 0) || p.time_limit_seconds > 86400.0) {
    throw util::InputError(fmt::format(
        "ILP time limit: expected 0 < seconds <= 86400, got {}", p.time_limit_seconds));
  }
  for (size_t g = 0; g < p.groups.size(); ++g) {
    if (p.groups[g].empty()) {
      throw util::InputError(fmt::format("choice problem: group {}: expected at least one option", g));
    }
    for (size_t o = 0; o < p.groups[g].size(); ++o) {
      const ChoiceOption& opt = p.groups[g][o];
      if (!std::isfinite(opt.value)) {
        throw util::InputError(
            fmt::format("choice problem: group {} option {}: expected a finite value, got {}", g, o,
                        opt.value));
      }
      if (opt.costs.size() != budgets) {
        throw util::InputError(fmt::format(
            "choice problem: group {} option {}: expected {} costs (one per budget), got {}", g, o,
            budgets, opt.costs.size()));
      }
      for (size_t b = 0; b < budgets; ++b) {
        if (!(opt.costs[b] >= 0) || !std::isfinite(opt.costs[b])) {
          throw util::InputError(fmt::format(
              "choice problem: group {} option {}: {} cost: expected a finite value >= 0, got {}",
              g, o, p.limit_names[b], opt.costs[b]));
        }
      }
    }
  }
}

/// Indices of the options of `group` that no other option dominates; of options
/// equal in value and every cost, the first.
std::vector<int> NonDominated(const std::vector<ChoiceOption>& group) {
  std::vector<int> keep;
  for (size_t i = 0; i < group.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < group.size() && !dominated; ++j) {
      if (i == j) continue;
      const ChoiceOption& a = group[j];
      const ChoiceOption& b = group[i];
      bool no_worse = a.value <= b.value;
      bool better = a.value < b.value;
      for (size_t c = 0; c < a.costs.size() && no_worse; ++c) {
        no_worse = a.costs[c] <= b.costs[c];
        better = better || a.costs[c] < b.costs[c];
      }
      // Equal options: the earlier one stays.
      dominated = no_worse && (better || j < i);
    }
    if (!dominated) keep.push_back(static_cast<int>(i));
  }
  return keep;
}

void CheckEachBudgetAlone(const ChoiceProblem& p) {
  for (size_t b = 0; b < p.limits.size(); ++b) {
    double cheapest = 0.0;
    for (const auto& group : p.groups) {
      double m = std::numeric_limits<double>::infinity();
      for (const ChoiceOption& o : group) m = std::min(m, o.costs[b]);
      cheapest += m;
    }
    if (cheapest > p.limits[b]) {
      throw util::InputError(fmt::format(
          "budget {}: infeasible: the cheapest choice in every layer costs {}, above the "
          "limit {} ({:.4f}x of it); raise the budget or lower --b-min",
          p.limit_names[b], Shown(p, b, cheapest), Shown(p, b, p.limits[b]),
          cheapest / p.limits[b]));
    }
  }
}

struct GlpkProblem {
  glp_prob* lp = glp_create_prob();
  ~GlpkProblem() { glp_delete_prob(lp); }
};

class Program {
 public:
  explicit Program(const ChoiceProblem& p) : p_(p) {
    for (const auto& group : p.groups) kept_.push_back(NonDominated(group));
    double scale = 0.0;
    for (size_t g = 0; g < p.groups.size(); ++g) {
      for (int o : kept_[g]) scale = std::max(scale, std::abs(p.groups[g][o].value));
    }
    value_scale_ = scale > 0 ? 1.0 / scale : 1.0;
    rhs_.assign(p.limits.size(), 1.0);
  }

  /// The best solution not among `found`; false when none exists.
  bool Solve(const std::vector<ChoiceSolution>& found, ChoiceSolution& out) {
    // GLPK's bounds hold to a relative tolerance (1e-7); a solution a hair over a
    // limit is refused and the row tightened by twice the excess, then solved again.
    for (int attempt = 0; attempt < 8; ++attempt) {
      if (!SolveOnce(found, out)) return false;
      bool within = true;
      for (size_t b = 0; b < p_.limits.size(); ++b) {
        if (out.costs[b] > p_.limits[b]) {
          within = false;
          rhs_[b] -= 2.0 * (out.costs[b] / p_.limits[b] - 1.0) + 1e-12;
        }
      }
      if (within) return true;
    }
    throw util::InputError(
        "ILP: the solver's solutions kept exceeding a budget by its rounding tolerance after 8 "
        "tightenings; the budget lies within 1e-7 of a policy's cost: move it slightly");
  }

 private:
  bool SolveOnce(const std::vector<ChoiceSolution>& found, ChoiceSolution& out) {
    GlpkProblem prob;
    glp_prob* lp = prob.lp;
    glp_set_obj_dir(lp, GLP_MIN);
    const int groups = static_cast<int>(p_.groups.size());
    const int budgets = static_cast<int>(p_.limits.size());
    const int cuts = static_cast<int>(found.size());
    glp_add_rows(lp, groups + budgets + cuts);
    for (int g = 0; g < groups; ++g) glp_set_row_bnds(lp, g + 1, GLP_FX, 1.0, 1.0);
    for (int b = 0; b < budgets; ++b) glp_set_row_bnds(lp, groups + b + 1, GLP_UP, 0.0, rhs_[b]);
    for (int c = 0; c < cuts; ++c) {
      glp_set_row_bnds(lp, groups + budgets + c + 1, GLP_UP, 0.0, groups - 1.0);
    }
    // Columns: one binary per kept option; GLPK's arrays are 1-based.
    std::vector<int> ia{0}, ja{0};
    std::vector<double> ar{0.0};
    std::vector<std::pair<int, int>> column;  // (group, option)
    for (int g = 0; g < groups; ++g) {
      for (int o : kept_[g]) column.emplace_back(g, o);
    }
    glp_add_cols(lp, static_cast<int>(column.size()));
    for (size_t k = 0; k < column.size(); ++k) {
      const int col = static_cast<int>(k) + 1;
      const auto [g, o] = column[k];
      const ChoiceOption& opt = p_.groups[g][o];
      glp_set_col_kind(lp, col, GLP_BV);
      glp_set_obj_coef(lp, col, opt.value * value_scale_);
      ia.push_back(g + 1);
      ja.push_back(col);
      ar.push_back(1.0);
      for (int b = 0; b < budgets; ++b) {
        if (opt.costs[b] == 0) continue;
        ia.push_back(groups + b + 1);
        ja.push_back(col);
        ar.push_back(opt.costs[b] / p_.limits[b]);
      }
      for (int c = 0; c < cuts; ++c) {
        if (found[c].choice[g] != o) continue;
        ia.push_back(groups + budgets + c + 1);
        ja.push_back(col);
        ar.push_back(1.0);
      }
    }
    glp_load_matrix(lp, static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());

    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    parm.cov_cuts = GLP_ON;
    parm.mip_gap = 0.0;
    parm.tm_lim = static_cast<int>(std::ceil(p_.time_limit_seconds * 1000.0));
    const int rc = glp_intopt(lp, &parm);
    if (rc == GLP_ENOPFS) return NoSolution(found);
    if (rc == GLP_ETMLIM) {
      throw util::InputError(fmt::format(
          "ILP: no proven optimum within the time limit of {:g} s (--ilp-time-limit){}",
          p_.time_limit_seconds,
          glp_mip_status(lp) == GLP_FEAS
              ? fmt::format("; the best policy found so far is within {:.3g}% of the bound",
                            100.0 * Gap(lp))
              : std::string("; no policy was found yet")));
    }
    if (rc != 0) {
      throw util::InputError(fmt::format("ILP: the GLPK solver failed (glp_intopt code {})", rc));
    }
    const int status = glp_mip_status(lp);
    if (status == GLP_NOFEAS) return NoSolution(found);
    if (status != GLP_OPT) {
      throw util::InputError(fmt::format("ILP: the GLPK solver ended without an optimum (status {})",
                                         status));
    }
    out.choice.assign(groups, -1);
    for (size_t k = 0; k < column.size(); ++k) {
      if (glp_mip_col_val(lp, static_cast<int>(k) + 1) > 0.5) out.choice[column[k].first] = column[k].second;
    }
    out.value = 0.0;
    out.costs.assign(budgets, 0.0);
    for (int g = 0; g < groups; ++g) {
      const ChoiceOption& opt = p_.groups[g][out.choice[g]];
      out.value += opt.value;
      for (int b = 0; b < budgets; ++b) out.costs[b] += opt.costs[b];
    }
    return true;
  }

  static double Gap(glp_prob* lp) {
    const double best = glp_mip_obj_val(lp);
    return std::abs(best) > 0 ? std::abs(best - glp_get_obj_val(lp)) / std::abs(best) : 0.0;
  }

  /// No solution: for the first solve, the budgets conflict (each holds alone:
  /// CheckEachBudgetAlone ran); after that, every solution has been found.
  bool NoSolution(const std::vector<ChoiceSolution>& found) const {
    if (!found.empty()) return false;
    std::string names;
    for (const std::string& n : p_.limit_names) names += (names.empty() ? "" : " and ") + n;
    throw util::InputError(fmt::format(
        "budgets {}: conflicting: each can be met alone, but no policy meets them together",
        names));
  }

  const ChoiceProblem& p_;
  std::vector<std::vector<int>> kept_;
  double value_scale_ = 1.0;
  std::vector<double> rhs_;  // scaled limits (1 unless tightened)
};

}  // namespace

ChoiceSolution SolveChoices(const ChoiceProblem& problem) {
  return SolveBestChoices(problem, 1).front();
}

std::vector<ChoiceSolution> SolveBestChoices(const ChoiceProblem& problem, int k) {
  CheckProblem(problem);
  if (k < 1) throw util::InputError(fmt::format("ILP: expected at least 1 solution, got {}", k));
  CheckEachBudgetAlone(problem);
  glp_term_out(GLP_OFF);
  Program program(problem);
  std::vector<ChoiceSolution> found;
  ChoiceSolution s;
  while (static_cast<int>(found.size()) < k && program.Solve(found, s)) found.push_back(s);
  return found;
}

ChoiceSolution GreedyChoices(const ChoiceProblem& problem) {
  const ChoiceProblem& p = problem;
  CheckProblem(p);
  CheckEachBudgetAlone(p);
  const size_t budgets = p.limits.size();
  ChoiceSolution out;
  for (const auto& group : p.groups) {
    int best = 0;
    for (size_t o = 1; o < group.size(); ++o) {
      const ChoiceOption& a = group[o];
      const ChoiceOption& b = group[best];
      double ca = 0.0, cb = 0.0;
      for (size_t k = 0; k < budgets; ++k) {
        ca += a.costs[k] / p.limits[k];
        cb += b.costs[k] / p.limits[k];
      }
      if (a.value < b.value || (a.value == b.value && ca < cb)) best = static_cast<int>(o);
    }
    out.choice.push_back(best);
  }
  // The totals are summed afresh after every move, so no drift from differences
  // decides whether a budget holds.
  auto sum = [&] {
    out.value = 0.0;
    out.costs.assign(budgets, 0.0);
    for (size_t g = 0; g < p.groups.size(); ++g) {
      const ChoiceOption& o = p.groups[g][out.choice[g]];
      out.value += o.value;
      for (size_t k = 0; k < budgets; ++k) out.costs[k] += o.costs[k];
    }
  };
  auto exceeded = [&](size_t k) { return out.costs[k] > p.limits[k]; };
  auto any_exceeded = [&] {
    for (size_t k = 0; k < budgets; ++k) {
      if (exceeded(k)) return true;
    }
    return false;
  };
  sum();

  // The move (group, option) with the least score (ratios from `score`, which gives
  // NaN for a move that is not a candidate); option -1 when there is none. Equal
  // scores keep the first move met.
  struct Move {
    size_t group = 0;
    int option = -1;
  };
  auto best_move = [&](const auto& score) {
    Move best;
    double best_score = std::numeric_limits<double>::infinity();
    for (size_t g = 0; g < p.groups.size(); ++g) {
      const ChoiceOption& from = p.groups[g][out.choice[g]];
      for (size_t o = 0; o < p.groups[g].size(); ++o) {
        const double v = score(from, p.groups[g][o]);
        if (v < best_score || (best.option < 0 && v == best_score)) {
          best_score = v;
          best = {g, static_cast<int>(o)};
        }
      }
    }
    return best;
  };
  constexpr double kNot = std::numeric_limits<double>::quiet_NaN();

  // Lowering: the least value added per (normalised) cost saved on exceeded budgets,
  // never raising a budget's cost.
  while (any_exceeded()) {
    const Move m = best_move([&](const ChoiceOption& from, const ChoiceOption& to) {
      double saved = 0.0;
      for (size_t k = 0; k < budgets; ++k) {
        if (to.costs[k] > from.costs[k]) return kNot;
        if (exceeded(k)) saved += (from.costs[k] - to.costs[k]) / p.limits[k];
      }
      return saved > 0 ? (to.value - from.value) / saved : kNot;
    });
    if (m.option < 0) {
      std::string names;
      for (size_t k = 0; k < budgets; ++k) {
        if (exceeded(k)) names += (names.empty() ? "" : " and ") + p.limit_names[k];
      }
      throw util::InputError(fmt::format(
          "budget {}: the greedy walk found no lowering that meets it without raising another "
          "budget's cost; the integer program (--agent ilp) solves such budgets exactly",
          names));
    }
    out.choice[m.group] = m.option;
    sum();
  }

  // Raising into the slack: the most value removed per (normalised) cost added, every
  // budget kept (scored as minus that ratio).
  for (;;) {
    const Move m = best_move([&](const ChoiceOption& from, const ChoiceOption& to) {
      const double gain = from.value - to.value;
      if (!(gain > 0)) return kNot;
      double added = 0.0;
      for (size_t k = 0; k < budgets; ++k) {
        if (out.costs[k] + to.costs[k] - from.costs[k] > p.limits[k]) return kNot;
        added += std::max(0.0, to.costs[k] - from.costs[k]) / p.limits[k];
      }
      return added > 0 ? -gain / added : -std::numeric_limits<double>::infinity();
    });
    if (m.option < 0) break;
    const int was = out.choice[m.group];
    out.choice[m.group] = m.option;
    sum();
    if (any_exceeded()) {  // fitted only by rounding: undo, and stop there
      out.choice[m.group] = was;
      sum();
      break;
    }
  }
  return out;
}

}  // namespace haq::search
