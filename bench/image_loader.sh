#!/usr/bin/env bash
# The image-folder path at 224 px (issue 23), side by side in one run: images/s
# from JPEG (the cache's build: decode, resize, centre crop) and from the cache
# (shuffled batches of 64) with 1 and 2 threads, and peak memory for folders of
# the given sizes (it must not grow with the folder: the images live in the cache
# file, not in the process).
#   bash bench/image_loader.sh WORK "10000 50000"
# WORK gets the folders (about 60 KB a JPEG) and caches (150 KB an image).
set -euo pipefail
RUN=${RUN:-build/bench/image_loader_run}
WORK=$1; SIZES=${2:-"10000 50000"}
mkdir -p "$WORK"
for n in $SIZES; do
  dir=$WORK/folder$n
  [ -d "$dir/train" ] || OMP_NUM_THREADS=2 "$RUN" make "$dir" "$n"
  for t in 1 2; do
    OMP_NUM_THREADS=$t "$RUN" build "$dir" "$WORK/cache$n"
    OMP_NUM_THREADS=$t "$RUN" read "$dir" "$WORK/cache$n"
  done
done
