#!/bin/sh
# lcx report and lcx check from the command line, on the hand-made runs of
# tests/fixtures/report (base: niah_single_1 100/75/25, qa_1 75/50/0 at
# 1024/2048/4096, 4 samples; gated: 100/100/75 and 100/75/50): the numbers
# in every format, the sweep grid, the plots, check's exit codes, and bad
# input (exit 2, one line on stderr).
set -u
LCX=${LCX:-./lcx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
F=tests/fixtures/report

has() { grep -qF -- "$1" "$2" || { cat "$2"; fail "'$1' not in $2"; }; }

# ---- lcx report: table ----
$LCX report $F/base $F/gated >"$tmp/t" 2>"$tmp/e" || fail "report table"
has "niah_single_1      base            100.00            75.00            25.00" "$tmp/t"
has "                   gated   100.00 (+0.00)  100.00 (+25.00)   75.00 (+50.00)" "$tmp/t"
has "qa_1               base             75.00            50.00             0.00" "$tmp/t"
has "mean               base             87.50            62.50            12.50" "$tmp/t"
# the 50-point rise of the mean at 4096 is the one delta whose paired
# interval excludes 0 (both tasks gained 2 of 4 samples; none lost)
has "                   gated  100.00 (+12.50)   87.50 (+25.00)  62.50 (+50.00*)" "$tmp/t"
has "95% intervals: Wilson for a cell scored 0/1 per sample; bootstrap over samples for other" "$tmp/t"
has "mean               base      1024    87.50 [62.50, 100.00]" "$tmp/t"
has "                   gated     1024   100.00 [100.00, 100.00]      +12.50 [0.00, 37.50]           8" "$tmp/t"
has "                             4096    62.50 [25.00, 87.50]       +50.00* [12.50, 87.50]          8" "$tmp/t"
# the overall row, the mean of the six cells: base (100+75+25+75+50+0)/6 =
# 54.17, gated (100+100+75+100+75+50)/6 = 83.33; 7 samples gained of 24,
# none lost, so its paired interval excludes 0
has "                              all    54.17 [41.67, 66.67]" "$tmp/t"
has "                              all    83.33 [70.83, 95.83]       +29.16* [8.33, 50.00]          24" "$tmp/t"
grep -q "^qa_1  *base  *1024" "$tmp/t" && fail "cell intervals without --intervals"
# --lengths: the overall row covers the lengths shown, (100+75+75+50)/4 and
# (100+100+100+75)/4
$LCX report $F/base $F/gated --lengths 1024,2048 >"$tmp/tl" || fail "report --lengths"
has "                              all    75.00 [56.25, 93.75]" "$tmp/tl"
has "                              all    93.75 [81.25, 100.00]       +18.75 [-6.25, 43.75]         16" "$tmp/tl"
# --intervals: every cell's (qa_1 at 4096 in gated: 2 of 4, Wilson 15.00-85.00)
$LCX report $F/base $F/gated --intervals >"$tmp/ti" || fail "report --intervals"
has "qa_1               base      1024    75.00 [30.06, 95.44]" "$tmp/ti"
has "                             4096    50.00 [15.00, 85.00]        +50.00 [0.00, 100.00]          4" "$tmp/ti"
has "nulls              base               0/8              0/8              1/8" "$tmp/t"
has "base   1024                   41.67            66.67" "$tmp/t"
has "gated  2048                   77.08 (+35.41)   89.58 (+22.91)" "$tmp/t"
has "rope factor auto" "$tmp/t"
has "base        2             70.00%        250.00  - (no gate)" "$tmp/t"
has "gated       2             10.00%         20.00  0.300" "$tmp/t"
[ -s "$tmp/e" ] && { cat "$tmp/e"; fail "report wrote to stderr"; }

# one run, another threshold: nothing exceeds 90 in base
$LCX report $F/base --threshold 90 >"$tmp/t1" || fail "report one run"
has "run base  $F/base" "$tmp/t1"
has "niah_single_1         100.00     75.00     25.00" "$tmp/t1"
has "base  none (< 1024)          41.67            66.67" "$tmp/t1"
grep -q "(+" "$tmp/t1" && fail "a single run shows deltas"

# names, and the reference is whichever run comes first
$LCX report $F/gated $F/base --names G,B >"$tmp/t2" || fail "report --names"
has "                   B     100.00 (+0.00)   75.00 (-25.00)   25.00 (-50.00)" "$tmp/t2"
has "deltas: each run minus G (the first)" "$tmp/t2"

# ---- markdown ----
$LCX report $F/base $F/gated --format markdown >"$tmp/md" || fail "report markdown"
has "| task | run | 1024 | 2048 | 4096 |" "$tmp/md"
has "|  | gated | 100.00 (+25.00) | 75.00 (+25.00) | 50.00 (+50.00) |" "$tmp/md"
has "| gated | 2048 | 77.08 (+35.41) | 89.58 (+22.91) |" "$tmp/md"
has "| **mean** | gated | 4096 | 62.50 | [25.00, 87.50] | +50.00\\* | [12.50, 87.50] | 8 |" "$tmp/md"
has "| **mean** | gated | all | 83.33 | [70.83, 95.83] | +29.16\\* | [8.33, 50.00] | 24 |" "$tmp/md"
has "| gated | 2 | 10.00% | 20.00 | 0.300 | models/tiny-gated |" "$tmp/md"

# ---- csv ----
$LCX report $F/base $F/gated --format csv >"$tmp/csv" || fail "report csv"
[ "$(head -n 1 "$tmp/csv")" = "run,metric,task,length,value,samples,nulls,delta,lo,hi,interval,delta_lo,delta_hi,delta_interval,delta_n" ] || fail "csv header"
has "gated,score,niah_single_1,4096,75.00,4,0,50.00,30.06,95.44,wilson,0.00,100.00,paired-bootstrap,4" "$tmp/csv"
has "base,score,qa_1,4096,0.00,4,1,,0.00,48.99,wilson,,,," "$tmp/csv"
has "base,mean,,4096,12.50,8,1,,0.00,37.50,bootstrap,,,," "$tmp/csv"
has "gated,overall,,,83.33,24,0,29.16,70.83,95.83,bootstrap,8.33,50.00,paired-bootstrap,24" "$tmp/csv"
has "gated,wavg_inc,,,77.08,,,35.41,,,,,,," "$tmp/csv"
has "base,effective_length,,,1024,,,,,,,,,," "$tmp/csv"
has "gated,probe_gate_mean,,,0.3000,,,,,,,,,," "$tmp/csv"

# ---- json ----
$LCX report $F/base $F/gated --format json >"$tmp/j" || fail "report json"
has '"kind": "lcx-report"' "$tmp/j"
has '"version": 1' "$tmp/j"
has '"effective_length": 2048' "$tmp/j"
has '"wavg_inc_delta": 35.41' "$tmp/j"
has '"first_token_share": 0.1' "$tmp/j"
has '"resamples": 2000' "$tmp/j"
has '"method": "wilson"' "$tmp/j"
has '"method": "paired-bootstrap"' "$tmp/j"
has '"mean_delta_intervals": [' "$tmp/j"
has '"ids_from": "outputs"' "$tmp/j"
# each run's "overall"; the reference's has no delta
tr -d ' \n' <"$tmp/j" >"$tmp/jc"
has '"overall":{"score":54.17,"cells":6,"samples":24,"interval":{"lo":41.67,"hi":66.67,"method":"bootstrap","n":24}}' "$tmp/jc"
has '"overall":{"score":83.33,"cells":6,"samples":24,"interval":{"lo":70.83,"hi":95.83,"method":"bootstrap","n":24},"delta":29.16,"delta_interval":{"lo":8.33,"hi":50.0,"method":"paired-bootstrap","n":24}}' "$tmp/jc"
# a report JSON is accepted as a run list too
$LCX report "$tmp/j" >"$tmp/t3" || fail "report of a report JSON"
has "                   gated  100.00 (+12.50)   87.50 (+25.00)  62.50 (+50.00*)" "$tmp/t3"

# ---- sweep grid ----
$LCX report $F/sweep >"$tmp/s" || fail "report sweep"
has "yarn 1, temp 1       87.50      62.50      12.50" "$tmp/s"
has "yarn 4, temp 1      100.00*     87.50*     62.50*" "$tmp/s"
has "yarn 8, temp 1.2         -          -          -" "$tmp/s"

# ---- plots ----
$LCX report $F/base $F/gated --plot "$tmp/plots" >/dev/null 2>&1 || fail "report --plot"
$LCX report $F/sweep --plot "$tmp/plots" >/dev/null 2>&1 || fail "report sweep --plot"
for f in scores probe sweep; do
    grep -q "<svg" "$tmp/plots/$f.svg" || fail "$f.svg is not SVG"
    grep -q "</svg>" "$tmp/plots/$f.svg" || fail "$f.svg is not whole"
done
grep -qF "gated" "$tmp/plots/scores.svg" || fail "scores.svg lacks the run names"
# error bars: the means' intervals (gated at 4096: 25-87.5)
grep -qF 'class="err s1" data-x="4096" data-lo="25" data-hi="87.5"' "$tmp/plots/scores.svg" ||
    fail "scores.svg lacks the error bars"
# no probe.svg unless every run has probe.json
mkdir -p "$tmp/noprobe" && cp -r $F/gated "$tmp/noprobe/gated" && rm "$tmp/noprobe/gated/probe.json"
$LCX report $F/base "$tmp/noprobe/gated" --plot "$tmp/plots2" >/dev/null 2>&1 || fail "plot without probe"
[ -f "$tmp/plots2/scores.svg" ] || fail "no scores.svg"
[ -e "$tmp/plots2/probe.svg" ] && fail "probe.svg without probes"

# ---- lcx check ----
# The fixture runs hold the same samples (same indices and answers; the
# records carry no input), so every cell is paired: exact McNemar.
$LCX report $F/base --format json >"$tmp/base.json" || fail "baseline json"
$LCX check $F/gated --baseline "$tmp/base.json" >"$tmp/c" 2>&1 || fail "check gated against base"
has "OK: gated against base: 6 cells" "$tmp/c"
has "qa_1                   4096  mcnemar         4      0.00     50.00   -50.00     0     2       0.5         1  ok" "$tmp/c"
has "paired: 6 of 6 cells, samples matched by index and a SHA-256 of their answers (the records carry no input)" "$tmp/c"
# base against gated: 2 of 4 samples lost in a cell is p = 0.5, noise
$LCX check $F/base --baseline $F/gated >"$tmp/c" 2>&1 || fail "check base against gated (n=4)"
has "qa_1                   4096  mcnemar         4     50.00      0.00    50.00     2     0       0.5         1  ok" "$tmp/c"
# unpaired, the same: the Agresti-Caffo bound allows 58.54 points at n = 4
$LCX check $F/base --baseline $F/gated --unpaired >"$tmp/c" 2>&1 || fail "check base against gated, unpaired"
has "qa_1                   4096  unpaired      4/4     50.00      0.00    50.00     -     -    0.0952     0.571  ok" "$tmp/c"
# ... but at 50% confidence with Benjamini-Hochberg the drops fail
# (BH is step-up: every p <= 0.276 of six cells is adjusted to 0.331 < 0.5)
$LCX check $F/base --baseline $F/gated --unpaired --confidence 0.5 --correction bh >"$tmp/c" 2>&1
[ $? = 1 ] || { cat "$tmp/c"; fail "check at 50% confidence should fail"; }
has "REGRESSED: base against gated: 5 of 6 cells" "$tmp/c"
has "qa_1 @ 4096: dropped 50.00, allowed 16.67 on its own (unpaired: --unpaired)" "$tmp/c"

# Large runs: 200 samples, 100 -> 80 regresses (unpaired bound 15.08 points;
# paired, 40 samples lost and none won).
mkrun() { # DIR SAMPLES HITS: niah_single_1 at 1024, HITS of SAMPLES right
    mkdir -p "$1/pred/1024"
    printf '{"config": {"tasks": ["niah_single_1"], "lengths": [1024], "samples": %s, "backend": {"kind": "local", "model": "m"}}}\n' "$2" >"$1/run.json"
    awk -v n="$2" -v h="$3" 'BEGIN { for (i = 0; i < n; i++) printf "{\"index\":%d,\"task\":\"niah_single_1\",\"outputs\":[\"%d\"],\"pred\":\"%s\"}\n", i, 1000000 + i, (i < h ? 1000000 + i : "none") }' >"$1/pred/1024/niah_single_1.jsonl"
}
mkrun "$tmp/big_base" 200 200
mkrun "$tmp/big_cur" 200 160
mkrun "$tmp/small_base" 5 5
mkrun "$tmp/small_cur" 5 4
$LCX check "$tmp/small_cur" --baseline "$tmp/small_base" >"$tmp/c" 2>&1 || fail "5 samples 100 -> 80 should pass"
$LCX check "$tmp/small_cur" --baseline "$tmp/small_base" --unpaired >"$tmp/c" 2>&1 || fail "5 samples 100 -> 80 should pass unpaired"
$LCX check "$tmp/big_cur" --baseline "$tmp/big_base" >"$tmp/c" 2>"$tmp/ce"
[ $? = 1 ] || { cat "$tmp/c" "$tmp/ce"; fail "200 samples 100 -> 80 should fail"; }
has "REGRESSED: big_cur against big_base: 1 of 1 cells" "$tmp/c"
has "niah_single_1 @ 1024: lost 40 samples (lower than in the baseline): 160 161 162" "$tmp/c"
$LCX check "$tmp/big_cur" --baseline "$tmp/big_base" --unpaired >"$tmp/c" 2>"$tmp/ce"
[ $? = 1 ] || { cat "$tmp/c" "$tmp/ce"; fail "200 samples 100 -> 80 should fail unpaired"; }
has "niah_single_1 @ 1024: dropped 20.00, allowed 4.92 on its own (unpaired: --unpaired)" "$tmp/c"
$LCX check "$tmp/big_cur" --baseline "$tmp/big_base" --unpaired --tolerance 16 >/dev/null || fail "tolerance 16 (bound 15.08)"
$LCX check "$tmp/big_cur" --baseline "$tmp/big_base" --unpaired --tolerance 15 >/dev/null
[ $? = 1 ] || fail "tolerance 15 (bound 15.08) should fail"
# paired, the tolerance is a floor on the observed drop
$LCX check "$tmp/big_cur" --baseline "$tmp/big_base" --tolerance 19 >/dev/null
[ $? = 1 ] || fail "paired, tolerance 19 should fail a 20-point drop"
$LCX check "$tmp/big_cur" --baseline "$tmp/big_base" --tolerance 20 >/dev/null || fail "exactly at tolerance"
# a report JSON as the current run
$LCX report "$tmp/big_cur" --format json >"$tmp/cur.json"
$LCX check "$tmp/cur.json" --baseline "$tmp/big_base" >/dev/null
[ $? = 1 ] || fail "report JSON as CURRENT"

# ---- bad input: exit 2, one line ----
expect_error "$tmp/nope: no such file or directory" $LCX report "$tmp/nope"
mkdir -p "$tmp/empty"
expect_error "$tmp/empty: no run.json" $LCX report "$tmp/empty"
cp -r $F/base "$tmp/partial"
sed -i '$d' "$tmp/partial/pred/2048/qa_1.jsonl"
expect_error "$tmp/partial: partial run: cell qa_1 @ 2048: 3 of 4 samples done" $LCX report $F/base "$tmp/partial"
cp -r $F/base "$tmp/failed"
sed -i '2s/.*/{"index":1,"task":"qa_1","outputs":["7000001"],"pred":"","max_length":2048,"error":"HTTP 500"}/' "$tmp/failed/pred/2048/qa_1.jsonl"
expect_error "cell qa_1 @ 2048: 3 of 4 samples done (1 failed with a backend error" $LCX report "$tmp/failed"
cp -r $F/base "$tmp/nofile"
rm "$tmp/nofile/pred/4096/niah_single_1.jsonl"
expect_error "$tmp/nofile: partial run: cell niah_single_1 @ 4096: no predictions" $LCX report "$tmp/nofile"
cp -r $F/base "$tmp/torn"
printf '{"index":3,"task":"qa_1","outp' >>"$tmp/torn/pred/4096/qa_1.jsonl"
expect_error "cell qa_1 @ 4096: torn last record" $LCX report "$tmp/torn"
cp -r $F/base "$tmp/short"
rm -r "$tmp/short/pred/4096"
sed -i 's/"lengths": \[/"lengths": [1024, 2048], "old": [/' "$tmp/short/run.json"
expect_error "runs cover different lengths: base ($F/base) has 1024,2048,4096, short ($tmp/short) has 1024,2048" \
    $LCX report $F/base "$tmp/short"
expect_error "--format: 'xml'" $LCX report $F/base --format xml
expect_error "--names: 1 name for 2 runs" $LCX report $F/base $F/gated --names a
expect_error "--threshold: 'x'" $LCX report $F/base --threshold x
expect_error "is a sweep directory: report it on its own" $LCX report $F/sweep $F/base
expect_error "no run directory given" $LCX report

# check
expect_error "--baseline FILE_OR_RUN is required" $LCX check $F/base
printf '{"scores": {"1024": {}}, "means": {"1024": 0}, "nulls": {}}\n' >"$tmp/summary.json"
expect_error "$tmp/summary.json is a summary.json (lcx run's scores), not an lcx-report JSON" \
    $LCX check $F/gated --baseline "$tmp/summary.json"
expect_error "$F/sweep/sweep.json is a sweep.json" $LCX check $F/gated --baseline $F/sweep/sweep.json
expect_error "$F/base/run.json is a run.json" $LCX check $F/gated --baseline $F/base/run.json
expect_error "holds a report of 2 runs" $LCX check $F/gated --baseline "$tmp/j"
expect_error "$F/sweep is a sweep directory" $LCX check $F/gated --baseline $F/sweep
expect_error "$tmp/partial: partial run: cell qa_1 @ 2048" $LCX check "$tmp/partial" --baseline "$tmp/base.json"
expect_error "$tmp/nope: no such file or directory" $LCX check "$tmp/nope" --baseline "$tmp/base.json"
expect_error "runs cover different lengths" $LCX check "$tmp/short" --baseline "$tmp/base.json"
cp -r $F/base "$tmp/notasks"
rm "$tmp/notasks"/pred/*/qa_1.jsonl
sed -i 's/"qa_1"//; s/"niah_single_1",/"niah_single_1"/' "$tmp/notasks/run.json"
expect_error "cell qa_1 @ 1024 of the baseline $F/base is missing from the current run $tmp/notasks" \
    $LCX check "$tmp/notasks" --baseline "$tmp/base.json"
expect_error "--tolerance: -1 is negative" $LCX check $F/gated --baseline "$tmp/base.json" --tolerance -1
expect_error "--confidence: 1 is not in [0.5, 1)" $LCX check $F/gated --baseline "$tmp/base.json" --confidence 1
exit 0
