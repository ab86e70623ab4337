#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, HAQ_FUZZ=ON, ASan + UBSan) into build-fuzz/ and
# fuzzes each for SECONDS_PER_TARGET (default 60). New corpus entries go to a scratch
# directory (never the repository); crashing inputs to fuzz/crashes/<target>/
# (gitignored). After a crash a target is restarted until its time is used up.
# Prints a table: target, executions, seconds, crashes, new corpus entries.
#
# Usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#        bash scripts/fuzz.sh --smoke [--build-dir DIR] [TARGET...]
#   --smoke      runs every seed and regression input in fuzz/corpus/<target>/ once
#                (libFuzzer -runs=0, no mutation); what ctest's fuzz_smoke_* tests run
#                (they pass --build-dir, which skips building).
#   --build-dir  a build directory (default build-fuzz); one already configured with
#                HAQ_FUZZ=ON (e.g. build-san with -DHAQ_FUZZ=ON) is used as it is.
#   --no-build   use the existing binaries.
# Targets: spec policy layers onnx idx cifar packed (default: all).
# Environment: HAQ_FUZZ_BUILD_DIR (build-fuzz), HAQ_FUZZ_WORK (scratch corpora,
#   default ${TMPDIR:-/tmp}/haq-fuzz; one fuzz.sh at a time each), HAQ_FUZZ_PARALLEL (targets fuzzed at once,
#   default 1), JOBS (build parallelism, default nproc), CXX (default g++).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
all_targets=(spec policy layers onnx idx cifar packed)

declare -A max_len=([spec]=8192 [policy]=4096 [layers]=16384 [onnx]=65536 [idx]=8192
                    [cifar]=12300 [packed]=8192)

smoke=0
no_build=0
build="${HAQ_FUZZ_BUILD_DIR:-$root/build-fuzz}"
explicit_build=0
seconds=60
targets=()
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build="$2"; explicit_build=1; shift ;;
    --no-build) no_build=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    [0-9]*) seconds="$1" ;;
    *) [[ -n "${max_len[$1]:-}" ]] || { echo "fuzz.sh: unknown target '$1' (${all_targets[*]})" >&2; exit 2; }
       targets+=("$1") ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${all_targets[@]}")

source "$root/tools/sanitizers/env.sh"

if ((smoke && explicit_build)); then no_build=1; fi
if ((!no_build)); then
  if ! grep -q '^HAQ_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="${CXX:-g++}" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
      -DHAQ_FUZZ=ON -DHAQ_WERROR=OFF -DHAQ_BUILD_TESTS=OFF -DHAQ_BUILD_BENCH=OFF >/dev/null
  fi
  cmake --build "$build" --parallel "${JOBS:-$(nproc)}" \
    --target "${targets[@]/%/_fuzz}"
fi

if ((smoke)); then
  status=0
  for t in "${targets[@]}"; do
    scratch="$(mktemp -d)"
    n=$(find "$root/fuzz/corpus/$t" -type f | wc -l)
    if "$build/fuzz/${t}_fuzz" -runs=0 -rss_limit_mb=2048 -timeout=10 -max_len="${max_len[$t]}" \
         -artifact_prefix="$scratch/" "$scratch" "$root/fuzz/corpus/$t" >"$scratch.log" 2>&1; then
      echo "fuzz smoke: $t: $n inputs ok"
    else
      cat "$scratch.log"; echo "fuzz smoke: $t: FAILED" >&2; status=1
    fi
    rm -rf "$scratch" "$scratch.log"
  done
  exit $status
fi

work="${HAQ_FUZZ_WORK:-${TMPDIR:-/tmp}/haq-fuzz}"
mkdir -p "$work"
# One invocation per scratch directory: two would write the same logs and results.
exec 9>"$work/.lock"
if ! flock -n 9; then
  echo "fuzz.sh: $work is in use by another fuzz.sh; wait for it, or set HAQ_FUZZ_WORK to another directory" >&2
  exit 2
fi

fuzz_one() {  # target -> writes $work/$t.result: runs seconds crashes new_entries
  local t="$1" runs=0 crashes=0 start now left log
  local corpus="$work/corpus/$t" crashdir="$root/fuzz/crashes/$t"
  mkdir -p "$corpus" "$crashdir"
  local before; before=$(find "$corpus" -type f | wc -l)
  start=$(date +%s); left=$seconds; log="$work/$t.log"; : >"$log"
  while ((left > 0)); do
    local rc=0
    "$build/fuzz/${t}_fuzz" -max_total_time="$left" -rss_limit_mb=2048 -timeout=10 \
      -max_len="${max_len[$t]}" -print_final_stats=1 -artifact_prefix="$crashdir/" \
      "$corpus" "$root/fuzz/corpus/$t" >"$log.run" 2>&1 || rc=$?
    cat "$log.run" >>"$log"
    local n; n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log.run" | awk '{print $2}' | tail -1)
    [[ -n "$n" ]] || n=$(grep -oE '^#[0-9]+' "$log.run" | tail -1 | tr -d '#')
    runs=$((runs + ${n:-0}))
    if ((rc != 0)); then
      crashes=$((crashes + 1))
      echo "fuzz: $t: crash (exit $rc), input in $crashdir; log $log" >&2
      grep -m3 -E 'ERROR: |runtime error|unexpected exception|Test unit written' "$log.run" >&2 || true
    fi
    now=$(date +%s); left=$((seconds - (now - start)))
    ((rc != 0)) || break
  done
  rm -f "$log.run"
  local after; after=$(find "$corpus" -type f | wc -l)
  echo "$runs $(( $(date +%s) - start )) $crashes $((after - before))" >"$work/$t.result"
}

parallel="${HAQ_FUZZ_PARALLEL:-1}"
running=0
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${seconds} s (max_len ${max_len[$t]})"
  fuzz_one "$t" &
  running=$((running + 1))
  if ((running >= parallel)); then wait -n || true; running=$((running - 1)); fi
done
wait

printf '\n%-8s %14s %8s %8s %12s\n' target executions seconds crashes new_entries
total_crashes=0
for t in "${targets[@]}"; do
  read -r runs secs crashes entries <"$work/$t.result"
  printf '%-8s %14s %8s %8s %12s\n' "$t" "$runs" "$secs" "$crashes" "$entries"
  total_crashes=$((total_crashes + crashes))
done
echo "scratch corpora and logs: $work; crashes: fuzz/crashes/<target>/"
((total_crashes == 0))
