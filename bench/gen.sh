#!/bin/sh
# bench/gen: all 13 tasks x 6 lengths (4K-128K) x 100 samples. Counter: the
# byte counter, or TOKENIZER=path/to/tokenizer.json (a real vocabulary:
# chunk-count fitting, one full count a sample). FIT=ruler for RULER's
# fitting method. Targets on the 2-core reference machine: under 60 s with
# bytes, under 30 s with the Qwen3 tokenizer.
set -e
LCX=${LCX:-./lcx}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tok=""
[ -n "${TOKENIZER:-}" ] && tok="--tokenizer $TOKENIZER"
start=$(date +%s.%N)
# shellcheck disable=SC2086
$LCX gen --tasks all --lengths 4k,8k,16k,32k,64k,128k --samples "${SAMPLES:-100}" \
    --fit "${FIT:-tight}" $tok --out "$out" --quiet
end=$(date +%s.%N)
# CPU time of the children (the second line of `times`: user and system;
# `times` must run in this shell, not in a command substitution)
times >"$out/.times"
cpu=$(tail -n 1 "$out/.times" | awk '{u = $1; s = $2; sub(/s$/, "", u); sub(/s$/, "", s);
    split(u, a, "m"); split(s, b, "m"); printf "%.1f", a[1] * 60 + a[2] + b[1] * 60 + b[2]}')
files=$(find "$out" -name '*.jsonl' | wc -l)
samples=$(cat "$out"/*/*.jsonl | wc -l)
bytes=$(du -sb "$out" | cut -f1)
echo "gen: $files files, $samples samples, $((bytes / 1048576)) MiB in $(awk "BEGIN{printf \"%.2f\", $end - $start}") s, $cpu s CPU (threads: ${OMP_NUM_THREADS:-$(nproc)}, counter: ${TOKENIZER:-bytes}, fit: ${FIT:-tight})"
