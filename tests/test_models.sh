#!/bin/sh
# The bundled pair (models/tiny-*): the files, the 8 MB cap, one vocabulary,
# configs that differ only in the gate, and their scores at the training
# length held by lcx check against the committed baselines (a CI gate on
# the models themselves: greedy decoding is deterministic, so any change in
# the engine or the tasks that moves a score beyond noise fails here).
set -u
LCX=${LCX:-./lcx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

for m in tiny-baseline tiny-gated; do
    for f in config.json model.safetensors tokenizer.json train_log.csv loss.svg; do
        [ -s "models/$m/$f" ] || fail "models/$m/$f missing"
    done
    size=$(wc -c <"models/$m/model.safetensors")
    [ "$size" -le 8388608 ] || fail "models/$m is $size bytes (cap 8 MB)"
done
cmp -s models/tiny-baseline/tokenizer.json models/tiny-gated/tokenizer.json || fail "the two vocabularies differ"
grep -v attn_output_gate models/tiny-baseline/config.json >"$tmp/b"
grep -v attn_output_gate models/tiny-gated/config.json >"$tmp/g"
cmp -s "$tmp/b" "$tmp/g" || fail "the configs differ in more than the gate"
grep -q '"elementwise_attn_output_gate": true' models/tiny-gated/config.json || fail "tiny-gated is not gated"
grep -q 'attn_output_gate' models/tiny-baseline/config.json && fail "tiny-baseline has a gate flag"

for m in tiny-baseline tiny-gated; do
    $LCX run --model "models/$m" --tasks niah_single_1,niah_multikey_2,niah_multivalue --lengths 512 \
        --samples 10 --out "$tmp/$m" --quiet || fail "run $m"
    $LCX check "$tmp/$m" --baseline "tests/fixtures/models/$m-512.json" >"$tmp/out" 2>&1 \
        || { cat "$tmp/out"; fail "$m scores moved from tests/fixtures/models/$m-512.json"; }
done
# the README's claims at the training length, on these 10 samples: both
# retrieve a single needle and pick the asked key among distractor needles
for m in tiny-baseline tiny-gated; do
    tr -d ' \n' <"$tmp/$m/summary.json" | grep -q '"niah_single_1":100.0' || fail "$m niah_single_1 at 512 is not 100"
    tr -d ' \n' <"$tmp/$m/summary.json" | grep -Eq '"niah_multikey_2":(9[0-9]|100)\.' \
        || fail "$m niah_multikey_2 at 512 is below 90"
done
exit 0
