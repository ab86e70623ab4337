// Where a fine-tune step's time goes: the episode benchmark's network
// (mobilenet_v2_cifar, 3x32x32, batch 64, channels-last, SGD with momentum) profiled
// operator by operator with LibTorch's profiler, in float32 and with uniform 8-bit
// fake quantization side by side. Prints, per operator, its self time per step
// (its time minus that of the operators it called) in each, the largest first.
//
//   build/bench/step_profile_run [STEPS] [ROWS]     (defaults 10 and 25)
//
// Threads: OMP_NUM_THREADS (LibTorch's intra-op threads; the operators are timed
// on the calling thread, which waits for the others).
#include <fmt/format.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "graph/zoo.h"
#include "quant/policy_hook.h"
#include "train/sgd.h"

namespace {

namespace profiler = torch::autograd::profiler;

struct Profile {
  std::map<std::string, double> self_ms;  // per step
  double step_ms = 0;                     // wall, per step, profiled
};

Profile Run(bool quantized, int steps) {
  auto net = haq::graph::BuildZooModel("mobilenet_v2_cifar");
  haq::train::Sgd sgd(net, {0.9, 4e-5, false});
  const auto x = torch::randn({64, 3, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch::randint(0, 10, {64}, torch::kLong);
  haq::quant::PolicyHook hook(net, haq::hw::UniformPolicy(net.LayerShapes(1), 8, 8));
  const size_t layers = net.quant_layers().size();
  hook.context().Preset(hook.policy(), std::vector<std::vector<double>>(layers, {1.0}),
                        std::vector<double>(layers, 6.0), std::vector<bool>(layers, false));
  auto step = [&] {
    sgd.ZeroGrad();
    auto loss = torch::nn::functional::cross_entropy(net.Forward(x, true, quantized ? &hook : nullptr), y);
    loss.backward();
    sgd.Step(0.001);
  };
  for (int i = 0; i < 5; ++i) step();  // warm-up: allocator, oneDNN primitives
  profiler::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const profiler::thread_event_lists lists = profiler::disableProfilerLegacy();

  Profile p;
  p.step_ms = wall / steps;
  for (const auto& list : lists) {
    struct Open {
      const profiler::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : list) {
      if (e.kind() == profiler::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == profiler::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.push->cpuElapsedUs(e);
        p.self_ms[open.push->name()] += (us - open.children_us) / 1000.0 / steps;
        if (!stack.empty()) stack.back().children_us += us;
      }
    }
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::stoi(argv[1]) : 10;
  const size_t rows = argc > 2 ? std::stoul(argv[2]) : 25;
  // Each twice, alternating, keeping the second: the first of a process pays for
  // its memory's first touch and the CPU's clock settling.
  Run(false, steps);
  Run(true, steps);
  const Profile f = Run(false, steps), q = Run(true, steps);
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [name, ms] : q.self_ms) order.emplace_back(-std::max(ms, f.self_ms.count(name) ? f.self_ms.at(name) : 0.0), name);
  for (const auto& [name, ms] : f.self_ms) {
    if (!q.self_ms.count(name)) order.emplace_back(-ms, name);
  }
  std::sort(order.begin(), order.end());
  fmt::print("mobilenet_v2_cifar, batch 64, channels-last, {} threads, {} profiled steps\n", torch::get_num_threads(),
             steps);
  fmt::print("| operator (self time) | float32 ms/step | 8-bit fake quant ms/step |\n|---|---|---|\n");
  double f_rest = 0, q_rest = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& name = order[i].second;
    const double fm = f.self_ms.count(name) ? f.self_ms.at(name) : 0.0;
    const double qm = q.self_ms.count(name) ? q.self_ms.at(name) : 0.0;
    if (i < rows) {
      fmt::print("| {} | {:.1f} | {:.1f} |\n", name, fm, qm);
    } else {
      f_rest += fm;
      q_rest += qm;
    }
  }
  fmt::print("| (the other {} operators) | {:.1f} | {:.1f} |\n", order.size() > rows ? order.size() - rows : 0, f_rest,
             q_rest);
  fmt::print("| step, wall (profiled) | {:.1f} | {:.1f} |\n", f.step_ms, q.step_ms);
  return 0;
}
