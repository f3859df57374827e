#!/bin/sh
# test_probe_cli.sh: lcx probe over many prompts and lengths
# (harness/cmd_probe.c): --samples 3 at three lengths with --yarn-factor auto
# on the bundled gated model; every figure of the JSON present and in its
# range (shares in [0, 1], 0 <= entropy <= ln(tokens), intervals around
# their means), YaRN stretched at the longer length, the plot written, the
# same figures on a second run; and bad input refused with one line and
# exit 2.
set -u
LCX=${LCX:-./lcx}
MODEL=models/tiny-gated
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
command -v jq >/dev/null || { echo "SKIPPED: jq not installed"; exit 0; }

$LCX probe --model $MODEL --samples 3 --length 256,512,1024 --yarn-factor auto \
    --out "$tmp/p.json" --plot "$tmp/p.svg" >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err"; fail "probe --samples 3 --length 256,512,1024"; }

# progress on stderr, one line per prompt
grep -q "^probe 1024: prompt 3/3 " "$tmp/err" || { cat "$tmp/err"; fail "no progress line"; }
grep -q "^== by length" "$tmp/out" || { cat "$tmp/out"; fail "no table across lengths"; }

# the structure, and the first length's figures at the top (lcx report)
jq -e '.samples == 3 and .sink_epsilon == 0.3 and .interval.resamples == 2000
       and .interval.level == 0.95 and (.lengths | length) == 3
       and .lengths[0].length == 256 and .lengths[1].length == 512 and .lengths[2].length == 1024
       and .layers == .lengths[0].layers and .mean == .lengths[0].mean' "$tmp/p.json" >/dev/null ||
    fail "probe.json: wrong structure"
# YaRN at 1024 (factor 2 over the 512 the model was trained at), none at 256 and 512
jq -e '(.lengths[2].rope | test("yarn.*factor 2")) and (.lengths[0].rope | test("factor 1 ")) and (.lengths[1].rope | test("factor 1 "))' \
    "$tmp/p.json" >/dev/null || { jq '.lengths[].rope' "$tmp/p.json"; fail "rope per length"; }

# every figure of every layer and of the mean, in range, its interval around it
jq -e '
  def inr(lo; hi): . >= lo and . <= hi;
  def ci(k): .[k + "_ci"] as $c | ($c | length) == 2 and $c[0] <= .[k] + 1e-12 and .[k] <= $c[1] + 1e-12;
  all(.lengths[];
    (.tokens_max | log) as $lnmax |
    .tokens_min > 0 and .tokens_max <= .length and .samples == 3 and
    all((.layers[], .mean);
      (.sink_share | inr(0; 1)) and (.gu_sink | inr(0; 1)) and
      (.entropy | inr(0; $lnmax)) and (.entropy_norm | inr(0; 1)) and
      (.gate_mean | inr(0; 1)) and (.gate_lt_0_1 | inr(0; 1)) and .max_abs_hidden > 0 and
      ci("sink_share") and ci("gu_sink") and ci("entropy") and ci("entropy_norm") and
      ci("max_abs_hidden") and ci("gate_mean") and ci("gate_lt_0_1")))' "$tmp/p.json" >/dev/null ||
    { jq '.lengths[].mean' "$tmp/p.json"; fail "probe.json: a figure out of range"; }
[ "$(jq '.lengths[0].layers | length' "$tmp/p.json")" = 4 ] || fail "not 4 layers"

# the plot: three lines (first-token share, Gu metric, entropy / ln(keys)),
# shaded beyond the model's original context
grep -q "<svg" "$tmp/p.svg" || fail "no SVG written"
grep -q 'class="beyond"' "$tmp/p.svg" || fail "plot: no shading beyond the original 512"
for s in 0 1 2; do
    grep -q "class=\"line s$s" "$tmp/p.svg" || fail "plot: no line $s"
done

# deterministic: the same prompts, figures and intervals again
$LCX probe --model $MODEL --samples 3 --length 256,512,1024 --yarn-factor auto \
    --out "$tmp/q.json" >/dev/null 2>&1 || fail "second run"
cmp -s "$tmp/p.json" "$tmp/q.json" || fail "two runs differ"

# an ungated model has no gate figures
$LCX probe --model models/tiny-baseline --length 256 --out "$tmp/b.json" >/dev/null 2>&1 ||
    fail "probe tiny-baseline"
jq -e '.samples == 1 and (.mean | has("gate_mean") | not) and (.mean.gu_sink | . >= 0 and . <= 1)' \
    "$tmp/b.json" >/dev/null || fail "ungated probe.json"

# bad input: one line, exit 2
expect_error "--samples: expected 1 to 100000" $LCX probe --model $MODEL --length 256 --samples 0
expect_error "--samples" $LCX probe --model $MODEL --length 256 --samples x
expect_error "expected lengths separated by commas" $LCX probe --model $MODEL --length 256,,512
expect_error "expected lengths separated by commas" $LCX probe --model $MODEL --length 256,
expect_error "length 'abc'" $LCX probe --model $MODEL --length 256,abc
expect_error "256 named twice" $LCX probe --model $MODEL --length 256,256
expect_error "--sink-eps: expected a number between 0 and 1" $LCX probe --model $MODEL --length 256 --sink-eps 1
expect_error "--sink-eps" $LCX probe --model $MODEL --length 256 --sink-eps abc
expect_error "--samples needs --length" $LCX probe --model $MODEL --prompt-ids "$tmp/none.json" --samples 2
echo "ok"
