#!/usr/bin/env bash
# Kernel drift ||K_T - K_0||_F / ||K_0||_F over widths 100 ... 10^4 on the circle Fourier task
# (examples/train_fourier.yaml), one run directory per width; prints the final drift of each.
set -euo pipefail
bin=${NTKDRIFT:-build/ntkdrift}
for w in 100 300 1000 3000 10000; do
  "$bin" train --config examples/train_fourier.yaml --width "$w" --name "drift-w$w" >/dev/null
  printf 'width %6d  final drift %s\n' "$w" "$(tail -1 "results/drift-w$w/latest/metrics.csv" | cut -d, -f5)"
done
