#!/usr/bin/env bash
# Installs every Debian package the haq project needs to build, run, test and
# benchmark. Non-interactive and idempotent: packages already present are skipped.
# Usage (as root on Debian 12): bash scripts/setup.sh
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache
  # core libraries
  libtorch-dev libopenblas-dev libonnx-dev libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # data: the embedded default data set and ONNX's conformance tests
  dataset-fashion-mnist libonnx-testdata
  # end-to-end tooling (bench scripts read .npy; time/peak-memory measurement)
  python3 python3-numpy time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} Debian packages present"
fi
