#!/usr/bin/env bash
# The largest latency cut at a bounded top-1 loss: runs `haq search` for every
# AGENT:BUDGET pair and seed into OUT/<agent>-<budget>-s<seed>, then prints a
# Markdown table per pair: cost ratio, speed-up over uniform 8-bit, test top-1 after
# the final fine-tune and its loss against uniform 8-bit (same seed), and how many
# seeds stay within LOSS points (default 0.5). DDPG and random runs also report the
# uniform baseline at their budget (the largest uniform width that fits).
#
#   bash bench/latency_sweep.sh OUT "SEEDS" "AGENT:BUDGET ..." [haq search flags...]
#   EPISODES=150 bash bench/latency_sweep.sh runs/lat "0 1 2" \
#       "ddpg:0.64 ddpg:0.60 uniform:0.71" --model mobilenet_v2_fmnist --hw bismo-edge \
#       --budget-state --warmup 20 --finetune-steps 16 --finetune-lr 0.005 \
#       --reward-images 1000 --final-finetune-steps 600
#
# BUDGET is the latency fraction of uniform 8-bit. Uniform runs take one episode
# (every episode of the uniform agent is the same policy), the others EPISODES.
# Every run is resumable: re-running the script continues unfinished runs.
set -euo pipefail
HAQ=${HAQ:-build/haq}
EPISODES=${EPISODES:-150}
LOSS=${LOSS:-0.5}
OUT=$1; SEEDS=$2; PAIRS=$3; shift 3
mkdir -p "$OUT"
source "$(dirname "$0")/search_run.sh"
for pair in $PAIRS; do
  agent=${pair%%:*}; budget=${pair#*:}
  episodes=$EPISODES
  if [ "$agent" = uniform ]; then episodes=1; fi
  for seed in $SEEDS; do
    search_run "$OUT/$agent-$budget-s$seed" --agent "$agent" --seed "$seed" \
      --budget "latency=$budget" --episodes "$episodes" "$@"
  done
done
python3 - "$OUT" "$LOSS" "$PAIRS" $SEEDS <<'PY'
import json, sys, statistics as st
out, loss_max, pairs, seeds = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(), sys.argv[4:]
def fmt(v, digits=2):
    return f"{st.mean(v):.{digits}f} ± {st.pstdev(v):.{digits}f}" if len(v) > 1 else f"{v[0]:.{digits}f}"
print(f"| policy | latency (x 8-bit) | speed-up | test top-1 after final fine-tune "
      f"| loss vs 8-bit | seeds within {loss_max} |")
print("|---|---|---|---|---|---|")
seen_uniform = set()
for pair in pairs:
    agent, budget = pair.split(":")
    runs = [json.load(open(f"{out}/{agent}-{budget}-s{s}/summary.json")) for s in seeds]
    eight = [r["rows"][0]["test_top1_finetuned"] for r in runs]
    # Row 1 is the uniform baseline at the budget, row 2 the searched policy (for the
    # uniform agent the two are the same policy).
    for idx in ([1] if agent == "uniform" else [2, 1]):
        label = runs[0]["rows"][idx]["label"].split(" (")[0]
        if idx == 1:
            if label in seen_uniform:
                continue
            seen_uniform.add(label)
        else:
            label = f"{agent} at latency={budget}"
        ratio = [r["rows"][idx]["cost_ratio"] for r in runs]
        top1 = [r["rows"][idx]["test_top1_finetuned"] for r in runs]
        loss = [e - t for e, t in zip(eight, top1)]
        within = sum(l <= loss_max for l in loss)
        print(f"| {label} | {fmt(ratio, 3)} | {fmt([1 / x for x in ratio])}x | {fmt(top1)} "
              f"| {fmt(loss)} ({', '.join(f'{l:.2f}' for l in loss)}) | {within}/{len(seeds)} |")
print(f"\n{len(seeds)} seeds ({' '.join(seeds)}); mean ± population standard deviation; "
      "the loss is per seed against that seed's uniform 8-bit after the same fine-tune.")
PY
