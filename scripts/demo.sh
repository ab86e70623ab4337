#!/usr/bin/env bash
# Sets everything up, builds, and runs the main job. Until the search lands (issue
# 7) the main job is the cost report of MobileNet-V2 on the BISMO cloud accelerator,
# with its full 8x8 latency table written in HAQ's .npy layout.
# Usage (as root on Debian 12): bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
mkdir -p runs
build/haq cost --model mobilenet_v2 --hw bismo-cloud --table runs/mobilenet_v2_bismo-cloud.npy
