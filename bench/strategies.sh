#!/usr/bin/env bash
# Every strategy at the same budgets (issue 22's comparison): runs `haq search` for
# each HW:BUDGET and agent into OUT/<agent>-<hw>-<budget>, all with the same common
# flags (the same final fine-tune, --final-seeds and --final-candidates), then
# prints a Markdown table per budget: each strategy's search time (its preparation,
# the ILP's sensitivity pass or the greedy probes, plus its episodes; the shared final
# stage excluded), cost, reward top-1, test top-1 before and after the final
# fine-tune, and the searched-minus-uniform difference paired by fine-tune seed. The
# uniform row is the uniform baseline every run's final stage fine-tunes with the
# same seeds.
#
#   bash bench/strategies.sh OUT "HW:BUDGET ..." "AGENT ..." [haq search flags...]
#   bash bench/strategies.sh runs/strat \
#       "bismo-edge:latency=4bit bismo-edge:latency=3bit bitfusion:energy=3bit" \
#       "ilp greedy ddpg random" --finetune-steps 16 --finetune-lr 0.005 \
#       --reward-images 1000 --final-finetune-steps 600 --final-seeds 3 --final-candidates 4
#
# Per-agent flags: ILP_FLAGS (default --episodes 16), DDPG_FLAGS (--episodes 150
# --warmup 20 --budget-state), RANDOM_FLAGS (--episodes 150), GREEDY_FLAGS (none).
# Runs go one after another; every run is resumable: re-running the script
# continues unfinished runs.
set -euo pipefail
HAQ=${HAQ:-build/haq}
ILP_FLAGS=${ILP_FLAGS:---episodes 16}
DDPG_FLAGS=${DDPG_FLAGS:---episodes 150 --warmup 20 --budget-state}
RANDOM_FLAGS=${RANDOM_FLAGS:---episodes 150}
GREEDY_FLAGS=${GREEDY_FLAGS:-}
OUT=$1; BUDGETS=$2; AGENTS=$3; shift 3
mkdir -p "$OUT"
source "$(dirname "$0")/search_run.sh"
for entry in $BUDGETS; do
  hw=${entry%%:*}; budget=${entry#*:}
  for agent in $AGENTS; do
    case $agent in
      ilp) flags=$ILP_FLAGS ;; ddpg) flags=$DDPG_FLAGS ;;
      random) flags=$RANDOM_FLAGS ;; *) flags=$GREEDY_FLAGS ;;
    esac
    # shellcheck disable=SC2086
    search_run "$OUT/$agent-$hw-$budget" --agent "$agent" --hw "$hw" --budget "$budget" $flags "$@"
  done
done
python3 - "$OUT" "$BUDGETS" "$AGENTS" <<'PY'
import json, os, sys, statistics as st
out, budgets, agents = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def ms(v):
    return f"{st.mean(v):.2f} ± {st.pstdev(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}"
def prep_seconds(d):
    s = 0.0
    if os.path.exists(f"{d}/sensitivity.json"):
        s += json.load(open(f"{d}/sensitivity.json"))["seconds"]
    if os.path.exists(f"{d}/greedy_probes.jsonl"):
        s += sum(json.loads(l)["seconds"] for l in open(f"{d}/greedy_probes.jsonl"))
    return s
for entry in budgets:
    hw, budget = entry.split(":", 1)
    print(f"\n### {budget} on {hw}\n")
    print("| strategy | search time (s) | cost (x 8-bit) | reward top-1 | test top-1 | after final "
          "fine-tune | minus uniform, per seed |")
    print("|---|---|---|---|---|---|---|")
    uniform = None
    for agent in agents:
        d = f"{out}/{agent}-{hw}-{budget}"
        s = json.load(open(f"{d}/summary.json"))
        if uniform is None:
            u = s["rows"][1]
            uniform = (u["label"], u)
        r = s["rows"][2]
        seconds = prep_seconds(d) + s["search_seconds"]
        diff = s.get("searched_minus_uniform")
        per = " ".join(f"{x:+.2f}" for x in diff["per_seed"]) if diff else ""
        paired = f"{diff['mean']:+.2f} ± {diff['std']:.2f} ({per})" if diff else ""
        after = ms(r["test_top1_finetuned_seeds"]) if r.get("test_top1_finetuned_seeds") else ""
        print(f"| {agent} (episode {s.get('final_episode', s['best_episode']) + 1} of {s['episodes']}) | {seconds:.0f} | "
              f"{r['cost_ratio']:.3f} | {s['best_reward_accuracy']:.2f} | {r['test_top1']:.2f} | "
              f"{after} | {paired} |")
    label, u = uniform
    after = ms(u["test_top1_finetuned_seeds"]) if u.get("test_top1_finetuned_seeds") else ""
    print(f"| {label} | 0 | {u['cost_ratio']:.3f} | | {u['test_top1']:.2f} | {after} | |")
PY
