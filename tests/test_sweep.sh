#!/bin/sh
# lcx sweep: one run directory per setting, each the same as a plain lcx run
# with that factor and temperature; sweep.json; the grid printed at the end
# with the best setting per length marked; resume; a changed grid refused;
# bad input.
set -u
LCX=${LCX:-./lcx}
MODEL=tests/fixtures/run_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

SUITE="--tasks niah_single_1 --lengths 600 --samples 2 --quiet"
$LCX sweep --out "$tmp/sw" --model $MODEL --yarn-factors 1,4 --attn-temperatures 1,1.5 $SUITE >"$tmp/grid" \
    || fail "sweep"
for d in yarn1-temp1 yarn1-temp1.5 yarn4-temp1 yarn4-temp1.5; do
    [ -s "$tmp/sw/$d/pred/600/niah_single_1.jsonl" ] || fail "missing setting $d"
done
tr -d ' \n' <"$tmp/sw/sweep.json" >"$tmp/sweep.json"
grep -q '"kind":"lcx-sweep"' "$tmp/sweep.json" || fail "sweep.json kind"
grep -q '"yarn_factors":\[1.0,4.0\],"attn_temperatures":\[1.0,1.5\]' "$tmp/sweep.json" || fail "sweep.json grid"
grep -q '"yarn_factor":4.0,"attn_temperature":1.5,"dir":"yarn4-temp1.5"' "$tmp/sweep.json" || fail "sweep.json cell"

# A setting is exactly lcx run with that factor and temperature.
$LCX run --out "$tmp/one" --model $MODEL --yarn-factor 4 --attn-temperature 1.5 $SUITE || fail "plain run"
canon "$tmp/one/pred/600/niah_single_1.jsonl" >"$tmp/a"
canon "$tmp/sw/yarn4-temp1.5/pred/600/niah_single_1.jsonl" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "setting yarn4-temp1.5 differs from lcx run --yarn-factor 4 --attn-temperature 1.5"
tr -d ' \n' <"$tmp/sw/yarn4-temp1.5/run.json" | grep -q '"factor":4.0' || fail "setting run.json lacks its factor"

# The grid: four rows, one column, the best marked.
grep -q '^yarn 4, temp 1.5 ' "$tmp/grid" || { cat "$tmp/grid"; fail "grid lacks a row"; }
[ "$(grep -c '^yarn ' "$tmp/grid")" = 4 ] || fail "grid: not 4 settings"
grep -q '\*' "$tmp/grid" || fail "grid marks no best setting"
$LCX report "$tmp/sw" >"$tmp/grid2" || fail "report of a sweep"
cmp -s "$tmp/grid" "$tmp/grid2" || fail "lcx report prints another grid than lcx sweep"

# Resume: the same command changes no record; a changed grid is refused.
cp -r "$tmp/sw" "$tmp/sw0"
$LCX sweep --out "$tmp/sw" --model $MODEL --yarn-factors 1,4 --attn-temperatures 1,1.5 $SUITE >/dev/null || fail "rerun"
diff -r "$tmp/sw0" "$tmp/sw" >/dev/null || fail "a complete rerun changed the sweep"
rm -r "$tmp/sw/yarn4-temp1"
$LCX sweep --out "$tmp/sw" --model $MODEL --yarn-factors 1,4 --attn-temperatures 1,1.5 $SUITE >/dev/null || fail "resume"
canon "$tmp/sw0/yarn4-temp1/pred/600/niah_single_1.jsonl" >"$tmp/a"
canon "$tmp/sw/yarn4-temp1/pred/600/niah_single_1.jsonl" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "resumed setting differs"
expect_error "with other yarn_factors" $LCX sweep --out "$tmp/sw" --model $MODEL --yarn-factors 1,8 --attn-temperatures 1,1.5 $SUITE

# Bad input.
expect_error "give --yarn-factors and/or --attn-temperatures" $LCX sweep --out "$tmp/x" --model $MODEL
expect_error "--yarn-factors: 'x' is not a positive number" $LCX sweep --out "$tmp/x" --model $MODEL --yarn-factors 1,x
expect_error "--yarn-factors: 2 is given twice" $LCX sweep --out "$tmp/x" --model $MODEL --yarn-factors 2,2
expect_error "--yarn-factor: not an lcx sweep option" $LCX sweep --out "$tmp/x" --model $MODEL --yarn-factors 2 --yarn-factor 4
expect_error "--rope-scaling: not an lcx sweep option" $LCX sweep --out "$tmp/x" --model $MODEL --yarn-factors 2 --rope-scaling yarn
expect_error "give one of --model DIR (the local engine), --endpoint URL" $LCX sweep --out "$tmp/x" --yarn-factors 2
[ -e "$tmp/x" ] && fail "bad input left $tmp/x"

# One model load for a whole sweep, and for a run over several lengths with
# --yarn-factor auto (RoPE is a session property): the weights file is
# opened once. Needs strace; without it this part is skipped, saying so.
# (LeakSanitizer cannot run under ptrace: off for these two runs.)
if command -v strace >/dev/null 2>&1; then
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
    export ASAN_OPTIONS
    strace -f -e trace=openat -o "$tmp/trace1" $LCX sweep --out "$tmp/sw2" --model $MODEL \
        --yarn-factors 1,2,4 $SUITE >/dev/null || fail "traced sweep"
    n=$(grep -c 'model.safetensors"' "$tmp/trace1")
    [ "$n" = 1 ] || fail "a sweep of 3 settings opened model.safetensors $n times"
    strace -f -e trace=openat -o "$tmp/trace2" $LCX run --out "$tmp/auto" --model $MODEL \
        --yarn-factor auto --tasks niah_single_1 --lengths 600,1200,2400 --samples 1 --quiet || fail "traced run"
    n=$(grep -c 'model.safetensors"' "$tmp/trace2")
    [ "$n" = 1 ] || fail "a run over 3 lengths with auto opened model.safetensors $n times"
else
    echo "note: strace not found; the one-load checks were not run"
fi
exit 0
