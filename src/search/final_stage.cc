#include "search/final_stage.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <optional>

#include "hw/policy.h"
#include "search/run_impl.h"
#include "train/checkpoint.h"
#include "train/quantized.h"
#include "train/trainer.h"
#include "util/file.h"
#include "util/progress.h"
#include "util/stats.h"

namespace haq::search {

namespace fs = std::filesystem;

namespace {

// The final fine-tune, the same for every policy: batch 64, cosine, a seed for the
// batch order (the run's, or one of --final-seeds) and a context calibrated with it.
train::QuantizedModel FinalFineTune(const RunWiring::Impl& w, const hw::Policy& policy,
                                    const std::string& label, uint64_t seed,
                                    const std::shared_ptr<quant::QuantContext>& context,
                                    std::FILE* notes) {
  data::BatchLoader loader = data::MakeLoader(w.split.train, kFinetuneBatch, /*shuffle=*/true, seed,
                                              data::FineTuneAugment(w.settings.finetune_augment));
  train::FineTuneOptions fo;
  fo.steps = w.settings.final_finetune_steps;
  fo.lr = w.settings.final_finetune_lr;
  fo.cosine = true;
  fmt::print(notes, "final fine-tune of {} (seed {})\n", label, seed);
  return train::ApplyPolicy(w.model.net, context, policy, &loader, fo, notes);
}

double Top1(const train::QuantizedModel& q, const data::Dataset& d) {
  data::BatchLoader loader = data::MakeLoader(d, EvalBatch(d.height(), d.width()), /*shuffle=*/false, 0);
  return train::Evaluate(*q.net, loader, q.hook.get()).top1;
}

// Final fine-tunes measured on the reward and the test images, each read from the
// run's records when they hold it, else fine-tuned and recorded; one calibrated
// context per seed.
class FinalTuner {
 public:
  FinalTuner(const RunWiring::Impl& w, FineTuneRecords& records, std::FILE* notes)
      : w_(w), records_(records), notes_(notes) {}

  // `model`, when given, gets the fine-tuned model (empty when the record was read).
  FineTuneRecord Tune(const hw::Policy& policy, const std::string& label, uint64_t seed,
                      train::QuantizedModel* model = nullptr) {
    if (std::optional<FineTuneRecord> r = records_.Find(policy, seed)) {
      fmt::print(notes_, "final fine-tune of {} (seed {}): read from {}\n", label, seed, kFineTunesFile);
      return *r;
    }
    const auto t0 = std::chrono::steady_clock::now();
    train::QuantizedModel q = FinalFineTune(w_, policy, label, seed, Context(seed), notes_);
    FineTuneRecord r;
    r.bits = PolicyBits(policy);
    r.seed = seed;
    r.reward_top1 = Top1(q, w_.reward);
    r.test_top1 = Top1(q, w_.test);
    r.seconds = util::SecondsSince(t0);
    records_.Add(r);
    if (model) *model = std::move(q);
    return r;
  }

  // The fine-tuned model itself (fine-tuned again when its record was read: on the
  // same machine it is the model the record measured).
  train::QuantizedModel Model(const hw::Policy& policy, const std::string& label, uint64_t seed) {
    return FinalFineTune(w_, policy, label + ", again for best_model.pt", seed, Context(seed), notes_);
  }

