#!/usr/bin/env bash
# A 224-px MobileNet-V2 episode on this machine, and from it an estimate of a
# 600-episode search at HAQ's ImageNet-100 settings (issue 23).
#
#   bash bench/episode224.sh WORK
#
# 1. The fine-tune step (batch 32, channels-last, 8-bit fake quantization) at 1 and
#    2 intra-op threads: build/bench/train_bench's BM_Step224.
# 2. Episodes of `haq search` on a folder of 10,000 photo-sized JPEGs (10 classes;
#    bench/image_loader.sh makes WORK/folder10000 if it is missing), through the
#    image cache: the zoo's mobilenet_v2 (fresh weights: the time does not depend on
#    them), HAQ's ImageNet-100 episode scaled down: 10 fine-tune steps of haq's
#    batch 64 (640 images; HAQ: one epoch of 20,000), 1,000 reward images (HAQ:
#    10,000), calibration on one batch of 256; 3 random-agent episodes, the time
#    split read from log.jsonl.
# 3. The estimate: seconds per fine-tune image and per reward image, scaled to
#    20,000 and 10,000 images, times 600 episodes; for a 32-core machine, Amdahl's
#    law with the parallel fraction measured from the 1- and 2-thread steps (an
#    optimistic bound: memory bandwidth and the depthwise convolutions scale worse).
set -euo pipefail
WORK=$1
HAQ=${HAQ:-build/haq}
BENCH=${BENCH:-build/bench/train_bench}
mkdir -p "$WORK"
[ -d "$WORK/folder10000/train" ] || bash "$(dirname "$0")/image_loader.sh" "$WORK" 10000
"$BENCH" --benchmark_filter=BM_Step224 --benchmark_format=json > "$WORK/step224.json"
# The search once (delete WORK/run224 to measure it again).
[ -f "$WORK/run224/summary.json" ] || "$HAQ" search --model mobilenet_v2 --hw bismo-edge --budget latency=0.6 --agent random --episodes 3 \
  --finetune-steps 10 --tune-images 640 --reward-images 1000 --calib-batches 1 --final-finetune-steps 0 \
  --dataset imagefolder --data-dir "$WORK/folder10000" --cache "$WORK/cache224" --out "$WORK/run224" \
  > "$WORK/run224.out" 2> "$WORK/run224.err" || { rm -rf "$WORK/run224"; exit 1; }
python3 - "$WORK" <<'PY'
import json, sys, statistics as st
work = sys.argv[1]
steps = {b["name"]: b["real_time"] / 1000.0 for b in json.load(open(f"{work}/step224.json"))["benchmarks"]}
t1 = next(v for k, v in steps.items() if "/1/" in k)
t2 = next(v for k, v in steps.items() if "/2/" in k)
print(f"fine-tune step, batch 32: {t1:.2f} s at 1 thread, {t2:.2f} s at 2 threads (x{t1 / t2:.2f})")
episodes = [json.loads(l) for l in open(f"{work}/run224/log.jsonl")]
ft = st.median(e["timing"]["finetune"] for e in episodes)
ev = st.median(e["timing"]["evaluate"] for e in episodes)
total = st.median(e["seconds"] for e in episodes)
print(f"episode (median of {len(episodes)}): {total:.1f} s: fine-tune {ft:.1f} s (640 images), "
      f"reward {ev:.1f} s (1,000 images), other {total - ft - ev:.1f} s")
haq_episode = ft / 640 * 20000 + ev / 1000 * 10000
print(f"at HAQ's ImageNet-100 settings (20,000 fine-tune, 10,000 reward images): {haq_episode / 60:.1f} min "
      f"an episode, {600 * haq_episode / 86400:.1f} days for 600 episodes on this machine")
p = 2 * (1 - t2 / t1)  # Amdahl: t2 / t1 = (1 - p) + p / 2
for n in (32,):
    speed = 1 / ((1 - p) + p / n) / (1 / ((1 - p) + p / 2))
    print(f"{n} cores, one process (Amdahl, parallel fraction {p:.3f}): x{speed:.1f} over 2 cores, "
          f"{600 * haq_episode / speed / 86400:.2f} days; 16 two-core workers (issue 24): "
          f"{600 * haq_episode / 16 / 86400:.2f} days at best")
PY
