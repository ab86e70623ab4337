// Where a fine-tune step's time goes: the episode benchmark's network
// (mobilenet_v2_cifar, 3x32x32, batch 64, channels-last, SGD with momentum) profiled
// operator by operator with LibTorch's profiler, side by side in float32, with
// uniform 8-bit fake quantization, and with the same but each ReLU6 run apart from
// the input quantizer it feeds (as before their fusion). Prints, per operator, its
// self time per step (its time minus that of the operators it called) in each, the
// largest first.
//
//   build/bench/step_profile_run [STEPS] [ROWS] [convolutions]   (defaults 10 and 25)
//
// With `convolutions`, the profiler records input shapes and each convolution
// operator's time is split by the kind of its weight: 1x1, depthwise (one input
// channel per group) or dense. Recording shapes adds a little to every operator.
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
#include "relu6_apart.h"
#include "train/sgd.h"

namespace {

namespace profiler = torch::autograd::profiler;

struct Profile {
  std::map<std::string, double> self_ms;  // per step
  double step_ms = 0;                     // wall, per step, profiled
};

enum class Kind { kFloat, kFakeQuant, kReluSixApart };

// "1x1", "depthwise 3x3" or "dense 3x3" for a weight of shape [O, I/groups, kh, kw].
std::string ConvKind(const std::vector<int64_t>& w) {
  if (w.size() != 4) return "?";
  if (w[2] == 1 && w[3] == 1) return "1x1";
  return fmt::format("{} {}x{}", w[1] == 1 ? "depthwise" : "dense", w[2], w[3]);
}

// The profiler's name for `e`, with the kind of convolution appended when `by_shape`.
std::string EventName(const profiler::LegacyEvent& e, bool by_shape) {
  std::string name = e.name();
  if (!by_shape || name.find("convolution") == std::string::npos) return name;
  const auto shapes = e.shapes();
  const size_t weight = name == "aten::convolution_backward" ? 2 : 1;  // (grad, input, weight) or (input, weight)
  return weight < shapes.size() ? fmt::format("{} ({})", name, ConvKind(shapes[weight])) : name;
}

Profile Run(Kind kind, int steps, bool by_shape) {
  auto net = haq::graph::BuildZooModel("mobilenet_v2_cifar");
  haq::train::Sgd sgd(net, {0.9, 4e-5, false});
  const auto x = torch::randn({64, 3, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch::randint(0, 10, {64}, torch::kLong);
  haq::quant::PolicyHook hook(net, haq::hw::UniformPolicy(net.LayerShapes(1), 8, 8));
  const size_t layers = net.quant_layers().size();
  hook.context().Preset(hook.policy(), std::vector<std::vector<double>>(layers, {1.0}),
                        std::vector<double>(layers, 6.0), std::vector<bool>(layers, false));
  haq::bench::ReluSixApart apart(hook);
  haq::graph::LayerHook* h = kind == Kind::kFloat ? nullptr
                             : kind == Kind::kFakeQuant ? static_cast<haq::graph::LayerHook*>(&hook)
                                                        : &apart;
  auto step = [&] {
    sgd.ZeroGrad();
    auto loss = torch::nn::functional::cross_entropy(net.Forward(x, true, h), y);
    loss.backward();
    sgd.Step(0.001);
  };
  for (int i = 0; i < 5; ++i) step();  // warm-up: allocator, oneDNN primitives
  profiler::enableProfilerLegacy(
      torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU, by_shape));
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
        p.self_ms[EventName(*open.push, by_shape)] += (us - open.children_us) / 1000.0 / steps;
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
  const bool by_shape = argc > 3 && std::string(argv[3]) == "convolutions";
  // Each twice, alternating, keeping the second: the first of a process pays for
  // its memory's first touch and the CPU's clock settling.
  const std::vector<Kind> kinds = {Kind::kFloat, Kind::kFakeQuant, Kind::kReluSixApart};
  for (Kind k : kinds) Run(k, steps, by_shape);
  std::vector<Profile> p;
  for (Kind k : kinds) p.push_back(Run(k, steps, by_shape));
  const auto ms = [](const Profile& q, const std::string& name) {
    const auto it = q.self_ms.find(name);
    return it == q.self_ms.end() ? 0.0 : it->second;
  };
  std::map<std::string, double> largest;
  for (const Profile& q : p) {
    for (const auto& [name, t] : q.self_ms) largest[name] = std::max(largest[name], t);
  }
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [name, t] : largest) order.emplace_back(-t, name);
  std::sort(order.begin(), order.end());
  fmt::print("mobilenet_v2_cifar, batch 64, channels-last, {} threads, {} profiled steps\n", torch::get_num_threads(),
             steps);
  fmt::print("| operator (self time) | float32 ms/step | 8-bit fake quant ms/step | the same, ReLU6 apart |\n"
             "|---|---|---|---|\n");
  std::vector<double> rest(p.size(), 0.0);
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& name = order[i].second;
    if (i < rows) {
      fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} |\n", name, ms(p[0], name), ms(p[1], name), ms(p[2], name));
    } else {
      for (size_t k = 0; k < p.size(); ++k) rest[k] += ms(p[k], name);
    }
  }
  fmt::print("| (the other {} operators) | {:.1f} | {:.1f} | {:.1f} |\n", order.size() > rows ? order.size() - rows : 0,
             rest[0], rest[1], rest[2]);
  fmt::print("| step, wall (profiled) | {:.1f} | {:.1f} | {:.1f} |\n", p[0].step_ms, p[1].step_ms, p[2].step_ms);
  return 0;
}