 private:
  const std::shared_ptr<quant::QuantContext>& Context(uint64_t seed) {
    if (seed == w_.settings.seed) return w_.context;
    if (seed != context_seed_ || !context_) {
      context_ = w_.MakeContext(seed);
      context_seed_ = seed;
    }
    return context_;
  }
  const RunWiring::Impl& w_;
  FineTuneRecords& records_;
  std::FILE* notes_;
  std::shared_ptr<quant::QuantContext> context_;
  uint64_t context_seed_ = 0;
};

}  // namespace

std::vector<std::vector<FineTuneRecord>> MeasureFinalFineTunes(
    RunWiring& wiring, const std::vector<std::pair<std::string, hw::Policy>>& policies,
    const std::vector<uint64_t>& seeds, FineTuneRecords& records, std::FILE* notes) {
  FinalTuner tuner(wiring.impl(), records, notes);
  std::vector<std::vector<FineTuneRecord>> out(policies.size());
  for (const uint64_t seed : seeds) {
    for (size_t i = 0; i < policies.size(); ++i) {
      out[i].push_back(tuner.Tune(policies[i].second, policies[i].first, seed));
    }
  }
  return out;
}

RunSummary FinalStage(RunWiring& wiring, const SearchResult& result, const fs::path& dir,
                      std::FILE* notes) {
  RunWiring::Impl& w = wiring.impl();
  const RunSettings& s = w.settings;
  const QuantEnv& env = *w.env;
  const EpisodeRecord& search_best = result.log.at(static_cast<size_t>(result.best));
  RunSummary out;
  if (s.restarts > 1) out.restarts = RestartBests(result.log, s.episodes_per_restart(), s.seed);
  FineTuneRecords records(dir / kFineTunesFile, FineTuneKey(s));
  FinalTuner tuner(w, records, notes);

  // The policy delivered: the best episode or, with --final-candidates K, whichever
  // of the K best distinct policies is best on the reward images after the final
  // fine-tune (the reward is a short fine-tune's proxy for it).
  const bool finetuned = s.final_finetune_steps > 0;
  const std::vector<int64_t> candidates = TopDistinctEpisodes(result.log, s.final_candidates);
  size_t chosen = 0;
  train::QuantizedModel chosen_model;
  std::optional<FineTuneRecord> chosen_record;
  if (candidates.size() > 1 && finetuned) {
    for (size_t k = 0; k < candidates.size(); ++k) {
      const EpisodeRecord& e = result.log.at(static_cast<size_t>(candidates[k]));
      train::QuantizedModel q;
      const FineTuneRecord r = tuner.Tune(
          e.policy,
          fmt::format("candidate {}/{} (episode {})", k + 1, candidates.size(), e.episode + 1),
          s.seed, &q);
      out.final_candidates.push_back({e.episode, e.accuracy, r.reward_top1});
      if (!chosen_record || r.reward_top1 > chosen_record->reward_top1) {  // ties keep the higher reward
        chosen_record = r;
        chosen = k;
        chosen_model = std::move(q);
      }
    }
  }
  const EpisodeRecord& best = result.log.at(static_cast<size_t>(candidates[chosen]));

  // Uniform 8-bit, the uniform baseline at this budget and the searched policy, the
  // latter two after the same final fine-tune.
  const int uniform_bits = wiring.UniformBitsWithinBudgets();
  const std::pair<std::string, hw::Policy> compared[] = {
      {"uniform 8-bit", env.Uniform(8)},
      {fmt::format("uniform {}-bit (largest within budget)", uniform_bits),
       env.EnforceBudget(env.Uniform(uniform_bits))},
      {out.final_candidates.empty()
           ? fmt::format("searched (episode {})", best.episode + 1)
           : fmt::format("searched (episode {}, {} of {})", best.episode + 1, chosen + 1,
                         candidates.size()),
       best.policy}};
  for (const auto& [label, policy] : compared) {
    FinalRow row;
    row.label = label;
    row.policy = policy;
    out.rows.push_back(std::move(row));
  }
  // With --final-seeds K the fine-tuned rows are fine-tuned K times, with the seeds
  // seed..seed+K-1; the first is the run's own and gives best_model.pt.
  for (int64_t k = 0; k < (finetuned ? s.final_seeds : 0); ++k) {
    out.final_seeds.push_back(s.seed + static_cast<uint64_t>(k));
  }
  train::QuantizedModel best_model;
  for (size_t i = 0; i < out.rows.size(); ++i) {
    FinalRow& f = out.rows[i];
    f.cost = env.Cost(f.policy);
    f.test_top1 = Top1(train::ApplyPolicy(w.model.net, w.context, f.policy, nullptr, {}), w.test);
    if (i > 0 && finetuned) {
      const bool searched = i + 1 == out.rows.size();
      if (searched && chosen_record) {
        f.test_top1_finetuned_seeds.push_back(chosen_record->test_top1);
        best_model = std::move(chosen_model);
      } else {
        f.test_top1_finetuned_seeds.push_back(
            tuner.Tune(f.policy, f.label, s.seed, searched ? &best_model : nullptr).test_top1);
      }
    }
  }
  for (size_t k = 1; k < out.final_seeds.size(); ++k) {
    for (size_t i = 1; i < out.rows.size(); ++i) {
      out.rows[i].test_top1_finetuned_seeds.push_back(
          tuner.Tune(out.rows[i].policy, out.rows[i].label, out.final_seeds[k]).test_top1);
    }
  }
  const std::vector<const QuantEnv*> envs = wiring.envs();
  for (FinalRow& f : out.rows) {
    for (size_t k = 1; k < envs.size(); ++k) {
      const QuantEnv& e = *envs[k];
      const double cost = e.Cost(f.policy);
      f.other_budgets.push_back({e.budget_spec().text, MetricUnit(e.budget_spec().metric),
                                 e.InUnit(e.budget()), e.InUnit(cost), cost / e.uniform8_cost()});
    }
    f.cost_in_unit = env.InUnit(f.cost);
    f.cost_ratio = f.cost / env.uniform8_cost();
    f.test_top1_finetuned = f.test_top1_finetuned_seeds.empty()
                                ? f.test_top1
                                : util::Mean(f.test_top1_finetuned_seeds);
  }
  if (!best_model.hook) {
    best_model = finetuned ? tuner.Model(best.policy, out.rows[2].label, s.seed)
                           : train::ApplyPolicy(w.model.net, w.context, best.policy, nullptr, {});
  }
  // Searched minus the uniform baseline, seed by seed: both had the same batch order
  // and calibration, so the pairs share that noise.
  if (finetuned) {
    PairedDifference d;
    d.per_seed = util::Differences(out.rows[2].test_top1_finetuned_seeds,
                                   out.rows[1].test_top1_finetuned_seeds);
    d.mean = util::Mean(d.per_seed);
    d.std = util::PopulationStd(d.per_seed);
    out.searched_minus_uniform = std::move(d);
  }

  const Budget& budget = env.budget_spec();
  out.metric = MetricName(budget.metric);
  out.unit = MetricUnit(budget.metric);
  out.budget = env.budget();
  out.budget_in_unit = env.InUnit(env.budget());
  out.uniform8_cost = env.uniform8_cost();
  out.full_precision_reward_accuracy = wiring.FullPrecisionAccuracy();
  out.episodes = static_cast<int64_t>(result.log.size());
  out.best_episode = search_best.episode;
  out.best_reward = search_best.reward;
  out.best_reward_accuracy = search_best.accuracy;
  out.final_episode = best.episode;
  out.test_images = w.test.size();
  for (const auto& r : result.log) out.search_seconds += r.seconds;

  train::Checkpoint c = train::QuantizedCheckpoint(
      best_model, w.model.checkpoint ? w.model.checkpoint->model : s.model);
  c.meta["normalization"] = {{"mean", w.model.net.input_spec().mean},
                             {"std", w.model.net.input_spec().std}};
  c.meta["search"] = {{"run", dir.string()}, {"episode", best.episode}};
  train::SaveCheckpoint(c, dir / "best_model.pt");
  // The delivered policy, the one in best_model.pt. best_policy.json stays the
  // search's best by reward, as the episodes wrote it; the two differ only when
  // --final-candidates chose another.
  util::WriteFileAtomic(dir / "final_policy.json", hw::PolicyToJson(best.policy, s.model, s.hardware));
  util::WriteFileAtomic(dir / "summary.json", out.ToJson(s.model, s.hardware).dump(2) + "\n");
  return out;
}

}  // namespace haq::search
