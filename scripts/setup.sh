#!/usr/bin/env bash
# Installs every Debian package the haq project needs to build, run, test and
# benchmark. Non-interactive and idempotent: packages already present are skipped.
# Usage (as root on Debian 12): bash scripts/setup.sh
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache
  # sanitizer and fuzz builds (scripts/sanitize.sh, scripts/fuzz.sh): libFuzzer's runtime
  clang libclang-rt-14-dev
  # core libraries
  libtorch-dev libopenblas-dev libonnx-dev libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  # the exact integer-program solver of --agent ilp
  libglpk-dev
  # image decoding and colour conversion for image-folder data sets (OpenCV's codecs
  # only: libopencv-dev would bring VTK and Qt)
  libopencv-imgcodecs-dev libopencv-imgproc-dev
  # SHA-256 and HMAC of the workers' join handshake (libcrypto)
  libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # data: the embedded default data set and ONNX's conformance tests
  dataset-fashion-mnist libonnx-testdata
  # end-to-end tooling (bench scripts read .npy; time/peak-memory measurement)
  python3 python3-numpy time
  # haq report's browser test (headless rendering and screenshot)
  chromium
)

# Node.js and npm for the npm test tooling below; a machine that already has them
# (e.g. from NodeSource, whose nodejs bundles npm) keeps its own.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

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

# Test tooling from the npm registry, pinned by tools/ort/package-lock.json: ONNX
# Runtime (CPU build bundled in the package; no CUDA download) to validate exports.
ort_dir="$(cd "$(dirname "$0")/.." && pwd)/tools/ort"
if [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
  echo "setup: installing onnxruntime-node into tools/ort"
  (cd "$ort_dir" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund)
else
  echo "setup: onnxruntime-node present in tools/ort"
fi
