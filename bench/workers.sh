#!/usr/bin/env bash
# Rounds evaluated by local workers against one process, side by side: the same
# random search (its policies do not depend on --parallel) run REPS times each way,
# alternately, and the search seconds (summary.json) and median time per policy
# (fine-tune + reward evaluation, log.jsonl) of each run.
#
#   bash bench/workers.sh OUT [REPS=3]
# Ways: "one process" (--parallel 1, every core), "2 workers x 1 thread"
# (--parallel 4 --workers 2 --threads-per-worker 1), "1 worker x 2 threads".
set -euo pipefail
HAQ=${HAQ:-build/haq}
OUT=$1; REPS=${2:-3}
mkdir -p "$OUT"
COMMON="--model mobilenet_v2_fmnist --hw bismo-edge --budget latency=4bit --agent random --episodes 16
  --finetune-steps 16 --finetune-lr 0.005 --reward-images 1000 --final-finetune-steps 0
  --test-images 1000 --seed 0"
declare -A WAYS=(
  [one-process]="--parallel 1"
  [2-workers-x1]="--parallel 4 --workers 2 --threads-per-worker 1"
  [1-worker-x2]="--parallel 4 --workers 1 --threads-per-worker 2"
)
for rep in $(seq 1 "$REPS"); do
  for way in one-process 2-workers-x1 1-worker-x2; do
    rm -rf "$OUT/$way-$rep"
    # shellcheck disable=SC2086
    "$HAQ" search $COMMON ${WAYS[$way]} --out "$OUT/$way-$rep" > "$OUT/$way-$rep.out" 2>&1
  done
done
/usr/bin/python3 - "$OUT" "$REPS" <<'PY'
import json, statistics as st, sys
out, reps = sys.argv[1], int(sys.argv[2])
print("| way | search seconds, per run | median | median seconds per policy |")
print("|---|---|---|---|")
base = None
for way in ["one-process", "2-workers-x1", "1-worker-x2"]:
    secs, per = [], []
    for r in range(1, reps + 1):
        d = f"{out}/{way}-{r}"
        secs.append(json.load(open(f"{d}/summary.json"))["search_seconds"])
        log = [json.loads(l) for l in open(f"{d}/log.jsonl")]
        per.append(st.median(x["timing"]["finetune"] + x["timing"]["evaluate"] for x in log))
    m = st.median(secs)
    base = base or m
    print(f"| {way} | {', '.join(f'{s:.1f}' for s in secs)} | {m:.1f} ({base / m:.2f}x) | {st.median(per):.2f} |")
PY
