#pragma once
/// The exact solver behind `--agent ilp`: a multiple-choice knapsack with any number
/// of budgets. Choose exactly one option in every group so that, for each budget,
/// the options' summed costs stay within its limit, minimising the summed values.
/// Solved as a 0-1 integer program by GLPK's branch and cut (Debian's libglpk),
/// proven optimal (relative gap 0) or an error. No LibTorch.
///
/// Before the solve every group keeps only its non-dominated options (an option is
/// dominated when another has no larger value and no larger cost in every budget):
/// replacing a dominated option by the one dominating it never breaks a budget and
/// never raises the total, so the optimum is unchanged. SolveBestChoices's runners-up
/// are the best solutions built from non-dominated options only.
#include <functional>
#include <string>
#include <vector>

namespace haq::search {

struct ChoiceOption {
  double value = 0.0;          ///< minimised (e.g. a sensitivity)
  std::vector<double> costs;   ///< one per budget, >= 0
};

struct ChoiceProblem {
  std::vector<std::vector<ChoiceOption>> groups;  ///< each non-empty
  std::vector<double> limits;                     ///< one per budget, > 0
  /// Names of the budgets for messages ("latency=4bit"), one per limit.
  std::vector<std::string> limit_names;
  /// The solver's time limit for one solve; past it the solve fails (util::InputError).
  double time_limit_seconds = 60.0;
  /// A cost of budget `b` as messages show it ("3.21 ms"); unset: the number alone.
  std::function<std::string(size_t b, double cost)> show_cost;
};

struct ChoiceSolution {
  std::vector<int> choice;     ///< per group, the index of the chosen option
  double value = 0.0;          ///< summed values
  std::vector<double> costs;   ///< summed costs, per budget, each <= its limit
};

/// The optimum. Throws util::InputError for a malformed problem (naming the group,
/// option or budget), an infeasible budget ("latency=..: infeasible: the cheapest
/// choice in every group costs X, above the limit Y"), budgets that each hold alone
/// but conflict together, or a solve that reaches the time limit without a proven
/// optimum.
ChoiceSolution SolveChoices(const ChoiceProblem& problem);

/// The `k` best distinct solutions, best first (each by adding to the program a cut
/// excluding the ones found): fewer when fewer exist. [0] is SolveChoices's optimum.
std::vector<ChoiceSolution> SolveBestChoices(const ChoiceProblem& problem, int k);

/// A greedy solution, not an optimum (AIMET's mixed-precision walk): start every
/// group at its lowest-value option (of equal values, the cheapest); while a budget
/// is exceeded, take the move (one group to another option costing no more in any
/// budget and less in some exceeded one) with the least value added per cost saved,
/// costs summed over the exceeded budgets as fractions of their limits; then, while
/// one fits, take the move that lowers the value most per cost added, every budget
/// kept. Equal ratios go to the lower group, then the lower option. The same
/// util::InputError as SolveChoices for a malformed problem or an infeasible budget;
/// also when the walk stops with a budget exceeded (budgets whose cheapest options
/// differ: the integer program may still meet them).
ChoiceSolution GreedyChoices(const ChoiceProblem& problem);

}  // namespace haq::search
