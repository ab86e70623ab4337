#!/usr/bin/env bash
# Searched policy vs uniform baseline and random search, over seeds: runs
# `haq search` for each agent and seed into OUT/<agent>-s<seed>, then prints a
# Markdown table (test top-1 after the final fine-tune, mean and spread over seeds).
# Pass --final-seeds K to fine-tune each run's final comparison under K seeds: the
# table then shows each run's mean and the paired searched-minus-uniform difference.
#
#   bash bench/search_compare.sh OUT "SEEDS" [haq search flags...]
#   bash bench/search_compare.sh runs/cmp "0 1 2" --hw bismo-edge --budget latency=4bit \
#        --episodes 250 --finetune-steps 16 --finetune-lr 0.005 --reward-images 1000
#
# Every run is resumable: re-running the script continues unfinished runs.
set -euo pipefail
HAQ=${HAQ:-build/haq}
OUT=$1; SEEDS=$2; shift 2
mkdir -p "$OUT"
source "$(dirname "$0")/search_run.sh"
for agent in ddpg random; do
  for seed in $SEEDS; do
    search_run "$OUT/$agent-s$seed" --agent "$agent" --seed "$seed" "$@"
  done
done
python3 - "$OUT" $SEEDS <<'PY'
import json, sys, statistics as st
out, seeds = sys.argv[1], sys.argv[2:]
def rows(agent):
    return [json.load(open(f"{out}/{agent}-s{s}/summary.json")) for s in seeds]
def fmt(v):
    return f"{st.mean(v):.2f} ± {st.pstdev(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}"
d, r = rows("ddpg"), rows("random")
def paired(runs, idx):  # searched minus uniform, each run's mean over its fine-tune seeds
    if idx != 2 or any(x.get("searched_minus_uniform") is None for x in runs):
        return ""
    return fmt([x["searched_minus_uniform"]["mean"] for x in runs])
print(f"| policy | cost (x 8-bit) | test top-1 | after final fine-tune | minus uniform baseline |")
print("|---|---|---|---|---|")
for label, runs, idx in [("uniform 8-bit", d, 0), ("uniform baseline", d, 1),
                         ("DDPG (HAQ)", d, 2), ("random search", r, 2)]:
    c = [x["rows"][idx]["cost_ratio"] for x in runs]
    b = [x["rows"][idx]["test_top1"] for x in runs]
    a = [x["rows"][idx]["test_top1_finetuned"] for x in runs]
    print(f"| {label} | {fmt(c)} | {fmt(b)} | {fmt(a)} | {paired(runs, idx)} |")
ft = sorted({len(x.get("final_seeds", [])) for x in d + r})
print(f"\n{len(seeds)} search seeds ({' '.join(seeds)}); mean ± population standard deviation "
      f"over them. Fine-tune seeds per run (haq search --final-seeds): {ft}; a run's 'after "
      f"final fine-tune' is its mean over them, and 'minus uniform baseline' its mean paired "
      f"difference (each pair fine-tuned with the same seed).")
PY
