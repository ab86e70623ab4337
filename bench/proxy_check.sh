#!/usr/bin/env bash
# Does a search's reward predict the accuracy after the long final fine-tune?
#
#   bash bench/proxy_check.sh RUN N [haq eval flags...]
#   bash bench/proxy_check.sh runs/ft64/ddpg-s0 8
#
# Takes N distinct policies from RUN/log.jsonl, spread evenly over the rank order of
# the reward (the best episode always among them), and the run's uniform baseline
# from RUN/summary.json. Each is evaluated with `haq eval` on the test set after a
# fine-tune with the final fine-tune's settings (600 steps, lr 0.005, cosine, batch
# 64, the run's seed; flags given here override them). FT_SEEDS="0 1 2" repeats
# each evaluation with other seeds of calibration sampling and fine-tuning order
# (--quant-seed), to show how much the fine-tune alone moves a policy's accuracy.
# Prints a Markdown table (mean ± population standard deviation over the seeds),
# the searched policies' accuracy minus the uniform baseline's, seed by seed, and
# the Spearman rank correlation between the reward and the mean accuracy after the
# fine-tune. Results are kept in RUN/proxy/ (or $PROXY_DIR), so an interrupted check
# resumes. N=1 checks the best episode alone.
set -euo pipefail
HAQ=${HAQ:-build/haq}
RUN=$1; N=$2; shift 2
export PROXY_DIR=${PROXY_DIR:-$RUN/proxy}
mkdir -p "$PROXY_DIR"

# The policies to check, as $PROXY_DIR/<label>.json (object form with layer names).
python3 - "$RUN" "$N" <<'PY'
import json, os, sys
run, n = sys.argv[1], int(sys.argv[2])
summary = json.load(open(f"{run}/summary.json"))
names = [l["name"] for l in summary["rows"][0]["policy"]["layers"]]
log = [json.loads(line) for line in open(f"{run}/log.jsonl")]
seen, distinct = set(), []
for e in sorted(log, key=lambda e: (-e["reward"], e["episode"])):
    key = json.dumps(e["policy"])
    if key not in seen:
        seen.add(key)
        distinct.append(e)
n = min(n, len(distinct))
picks = [distinct[round(i * (len(distinct) - 1) / max(1, n - 1))] for i in range(n)]
def write(label, layers, reward_accuracy):
    policy = {"layers": [{"name": name, "w_bits": w, "a_bits": a}
                         for name, (w, a) in zip(names, layers)]}
    json.dump({"policy": policy, "reward_accuracy": reward_accuracy},
              open(f"{os.environ['PROXY_DIR']}/{label}.meta.json", "w"))
    json.dump(policy, open(f"{os.environ['PROXY_DIR']}/{label}.json", "w"))
for e in picks:
    write(f"episode-{e['episode'] + 1:04d}", e["policy"], e["accuracy"])
uniform = summary["rows"][1]["policy"]["layers"]
write("uniform", [(l["w_bits"], l["a_bits"]) for l in uniform], None)
PY

read_setting() {
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$RUN/settings.json" "$1"
}
model=$(read_setting model)
FT_SEEDS=${FT_SEEDS:-$(read_setting seed)}
for seed in $FT_SEEDS; do
  for meta in "$PROXY_DIR"/*.meta.json; do
    policy=${meta%.meta.json}.json
    out=${meta%.meta.json}.s$seed.eval.txt
    [ -s "$out" ] && continue
    echo "evaluating $(basename "$policy" .json), seed $seed" >&2
    "$HAQ" eval --model "$model" --policy "$policy" --finetune-steps 600 --finetune-lr 0.005 \
      --finetune-cosine --finetune-batch 64 --quant-seed "$seed" "$@" > "$out.tmp"
    mv "$out.tmp" "$out"
  done
done

python3 - "$RUN" $FT_SEEDS <<'PY'
import glob, json, os, re, statistics as st, sys
run, seeds = sys.argv[1], sys.argv[2:]
def top1(label, seed):
    text = open(f"{os.environ['PROXY_DIR']}/{label}.s{seed}.eval.txt").read()
    return float(re.search(r"top-1 ([0-9.]+)%", text).group(1))
def fmt(v):
    return f"{st.mean(v):.2f} ± {st.pstdev(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}"
rows = []
for meta in sorted(glob.glob(f"{os.environ['PROXY_DIR']}/*.meta.json")):
    label = os.path.basename(meta)[: -len(".meta.json")]
    rows.append((label, json.load(open(meta))["reward_accuracy"], [top1(label, s) for s in seeds]))
uniform = next(r[2] for r in rows if r[0] == "uniform")
print(f"| policy | reward-set top-1 (search) | test top-1 after the fine-tune | minus uniform |")
print("|---|---|---|---|")
for label, reward, t in sorted(rows, key=lambda r: -(r[1] if r[1] is not None else 1e9)):
    diff = "-" if reward is None else fmt([a - b for a, b in zip(t, uniform)])
    print(f"| {label} | {'-' if reward is None else f'{reward:.2f}'} | {fmt(t)} | {diff} |")
print(f"\nfine-tune seeds: {' '.join(seeds)}; mean ± population standard deviation")
searched = [(r, st.mean(t)) for _, r, t in rows if r is not None]
def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    out = [0.0] * len(v)
    i = 0
    while i < len(v):  # ties share their mean rank
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out
if len(searched) > 2:
    a, b = ranks([r for r, _ in searched]), ranks([t for _, t in searched])
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    var = (sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b)) ** 0.5
    print(f"\nSpearman rank correlation, reward vs test top-1 after the fine-tune, over "
          f"{len(searched)} searched policies: {cov / var:.2f}")
PY
