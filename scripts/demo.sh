#!/usr/bin/env bash
# Sets everything up, builds, and runs the main job: an ILP search (per-layer
# curvature sensitivity, exact integer program over the hardware's cost table) for
# the shipped Fashion-MNIST MobileNet-V2-style model on the BISMO edge accelerator,
# under the latency of the uniform 4-bit policy. Its 16 best policies are each
# fine-tuned for 16 steps and measured on 1,000 held-out training images; the best
# 4 get the 600-step final fine-tune, and the one delivered is compared with uniform
# 4-bit at the same latency over 3 paired fine-tune seeds. About 10 minutes after the
# build on an idle 2-core machine. Interrupted? Run it again: it resumes.
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
  --agent ilp --episodes 16 --finetune-steps 16 --finetune-lr 0.005 --reward-images 1000 \
  --final-finetune-steps 600 --final-candidates 4 --final-seeds 3 --seed 0 --out runs/demo "$@"
