#!/usr/bin/env bash
# The episode benchmark (bench/README.md): builds and runs bench/episode_run.
#   bash bench/episode_benchmark.sh [--episodes 18] [--warmup 9] [--pretrain-images 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
exec build/bench/episode_run --work runs/episode_bench --episodes 18 --warmup 9 \
  --pretrain-images 20000 "$@"
