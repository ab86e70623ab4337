#!/usr/bin/env bash
# The image-folder path at 224 px (issue 23), side by side in one run: images/s
# from JPEG (the cache's build: decode, resize, centre crop) and from the cache
# (shuffled batches of 64) with 1 and 2 threads, and peak memory for folders of
# the given sizes (it must not grow with the folder: the images live in the cache
# file, not in the process).
#   bash bench/image_loader.sh WORK "10000 50000"
# WORK gets the folders (about 60 KB a JPEG) and caches (150 KB an image). A size
# that is a multiple of 10,000 above it is made of hard-linked copies of the
# 10,000-image folder's train/ (copyK/ inside each class folder): every file is
# decoded and cached on its own path as any other, and making 50,000 new JPEGs would
# cost more than the benchmark.
set -euo pipefail
RUN=${RUN:-build/bench/image_loader_run}
WORK=$1; SIZES=${2:-"10000 50000"}
mkdir -p "$WORK"
for n in $SIZES; do
  dir=$WORK/folder$n
  if [ ! -d "$dir/train" ]; then
    if [ "$n" -gt 10000 ] && [ $((n % 10000)) -eq 0 ]; then
      [ -d "$WORK/folder10000/train" ] || OMP_NUM_THREADS=2 "$RUN" make "$WORK/folder10000" 10000
      mkdir -p "$dir.tmp"
      cp -al "$WORK/folder10000/val" "$dir.tmp/val"
      for cls in "$WORK"/folder10000/train/*/; do
        c=$(basename "$cls")
        for k in $(seq 1 $((n / 10000))); do
          mkdir -p "$dir.tmp/train/$c"
          cp -al "$cls" "$dir.tmp/train/$c/copy$k"
        done
      done
      mv "$dir.tmp" "$dir"
    else
      OMP_NUM_THREADS=2 "$RUN" make "$dir" "$n"
    fi
  fi
  for t in 1 2; do
    OMP_NUM_THREADS=$t "$RUN" build "$dir" "$WORK/cache$n"
    OMP_NUM_THREADS=$t "$RUN" read "$dir" "$WORK/cache$n"
  done
done
