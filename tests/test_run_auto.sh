#!/bin/sh
# --yarn-factor auto: each length runs with YaRN at factor length / original
# context (none at or below it), exactly as separate runs with those fixed
# factors; run.json records the factor of each length; remote backends and
# lcx complete refuse it.
set -u
LCX=${LCX:-./lcx}
MODEL=tests/fixtures/run_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

COMMON="--model $MODEL --tasks niah_single_1,niah_single_2 --samples 2 --quiet --yarn-orig-ctx 600"
$LCX run $COMMON --lengths 600,1200,2400 --yarn-factor auto --out "$tmp/auto" || fail "auto run"
$LCX run $COMMON --lengths 600 --out "$tmp/f1" || fail "run without scaling"
$LCX run $COMMON --lengths 1200 --yarn-factor 2 --out "$tmp/f2" || fail "run at factor 2"
$LCX run $COMMON --lengths 2400 --yarn-factor 4 --out "$tmp/f4" || fail "run at factor 4"
for t in niah_single_1 niah_single_2; do
    for p in f1/pred/600 f2/pred/1200 f4/pred/2400; do
        l=${p##*/}
        canon "$tmp/$p/$t.jsonl" >"$tmp/want"
        canon "$tmp/auto/pred/$l/$t.jsonl" >"$tmp/got"
        cmp -s "$tmp/want" "$tmp/got" || fail "$t at $l: auto differs from the fixed-factor run ($p)"
    done
done
# The fixed factors matter at all (otherwise the comparison above proves nothing).
$LCX run $COMMON --lengths 2400 --out "$tmp/none" || fail "run at 2400 without scaling"
canon "$tmp/none/pred/2400/niah_single_2.jsonl" >"$tmp/a"
canon "$tmp/f4/pred/2400/niah_single_2.jsonl" >"$tmp/b"
canon "$tmp/none/pred/2400/niah_single_1.jsonl" >>"$tmp/a"
canon "$tmp/f4/pred/2400/niah_single_1.jsonl" >>"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" && fail "YaRN factor 4 changes no prediction of the test model"

tr -d ' \n' <"$tmp/auto/run.json" >"$tmp/run.json"
grep -q '"factor":"auto"' "$tmp/run.json" || fail "run.json: rope.factor is not auto"
grep -q '"factors":{"600":1.0,"1200":2.0,"2400":4.0}' "$tmp/run.json" || fail "run.json: per-length factors"

# Resume is accepted; a fixed factor is a changed configuration.
$LCX run $COMMON --lengths 600,1200,2400 --yarn-factor auto --out "$tmp/auto" || fail "rerun auto"
expect_error "factor" $LCX run $COMMON --lengths 600,1200,2400 --yarn-factor 2 --out "$tmp/auto"

# lcx probe --yarn-factor auto at a length = the fixed factor.
$LCX probe --model $MODEL --length 1200 --yarn-orig-ctx 600 --yarn-factor auto --out "$tmp/pa.json" >/dev/null || fail "probe auto"
$LCX probe --model $MODEL --length 1200 --yarn-orig-ctx 600 --yarn-factor 2 --out "$tmp/pf.json" >/dev/null || fail "probe factor 2"
grep -v '"model"' "$tmp/pa.json" >"$tmp/a"
grep -v '"model"' "$tmp/pf.json" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "probe: auto differs from factor 2"

expect_error "goes with a local --model" $LCX run --endpoint http://127.0.0.1:9 --tokenizer $MODEL --yarn-factor auto --tasks vt --out "$tmp/x"
expect_error "no target length" $LCX complete --model $MODEL --prompt-ids "$tmp/x" --yarn-factor auto
exit 0
