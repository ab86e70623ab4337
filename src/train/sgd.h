#pragma once
/// Stochastic gradient descent with momentum (optionally Nesterov) and decoupled
/// parameter groups (weight decay on conv/fc weights only), matching
/// torch.optim.SGD's update. Its state is a map name -> momentum buffer, saved in
/// checkpoints so a resumed run continues exactly.
#include <map>
#include <string>
#include <vector>

#include "graph/network.h"

namespace haq::train {

struct SgdOptions {
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = true;
};

class Sgd {
 public:
  /// Optimises `net`'s trainable tensors; weight decay applies to the weights of
  /// its quantizable layers only (not to biases or batch-norm parameters).
  Sgd(const graph::Network& net, SgdOptions options);
  /// Adds a tensor outside the network (e.g. trainable k-means centroids) to optimise.
  void AddParameter(std::string name, torch::Tensor tensor, double weight_decay);
  void ZeroGrad();
  /// One update at learning rate `lr`.
  void Step(double lr);
  std::map<std::string, torch::Tensor> State() const;
  /// Restores momentum buffers (names must match; throws util::InputError naming `source`).
  void LoadState(const std::map<std::string, torch::Tensor>& state, const std::string& source);

 private:
  struct Param {
    std::string name;
    torch::Tensor tensor;
    double weight_decay;
    torch::Tensor momentum;  // undefined until the first step
  };
  SgdOptions options_;
  std::vector<Param> params_;
};

/// Learning rate at fractional epoch `t` of `total` epochs: linear warm-up from 0
/// over `warmup` epochs, then cosine decay from `base` to 0.
double CosineLr(double base, double t, double total, double warmup);

}  // namespace haq::train
