#!/bin/sh
# make demo: the gated-attention paper's extrapolation experiment in
# miniature, on the two small models that ship in models/. Both are run on
# all 13 RULER tasks at their training length and at 4x, 8x and 16x it with
# YaRN (factor = length / training length, `--yarn-factor auto`); then the
# side-by-side report, both models' attention-sink probes and the plots.
#   DEMO_SAMPLES  samples per task and length (default 8)
#   DEMO_OUT      output directory (default build/demo)
set -eu
LCX=${LCX:-./lcx}
out=${DEMO_OUT:-build/demo}
samples=${DEMO_SAMPLES:-8}
base=models/tiny-baseline
gated=models/tiny-gated
for m in $base $gated; do
    [ -f "$m/model.safetensors" ] || { echo "demo: $m is missing (make models trains it)" >&2; exit 2; }
done
# The training length: max_position_embeddings of the exported config.
L=$(tr -d ' \n' <"$gated/config.json" | sed -n 's/.*"max_position_embeddings":\([0-9]*\).*/\1/p')
[ -n "$L" ] || { echo "demo: $gated/config.json has no max_position_embeddings" >&2; exit 2; }
lengths="$L,$((4 * L)),$((8 * L)),$((16 * L))"
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

echo "== the models"
echo "tiny-baseline and tiny-gated: the same 4-layer Qwen3-style model trained by lcx train"
echo "on RULER-format data at $L tokens, differing only in the gate (README, 'The bundled models')."
echo
for m in tiny-baseline tiny-gated; do
    echo "== lcx run: $m, 13 tasks x $samples samples at $lengths (YaRN factor = length / $L)"
    $LCX run --model "models/$m" --tasks all --lengths "$lengths" --samples "$samples" \
        --yarn-factor auto --skip-unfit --out "$out/$m" --quiet
    $LCX probe --model "models/$m" --length "$L" --out "$out/$m/probe.json" >/dev/null 2>&1
done
echo
echo "== lcx report: baseline against gated (deltas are gated - baseline)"
$LCX report "$out/tiny-baseline" "$out/tiny-gated" --plot "$out/plots"
echo
echo "plots: $out/plots/scores.svg (score against length), $out/plots/probe.svg (per-layer probe)"
echo "runs:  $out/tiny-baseline, $out/tiny-gated (rerun one: lcx run with the same options resumes)"
echo "demo finished in $(( $(date +%s) - start )) s"
