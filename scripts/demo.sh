#!/usr/bin/env bash
# Sets everything up, builds, and runs the main job: a HAQ search (DDPG) for the
# shipped Fashion-MNIST MobileNet-V2-style model on the BISMO edge accelerator,
# under the latency of the uniform 4-bit policy, followed by the comparison with
# uniform 8-bit and uniform 4-bit after the same final fine-tune. About 10 minutes
# of search on a 2-core machine. Interrupted? Run it again: it resumes.
# Usage (as root on Debian 12): bash scripts/demo.sh [extra haq search flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
mkdir -p runs
if [ -f runs/demo/settings.json ]; then
  exec build/haq search --resume runs/demo "$@"
fi
exec build/haq search --model mobilenet_v2_fmnist --hw bismo-edge --budget latency=4bit \
  --episodes 250 --warmup 20 --finetune-steps 16 --finetune-lr 0.005 --reward-images 1000 \
  --final-finetune-steps 600 --seed 0 --out runs/demo "$@"
