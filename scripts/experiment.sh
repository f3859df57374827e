#!/bin/sh
# make experiment: the gated-attention paper's YaRN claim (Qiu et al., arXiv
# 2505.06708: the gate makes YaRN extension degrade less) in miniature, with
# enough samples to decide. Both bundled models, every task that fits, at the
# training length and beyond it with YaRN (factor = length / training length,
# `--yarn-factor auto`), the same samples for both (same seed), then:
#   - lcx report: each cell and mean with its 95% interval, gated - baseline
#     deltas paired sample by sample, with intervals, and plots;
#   - lcx check: gated against baseline cell by cell (exact McNemar or
#     sign-flip, Holm over all cells), both ways: where gated is worse, and
#     where it is better;
#   - lcx probe over many prompts per length (sink share, Gu et al.'s sink
#     metric, entropy), with intervals, and its plot.
# The runs resume: rerun the same command (it keeps EXP_OUT) to finish an
# interrupted experiment. The two models run side by side, one thread each
# (the same throughput as one at a time with two threads, and partial
# results cover both models).
#   EXP_SAMPLES        samples per task and length (default 50)
#   EXP_LENGTHS        lengths (default L,4L,8L,16L,32L for training length L)
#   EXP_PROBE_SAMPLES  probe prompts per length (default 50)
#   EXP_OUT            output directory (default build/experiment)
set -eu
LCX=${LCX:-./lcx}
out=${EXP_OUT:-build/experiment}
samples=${EXP_SAMPLES:-50}
probe_samples=${EXP_PROBE_SAMPLES:-50}
base=models/tiny-baseline
gated=models/tiny-gated
for m in $base $gated; do
    [ -f "$m/model.safetensors" ] || { echo "experiment: $m is missing (make models trains it)" >&2; exit 2; }
done
L=$(tr -d ' \n' <"$gated/config.json" | sed -n 's/.*"max_position_embeddings":\([0-9]*\).*/\1/p')
[ -n "$L" ] || { echo "experiment: $gated/config.json has no max_position_embeddings" >&2; exit 2; }
lengths=${EXP_LENGTHS:-$L,$((4 * L)),$((8 * L)),$((16 * L)),$((32 * L))}
mkdir -p "$out"
start=$(date +%s)

echo "== lcx run: tiny-baseline and tiny-gated side by side (one thread each), every task that"
echo "   fits, $samples samples at $lengths (YaRN factor = length / $L); progress: $out/<model>.log"
pids=""
for m in tiny-baseline tiny-gated; do
    OMP_NUM_THREADS=1 $LCX run --model "models/$m" --tasks all --lengths "$lengths" --samples "$samples" \
        --yarn-factor auto --skip-unfit --out "$out/$m" >"$out/$m.log" 2>&1 &
    pids="$pids $!"
done
rc=0
for p in $pids; do wait "$p" || rc=1; done
[ $rc = 0 ] || { tail -n 3 "$out"/tiny-*.log >&2; echo "experiment: a run failed (rerun to resume)" >&2; exit 1; }
echo "runs done in $(( $(date +%s) - start )) s"

echo
echo "== lcx probe: $probe_samples prompts per length, YaRN auto"
for m in tiny-baseline tiny-gated; do
    mkdir -p "$out/plots"
    $LCX probe --model "models/$m" --length "$lengths" --yarn-factor auto --samples "$probe_samples" \
        --out "$out/$m/probe.json" --plot "$out/plots/probe-$m.svg" 2>"$out/$m.probe.log" |
        sed -n "s/^== by length/== $m: by length/; /by length/,\$p"
done

echo
echo "== lcx report: baseline against gated (deltas are gated - baseline, paired)"
$LCX report "$out/tiny-baseline" "$out/tiny-gated" --lengths "$lengths" --plot "$out/plots"
$LCX report "$out/tiny-baseline" "$out/tiny-gated" --lengths "$lengths" --format json >"$out/report.json"


# lcx check both ways: cells where gated is significantly worse than
# baseline (gated as the current run), and where it is significantly
# better (baseline as the current run); exit 1 means "found some".
set +e
$LCX check "$out/tiny-gated" --baseline "$out/tiny-baseline" --lengths "$lengths" >"$out/check-gated-worse.txt"
worse=$?
$LCX check "$out/tiny-baseline" --baseline "$out/tiny-gated" --lengths "$lengths" >"$out/check-gated-better.txt"
better=$?
set -e
[ $worse -le 1 ] && [ $better -le 1 ] || { echo "experiment: lcx check failed" >&2; exit 1; }
echo
echo "== lcx check, gated as the current run, baseline as the baseline: cells where gated is"
echo "   significantly worse (paired tests, Holm over all cells, alpha 0.05)"
head -n 1 "$out/check-gated-worse.txt"
grep ' REGRESSED$' "$out/check-gated-worse.txt" || true
echo "== lcx check the other way round: cells where gated is significantly better"
head -n 1 "$out/check-gated-better.txt"
grep ' REGRESSED$' "$out/check-gated-better.txt" || true
echo "(full tables: $out/check-gated-worse.txt, $out/check-gated-better.txt)"
echo
echo "plots: $out/plots/scores.svg (mean score against length, 95% intervals), $out/plots/probe-*.svg"
echo "experiment finished in $(( $(date +%s) - start )) s"
