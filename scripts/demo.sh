#!/bin/sh
# make demo: what lcx can run today on a fresh machine. It lists the tasks,
# generates the full RULER suite at 4K and 32K (8 samples each) fitted with
# the byte counter, shows one prompt's head and tail, and times it.
# (The baseline-vs-gated model comparison joins once the engine and the
# bundled models land.)
set -e
LCX=${LCX:-./lcx}
out=${DEMO_OUT:-build/demo}
rm -rf "$out"
echo "== lcx tasks"
$LCX tasks
echo
echo "== lcx gen --tasks all --lengths 4k,32k --samples 8 --out $out"
start=$(date +%s)
$LCX gen --tasks all --lengths 4k,32k --samples 8 --out "$out"
echo "generated in $(( $(date +%s) - start )) s:"
for f in "$out"/4096/*.jsonl; do
    printf '  %-40s %s samples\n' "$f" "$(wc -l <"$f")"
done
echo
echo "== the first niah_multikey_1 prompt at 4K (head and tail)"
head -n 1 "$out/4096/niah_multikey_1.jsonl" | cut -c1-400
echo "..."
head -n 1 "$out/4096/niah_multikey_1.jsonl" | rev | cut -c1-400 | rev
