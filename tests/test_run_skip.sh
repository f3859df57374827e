#!/bin/sh
# lcx run --skip-unfit: cells whose smallest prompt does not fit the length
# are left out and recorded; without it the run refuses and names the flag;
# lcx report shows the skipped cell as "-" and means over the other tasks.
set -u
LCX=${LCX:-./lcx}
MODEL=tests/fixtures/run_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# vt's smallest prompt is about 1,900 tokens of this model: it cannot fit 600.
ARGS="--model $MODEL --tasks niah_single_1,vt --lengths 600,2500 --samples 2 --quiet"
expect_error "--skip-unfit runs the other cells" $LCX run $ARGS --out "$tmp/no"
[ -e "$tmp/no" ] && fail "a refused run left its directory"
$LCX run $ARGS --skip-unfit --out "$tmp/r" || fail "run with --skip-unfit"
[ -e "$tmp/r/pred/600/vt.jsonl" ] && fail "the skipped cell was run"
for f in pred/600/niah_single_1.jsonl pred/2500/niah_single_1.jsonl pred/2500/vt.jsonl; do
    [ "$(wc -l <"$tmp/r/$f")" = 2 ] || fail "$f: not 2 records"
done
tr -d ' \n' <"$tmp/r/run.json" | grep -q '"skipped":\["vt@600"\]' || fail "run.json does not record the skipped cell"
$LCX run $ARGS --skip-unfit --out "$tmp/r" || fail "resume with --skip-unfit"
expect_error "skipped" $LCX run $ARGS --skip-unfit --lengths 2500 --out "$tmp/r"
# Nothing fits: one line that says so, and no directory.
expect_error "nothing to run" $LCX run --model $MODEL --tasks vt --lengths 600 --samples 2 --quiet \
    --skip-unfit --out "$tmp/none"
[ -e "$tmp/none" ] && fail "a run with nothing to run left its directory"

# The report: the cell is "-", the run is not partial, the mean at 600 is niah_single_1's.
$LCX report "$tmp/r" --format json >"$tmp/rep.json" || fail "report of a run with a skipped cell"
tr -d ' \n' <"$tmp/rep.json" | grep -q '"skipped":\["vt@600"\]' || fail "report JSON does not list the skipped cell"
$LCX report "$tmp/r" --format markdown | grep -q 'too short for the task' || fail "markdown does not explain the skipped cell"
$LCX report "$tmp/r" >"$tmp/rep.txt" || fail "report table"
grep -q 'too short for the task' "$tmp/rep.txt" || fail "the table does not explain the skipped cell"
grep -E '^vt ' "$tmp/rep.txt" | grep -q -- ' -  *[0-9]' || { cat "$tmp/rep.txt"; fail "vt@600 is not shown as -"; }
s=$(grep -E '^niah_single_1 ' "$tmp/rep.txt" | awk '{print $2}')
m=$(grep -E '^mean ' "$tmp/rep.txt" | head -n 1 | awk '{print $2}') # the grid's row (the intervals section has one too)
[ -n "$s" ] && [ "$s" = "$m" ] || fail "mean at 600 ($m) is not niah_single_1's score ($s)"
exit 0
