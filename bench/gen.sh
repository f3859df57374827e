#!/bin/sh
# bench/gen: all 13 tasks x 6 lengths (4K-128K) x 100 samples with the byte
# counter. Target: under 60 s on the 2-core reference machine.
set -e
LCX=${LCX:-./lcx}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
$LCX gen --tasks all --lengths 4k,8k,16k,32k,64k,128k --samples 100 --out "$out" --quiet
end=$(date +%s.%N)
files=$(find "$out" -name '*.jsonl' | wc -l)
samples=$(cat "$out"/*/*.jsonl | wc -l)
bytes=$(du -sb "$out" | cut -f1)
echo "gen: $files files, $samples samples, $((bytes / 1048576)) MiB in $(awk "BEGIN{printf \"%.2f\", $end - $start}") s (threads: ${OMP_NUM_THREADS:-$(nproc)})"
