#!/usr/bin/env bash
# Sets everything up (Debian packages), builds, and runs the whole test suite.
# Usage (as root on Debian 12): bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
