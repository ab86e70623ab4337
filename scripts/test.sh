#!/usr/bin/env bash
# Sets everything up (Debian packages), builds, and runs the whole test suite, then
# prints the ten slowest test cases.
# Usage (as root on Debian 12): bash scripts/test.sh
# The kernel-dependent tests under every kernel path of this CPU: scripts/kernel_paths.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/setup.sh
bash scripts/build.sh
echo "test.sh: set-up and build took $((SECONDS - start)) s"
rm -rf build/test-results
rc=0
ctest --test-dir build --output-on-failure -j "$(nproc)" || rc=$?
python3 scripts/slowest_tests.py build/test-results 10
echo "test.sh: $((SECONDS - start)) s in all"
exit "$rc"
