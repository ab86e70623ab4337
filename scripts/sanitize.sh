#!/usr/bin/env bash
# Builds every project target with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang++, HAQ_SANITIZE=ON, -O1 -g) into build-san/ and runs the whole ctest suite
# under them. Any sanitizer report in project code fails the test that triggered it.
# LibTorch and the other Debian libraries are not instrumented; the suppressions in
# tools/sanitizers/ name only their frames (see tools/sanitizers/README.md).
# Usage: bash scripts/sanitize.sh [extra ctest arguments, e.g. -R haq_tests]
# Environment: JOBS (default: nproc), HAQ_SAN_BUILD_DIR (default: build-san).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
build="${HAQ_SAN_BUILD_DIR:-build-san}"
jobs="${JOBS:-$(nproc)}"
start=$(date +%s)

# clang warns differently from GCC; warnings are the main build's business.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="${CXX:-g++}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DHAQ_SANITIZE=ON -DHAQ_WERROR=OFF -DHAQ_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --parallel "$jobs"
built=$(date +%s)

source "$root/tools/sanitizers/env.sh"
status=0
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@" || status=$?
end=$(date +%s)
echo "sanitize: build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s;" \
  "ctest exit status $status"
exit $status
