#!/usr/bin/env bash
# Searched policy vs uniform baseline and random search, over seeds: runs
# `haq search` for each agent and seed into OUT/<agent>-s<seed>, then prints a
# Markdown table (test top-1 after the final fine-tune, mean and spread over seeds).
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
print(f"| policy | cost (x 8-bit) | test top-1 | after final fine-tune |")
print("|---|---|---|---|")
for label, runs, idx in [("uniform 8-bit", d, 0), ("uniform baseline", d, 1),
                         ("DDPG (HAQ)", d, 2), ("random search", r, 2)]:
    c = [x["rows"][idx]["cost_ratio"] for x in runs]
    b = [x["rows"][idx]["test_top1"] for x in runs]
    a = [x["rows"][idx]["test_top1_finetuned"] for x in runs]
    print(f"| {label} | {fmt(c)} | {fmt(b)} | {fmt(a)} |")
print(f"\n{len(seeds)} seeds ({' '.join(seeds)}); mean ± population standard deviation.")
PY
