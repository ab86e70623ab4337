#include "train/trainer.h"

#include <fmt/format.h>

#include "util/progress.h"

namespace haq::train {

namespace F = torch::nn::functional;

namespace {
// Number of rows whose label is among the top-k logits.
int64_t CountTopK(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k) {
  k = std::min<int64_t>(k, logits.size(1));
  const auto top = std::get<1>(logits.topk(k, 1));
  return top.eq(labels.unsqueeze(1)).any(1).sum().item<int64_t>();
}
}  // namespace

EvalResult Evaluate(const graph::Network& net, data::BatchLoader& loader, graph::LayerHook* hook,
                    std::FILE* progress) {
  torch::NoGradGuard no_grad;
  EvalResult r;
  util::Progress bar(progress, "eval", loader.NumExamples(), "img");
  loader.StartEpoch(0);
  data::Batch batch;
  int64_t top1 = 0, top5 = 0;
  double loss = 0.0;
  while (loader.Next(batch)) {
    // Channels-last, as the fine-tune runs: oneDNN's convolutions (ATen's NCHW
    // depthwise path made a 224-px MobileNet-V2 evaluation cost nearly a training step).
    const torch::Tensor images =
        batch.images.dim() == 4 ? batch.images.contiguous(torch::MemoryFormat::ChannelsLast) : batch.images;
    const auto logits = net.Forward(images, /*training=*/false, hook);
    loss += F::cross_entropy(logits, batch.labels, F::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
    top1 += CountTopK(logits, batch.labels, 1);
    top5 += CountTopK(logits, batch.labels, 5);
    r.images += batch.labels.size(0);
    bar.Update(r.images);
  }
  r.seconds = bar.ElapsedSeconds();
  if (r.images > 0) {
    r.top1 = 100.0 * static_cast<double>(top1) / static_cast<double>(r.images);
    r.top5 = 100.0 * static_cast<double>(top5) / static_cast<double>(r.images);
    r.loss = loss / static_cast<double>(r.images);
  }
  return r;
}

void Train(graph::Network& net, Sgd& optimizer, data::BatchLoader& train, data::BatchLoader* val,
           const TrainOptions& o, int64_t start_epoch,
           const std::function<void(const EpochReport&)>& on_epoch, std::FILE* progress) {
  const int64_t batches = train.NumBatches();
  for (int64_t epoch = start_epoch; epoch < o.epochs; ++epoch) {
    util::Progress bar(progress, fmt::format("epoch {}/{}", epoch + 1, o.epochs),
                       train.NumExamples(), "img");
    train.StartEpoch(epoch);
    data::Batch batch;
    int64_t step = 0, seen = 0, correct = 0;
    double loss_sum = 0.0, lr = 0.0;
    while (train.Next(batch)) {
      lr = CosineLr(o.lr, static_cast<double>(epoch) + static_cast<double>(step) / static_cast<double>(batches),
                    static_cast<double>(o.epochs), o.warmup_epochs);
      optimizer.ZeroGrad();
      const auto logits = net.Forward(batch.images, /*training=*/true);
      const auto loss = F::cross_entropy(
          logits, batch.labels, F::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing));
      loss.backward();
      optimizer.Step(lr);
      const int64_t n = batch.labels.size(0);
      loss_sum += loss.item<double>() * static_cast<double>(n);
      correct += CountTopK(logits.detach(), batch.labels, 1);
      seen += n;
      ++step;
      bar.Update(seen, fmt::format("loss {:.3f} lr {:.4f}", loss_sum / static_cast<double>(seen), lr));
    }
    EpochReport report;
    report.epoch = epoch + 1;
    report.lr = lr;
    report.seconds = bar.ElapsedSeconds();
    report.images_per_second = report.seconds > 0 ? static_cast<double>(seen) / report.seconds : 0;
    report.train_loss = seen ? loss_sum / static_cast<double>(seen) : 0.0;
    report.train_top1 = seen ? 100.0 * static_cast<double>(correct) / static_cast<double>(seen) : 0.0;
    bar.Finish(fmt::format("loss {:.4f}, train top-1 {:.2f}%, {:.0f} img/s", report.train_loss,
                           report.train_top1, report.images_per_second));
    if (val) report.val = Evaluate(net, *val, nullptr, nullptr);
    on_epoch(report);
  }
}

}  // namespace haq::train
