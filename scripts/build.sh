#!/usr/bin/env bash
# Configures and builds haq (Release, Ninja) into build/. Assumes scripts/setup.sh ran.
# Usage: bash scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build --parallel "$(nproc)"
