#!/usr/bin/env bash
# Runs the tests whose results depend on floating-point kernels under every kernel
# path this CPU can take, so that one machine checks what other CPUs would compute.
# LibTorch picks its own kernels by ATen's CPU capability (ATEN_CPU_CAPABILITY),
# its matrix products by OpenBLAS's core type (OPENBLAS_CORETYPE) and its
# convolutions by oneDNN's instruction set (ONEDNN_MAX_CPU_ISA); each path below
# sets all three as a CPU of that kind would have them. docs/REPRODUCIBILITY.md
# says which results may differ between paths and how the tests allow for it.
#
# Usage: bash scripts/kernel_paths.sh [--list] [PATH...] [-- GTEST_FILTER]
#   PATH: native, default, avx2, zen, avx512 (default: every one this CPU supports)
#   GTEST_FILTER: the tests to run (default: the kernel-dependent suites below)
# Also: cmake --build build --target kernel_paths. Needs a build (scripts/build.sh);
# HAQ_TEST_BINARY names another test binary.
set -euo pipefail
cd "$(dirname "$0")/.."

# The suites whose assertions go through LibTorch, OpenBLAS or oneDNN arithmetic:
# learning (DDPG, the search on its synthetic environment), quantization,
# calibration and fine-tuning, training, shipped checkpoints' accuracies, evaluation,
# exports (compared with ONNX Runtime and golden digests), ONNX import and the zoo;
# and the exact ones that must not depend on any of them (cost models, cost
# tables, policies, specs, the machine facts themselves).
default_filter='Ddpg*:SearchTest.*:SearchEnvTest.*:*Quant*:TrainerTest.*:SgdTest.*:*Shipped*'
default_filter+=':*Uniform8Bit*:*Export*:*Onnx*:*Zoo*:EvalCliTest.*:BismoTest.*:BitFusionTest.*'
default_filter+=':CostCliTest.*:PolicyTest.*:SpecTest.*:MachineInfoTest.*:StatsTest.*'

flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }

# name | ATEN_CPU_CAPABILITY | OPENBLAS_CORETYPE | ONEDNN_MAX_CPU_ISA | CPU flags it needs
paths=(
  "native|||"
  "default|default|Prescott|SSE41|sse4_1"
  "avx2|avx2|Haswell|AVX2|avx2 fma"
  "zen|avx2|Zen|AVX2|avx2 fma"
  "avx512|avx512|SkylakeX|AVX512_CORE|avx512f avx512bw avx512dq avx512vl"
)

wanted=()
filter="$default_filter"
list=0
while (($#)); do
  case "$1" in
    --list) list=1 ;;
    --) shift; filter="${1:?a gtest filter after --}"; break ;;
    *) wanted+=("$1") ;;
  esac
  shift
done

selected=()
selected_names=()
for p in "${paths[@]}"; do
  IFS='|' read -r name aten blas dnnl needs <<<"$p"
  if ((${#wanted[@]})) && [[ " ${wanted[*]} " != *" $name "* ]]; then continue; fi
  if [ -n "$needs" ] && ! has $needs; then
    echo "kernel_paths: skipping $name: this CPU lacks one of: $needs"
    continue
  fi
  selected+=("$p")
  selected_names+=("$name")
done
for w in "${wanted[@]}"; do
  found=0
  for p in "${paths[@]}"; do [ "${p%%|*}" = "$w" ] && found=1; done
  if ((!found)); then
    echo "kernel_paths: unknown path '$w' (expected one of: native default avx2 zen avx512)" >&2
    exit 2
  fi
done

bin="${HAQ_TEST_BINARY:-build/tests/haq_tests}"
if [ ! -x "$bin" ]; then
  echo "kernel_paths: $bin not built; run bash scripts/build.sh first" >&2
  exit 2
fi

failed=()
for p in "${selected[@]}"; do
  IFS='|' read -r name aten blas dnnl needs <<<"$p"
  env_args=()
  [ -n "$aten" ] && env_args+=("ATEN_CPU_CAPABILITY=$aten")
  [ -n "$blas" ] && env_args+=("OPENBLAS_CORETYPE=$blas")
  [ -n "$dnnl" ] && env_args+=("ONEDNN_MAX_CPU_ISA=$dnnl")
  what="${env_args[*]}"
  [ -n "$what" ] || what="(the choices the libraries make for this CPU)"
  if ((list)); then echo "$name: $what"; continue; fi
  echo "=== kernel path $name: $what"
  start=$SECONDS
  if env ${env_args[@]+"${env_args[@]}"} "$bin" --gtest_brief=1 --gtest_filter="$filter"; then
    echo "=== kernel path $name: passed in $((SECONDS - start)) s"
  else
    echo "=== kernel path $name: FAILED after $((SECONDS - start)) s"
    failed+=("$name")
  fi
done
((list)) && exit 0
if ((${#failed[@]})); then
  echo "kernel_paths: failed under: ${failed[*]}"
  exit 1
fi
echo "kernel_paths: passed under: ${selected_names[*]}"
