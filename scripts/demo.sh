#!/bin/sh
# make demo: the pipeline end to end on what ships today. The trained
# baseline/gated pair (models/tiny-*) is not in the repository yet, so the
# local-engine steps use the small RANDOM-weight test models under
# tests/: they show the machinery (fitting, decoding, scoring, probes), and
# their scores are 0 by construction.
set -e
LCX=${LCX:-./lcx}
out=${DEMO_OUT:-build/demo}
rm -rf "$out"
mkdir -p "$out"
echo "== lcx tasks"
$LCX tasks
echo
echo "== lcx gen: the 13 tasks at 4K and 32K, 8 samples each, fitted in bytes"
start=$(date +%s)
$LCX gen --tasks all --lengths 4k,32k --samples 8 --out "$out/data" --quiet
echo "generated $(cat "$out"/data/*/*.jsonl | wc -l) samples in $(( $(date +%s) - start )) s under $out/data"
echo "the first niah_multikey_1 prompt at 4K, head and tail:"
head -n 1 "$out/data/4096/niah_multikey_1.jsonl" | cut -c1-300
echo "..."
head -n 1 "$out/data/4096/niah_multikey_1.jsonl" | rev | cut -c1-300 | rev
echo
echo "== lcx run: the local engine on a 2-layer random-weight model (tests/fixtures/run_model)"
$LCX run --model tests/fixtures/run_model --tasks niah_single_1,vt,qa_1 --lengths 2500 --samples 2 \
    --out "$out/run" --quiet
$LCX score "$out/run/pred"
echo "(random weights: 0 is the expected score; results in $out/run)"
echo
echo "== lcx probe: attention-sink measurements, random-weight gated test model"
$LCX probe --model tests/reference/models/qwen3_gate_headwise --length 2048 --out "$out/probe.json" 2>&1 | tail -n 5
