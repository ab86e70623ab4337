#!/usr/bin/env bash
# Reproduces the pretrained Fashion-MNIST checkpoints shipped in models/ (the
# embedded default). Each run records its full recipe, per-epoch history and final
# test accuracy inside the checkpoint; `haq eval --model NAME` re-measures it.
# Takes about 30 + 45 minutes on 2 cores. Usage: bash scripts/train_shipped.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
mkdir -p models
build/haq train --model resnet20_fmnist --epochs 30 --lr 0.1 --batch 128 --wd 5e-4 \
  --warmup 1 --pad-crop 2 --hflip true --seed 0 --val 5000 \
  --out models/resnet20_fmnist.pt --resume
build/haq train --model mobilenet_v2_fmnist --epochs 30 --lr 0.1 --batch 128 --wd 4e-5 \
  --warmup 1 --pad-crop 2 --hflip true --seed 0 --val 5000 \
  --out models/mobilenet_v2_fmnist.pt --resume
