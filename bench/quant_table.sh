#!/usr/bin/env bash
# Top-1 on the Fashion-MNIST test set of the shipped checkpoints, uniformly
# quantized at 8/6/5/4/3/2 bits, without and with a short fine-tune, linear (weights
# and activations) and k-means (weights only, activations in full precision as in
# HAQ's model-size experiments). Prints a Markdown table (the one in docs/RESULTS.md).
#
#   bash bench/quant_table.sh [build/haq] > table.md
#
# Short fine-tune: 300 steps of batch 64 (19,200 images, about a third of an epoch)
# from the training split, SGD momentum 0.9, lr 0.005 with cosine decay.
set -euo pipefail
HAQ=${1:-build/haq}
FT="--finetune-steps 300 --finetune-lr 0.005 --finetune-cosine"
top1() { "$HAQ" eval "$@" 2>/dev/null | sed -n 's/^top-1 \([0-9.]*\)%.*/\1/p'; }
echo "| model | method | fine-tune | 8 | 6 | 5 | 4 | 3 | 2 |"
echo "|---|---|---|---|---|---|---|---|---|"
for model in resnet20_fmnist mobilenet_v2_fmnist; do
  for method in linear kmeans; do
    flag=""; [ "$method" = kmeans ] && flag="--kmeans"
    for ft in none short; do
      row="| $model | $method | $ft |"
      for bits in 8 6 5 4 3 2; do
        extra=""; [ "$ft" = short ] && extra="$FT"
        # shellcheck disable=SC2086
        row="$row $(top1 --model "$model" --bits "$bits" $flag $extra) |"
      done
      echo "$row"
    done
  done
done
