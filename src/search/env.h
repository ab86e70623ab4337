#pragma once
/// The HAQ search environment (haq-method.md, "The loop"): per quantizable layer a
/// weight step and an activation step (weights only for model-size searches), the
/// 10 normalised state features, actions in [0, 1] mapped to bits in
/// [b_min, b_max], the budget on latency, energy or model size, and the sequential
/// bit-decrease wall that enforces it. No LibTorch: the accuracy side lives in the
/// evaluator the search is given.
#include <string>
#include <vector>

#include "hw/cost_table.h"
#include "hw/layer_shape.h"
#include "hw/policy.h"

namespace haq::search {

enum class Metric { kLatency, kEnergy, kSize };
/// "latency", "energy", "size".
std::string MetricName(Metric m);
/// The unit costs are reported in for `m`: "ms", "mJ", "MB".
std::string MetricUnit(Metric m);

/// A budget: a fraction of the uniform 8-bit policy's cost, or an absolute amount.
struct Budget {
  Metric metric = Metric::kLatency;
  bool relative = true;
  /// relative: the fraction (> 0); absolute: seconds, picojoules or bits.
  double value = 0.6;
  /// > 0: the budget is the cost of the uniform policy at this many bits (pins
  /// applied), e.g. latency=4bit; `value` is then unused.
  int uniform_bits = 0;
  /// Another accelerator for this budget (METRIC=AMOUNT@HW: a built-in name or a
  /// spec file); empty: the run's own (--hw).
  std::string hardware;
  std::string text;  ///< as given, for messages and logs
};

/// Parses METRIC=AMOUNT: latency=0.6 (of uniform 8-bit), latency=2.5ms (s, ms, us),
/// energy=0.5 or energy=3mJ (J, mJ, uJ), size=0.25 or size=0.1MB (B, kB, MB; decimal),
/// or METRIC=Nbit: the cost of the uniform N-bit policy (1..8).
/// Throws util::InputError naming `flag`, what was expected and what was found.
/// A trailing @HW puts the budget on another accelerator (Budget::hardware).
Budget ParseBudget(const std::string& text, const std::string& flag = "--budget");

/// Several budgets, comma-separated ("latency=0.4,size=0.3,energy=3bit@bitfusion"),
/// all of which a policy must meet; the first is the run's own (on --hw: it may not
/// name other hardware). Throws util::InputError naming `flag` and the position for
/// an empty entry, a malformed one, or a metric given twice for the same hardware.
std::vector<Budget> ParseBudgets(const std::string& text, const std::string& flag = "--budget");

/// Throws InputError "WHERE: expected 1 <= b_min <= b_max <= 8, got B_MIN..B_MAX"
/// unless [b_min, b_max] is a range of bit widths the quantizers support.
void CheckBitRange(int b_min, int b_max, const std::string& where = "bits");

struct EnvOptions {
  int b_min = 2;
  int b_max = 8;
  /// The first layer keeps 8-bit weights and reads the network's input unquantized;
  /// the last layer stays 8/8 (as HAQ's released code). Pinned layers still take
  /// their steps (the agent's action is replaced) but the wall never lowers them.
  bool pin_first = true;
  bool pin_last = true;
  /// One step per layer (weights); activations stay in full precision (a_bits 0).
  /// HAQ's model-size search.
  bool weights_only = false;
  /// Beyond HAQ: two more state features telling the agent how much of the budget
  /// its choices so far commit (the policy's cost with the undecided steps at b_min,
  /// and at b_max, each over the budget). HAQ's 10 features do not see the budget,
  /// so the wall's cuts look random to its critic.
  bool budget_features = false;
};

class QuantEnv {
 public:
  /// `table` gives latency and energy per (layer, w, a); it may be empty (no
  /// layers) for a size budget. Throws util::InputError for bits outside 1..8,
  /// b_min > b_max, a latency/energy budget without a table (or energy on hardware
  /// without energy), or a non-positive budget.
  QuantEnv(std::vector<hw::LayerShape> layers, const hw::CostTable& table, Budget budget,
           EnvOptions options);

  size_t num_layers() const { return layers_.size(); }
  int64_t num_steps() const;
  /// The layer and whether it is the weight step (else the activation step).
  size_t StepLayer(int64_t step) const;
  bool IsWeightStep(int64_t step) const;

  /// Features of `step`, each min-max normalised over all steps to [0, 1]: layer
  /// index, input channels, output channels, kernel size, stride, input H·W, number
  /// of weights, is depthwise, is weight step; then `prev_action` as given.
  /// With budget_features, two more: see EnvOptions; `decided` holds the bits of
  /// steps 0..step-1.
  std::vector<float> State(int64_t step, double prev_action,
                           const std::vector<int>& decided = {}) const;
  int64_t state_dim() const { return options_.budget_features ? 12 : 10; }

  /// bits = round(a·(b_max − b_min + 1) + b_min − 0.5), clamped to [b_min, b_max].
  int ActionToBits(double action) const;
  /// The centre of the action interval that maps to `bits`.
  double BitsToAction(int bits) const;

  /// The policy for one bit width per step, with the pins applied.
  hw::Policy PolicyFromStepBits(const std::vector<int>& step_bits) const;
  /// The bits of every step of `policy` (inverse of PolicyFromStepBits).
  std::vector<int> StepBits(const hw::Policy& policy) const;

  /// The wall: while over budget, walk the layers from last to first taking one
  /// activation bit (re-check), then one weight bit (re-check), never below b_min
  /// and never on pinned values; stops when the budget is met or nothing can be
  /// lowered.
  hw::Policy EnforceBudget(hw::Policy policy) const;

  /// Cost of `policy` in base units (seconds, picojoules, bits).
  double Cost(const hw::Policy& policy) const;
  /// Cost of layer `layer` at (w_bits, a_bits) in base units; a_bits 0 (input left
  /// unquantized) is charged as 8 bits, as the cost models read it.
  double LayerCost(size_t layer, int w_bits, int a_bits) const;
  /// The (w_bits, a_bits) a policy may give layer `layer`: every pair in
  /// [b_min, b_max] (a_bits 0 for weights-only searches), or the pinned values alone
  /// for a pinned layer; named after the layer.
  std::vector<hw::LayerBits> LayerChoices(size_t layer) const;
  double budget() const { return budget_abs_; }
  double uniform8_cost() const { return uniform8_cost_; }
  const Budget& budget_spec() const { return budget_; }
  const EnvOptions& options() const { return options_; }
  const std::vector<hw::LayerShape>& layers() const { return layers_; }

  /// A uniform policy at `bits` (pins applied).
  hw::Policy Uniform(int bits) const;
  /// The largest b in [b_min, b_max] whose uniform policy fits the budget (b_min if
  /// none does).
  int LargestUniformBitsWithinBudget() const;

  /// `cost` converted to the metric's reporting unit (ms, mJ, MB).
  double InUnit(double cost) const;

 private:

  std::vector<hw::LayerShape> layers_;
  Budget budget_;
  EnvOptions options_;
  std::vector<double> costs_;                 // [layer][w-1][a-1] for the metric
  std::vector<std::vector<float>> features_;  // per step, normalised, 9 values
  double uniform8_cost_ = 0.0;
  double budget_abs_ = 0.0;
};

}  // namespace haq::search
