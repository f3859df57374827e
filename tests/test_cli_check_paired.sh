#!/bin/sh
# lcx check's paired tests on crafted run directories: 200 samples of
# niah_single_1 where 20 flip from right to wrong fail the paired check
# (exact McNemar, p = 2 / 2^20) where the unpaired bound passes them; 10
# flips each way pass; a partial-credit cell goes through the sign-flip
# test; samples whose input differs fall back to the unpaired test; a
# report JSON baseline keeps the samples; a run that says its backend is
# not deterministic is warned about.
set -u
LCX=${LCX:-./lcx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

has() { grep -qF -- "$1" "$2" || { cat "$2"; fail "'$1' not in $2"; }; }

# mkrun DIR SAMPLES RULE [DETERMINISTIC]: niah_single_1 at 1024; sample i is
# answered right when the awk expression RULE holds for i. Each record
# carries its input ("haystack i").
mkrun() {
    mkdir -p "$1/pred/1024"
    det=""
    [ -n "${4:-}" ] && det=", \"runtime\": {\"deterministic\": $4}"
    printf '{"config": {"tasks": ["niah_single_1"], "lengths": [1024], "samples": %s, "seed": 42, "backend": {"kind": "local", "model": "m"}}%s}\n' "$2" "$det" >"$1/run.json"
    awk -v n="$2" "BEGIN { for (i = 0; i < n; i++) printf \"{\\\"index\\\":%d,\\\"task\\\":\\\"niah_single_1\\\",\\\"input\\\":\\\"haystack %d\\\",\\\"answer_prefix\\\":\\\"\\\",\\\"outputs\\\":[\\\"%d\\\"],\\\"pred\\\":\\\"%s\\\"}\\n\", i, i, 1000000 + i, (($3) ? 1000000 + i : \"none\") }" >"$1/pred/1024/niah_single_1.jsonl"
}

# 100 of 200 right; then the same 200 samples with 20 of the right ones
# (0..19) wrong: 80 of 200.
mkrun "$tmp/base" 200 "i < 100"
mkrun "$tmp/lost20" 200 "i >= 20 && i < 100"
[ "$(grep -c '"pred":"none"' "$tmp/lost20/pred/1024/niah_single_1.jsonl")" = 120 ] || fail "lost20 is not 80/200"

# Unpaired at 99%: L = 0.09901 - 2.3263 * 0.04926 = -0.0156 < 0, a pass.
$LCX check "$tmp/lost20" --baseline "$tmp/base" --confidence 0.99 --unpaired >"$tmp/c" 2>&1 ||
    { cat "$tmp/c"; fail "the unpaired bound should pass 20 flips at 99%"; }
has "OK: lost20 against base: 1 cells" "$tmp/c"
has "niah_single_1          1024  unpaired  200/200     50.00     40.00    10.00     -     -    0.0222    0.0222  ok" "$tmp/c"
has "unpaired: every cell: --unpaired" "$tmp/c"

# Paired: McNemar on 20 lost, 0 won: p = 2 / 2^20 = 1.9e-06, fails at 99%.
$LCX check "$tmp/lost20" --baseline "$tmp/base" --confidence 0.99 >"$tmp/c" 2>&1
[ $? = 1 ] || { cat "$tmp/c"; fail "the paired check should fail 20 flips one way"; }
has "REGRESSED: lost20 against base: 1 of 1 cells" "$tmp/c"
has "mcnemar       200     50.00     40.00    10.00    20     0  1.91e-06  1.91e-06  REGRESSED" "$tmp/c"
has "niah_single_1 @ 1024: lost 20 samples (lower than in the baseline): 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19" "$tmp/c"
has "won 0: none" "$tmp/c"
has "samples matched by index and a SHA-256 of input, answer prefix and answers" "$tmp/c"
has "Holm's correction over all 1 cells" "$tmp/c"
# and at the default 95%, with Benjamini-Hochberg named
$LCX check "$tmp/lost20" --baseline "$tmp/base" --correction bh >"$tmp/c" 2>&1
[ $? = 1 ] || fail "paired check at 95% should fail"
has "Benjamini-Hochberg-adjusted" "$tmp/c"

# Noise: 10 right answers lost (0..9), 10 wrong ones won (100..109): b = c
# = 10, p = 1.
mkrun "$tmp/noise" 200 "(i >= 10 && i < 110)"
$LCX check "$tmp/noise" --baseline "$tmp/base" >"$tmp/c" 2>&1 || { cat "$tmp/c"; fail "noise should pass"; }
has "mcnemar       200     50.00     50.00     0.00    10    10         1         1  ok" "$tmp/c"

# A different input at one index: the samples differ, the unpaired test
# (which fails this 10-point drop at 95%: L = 1.8 points).
cp -r "$tmp/lost20" "$tmp/otherinput"
sed -i 's/"haystack 7"/"haystack seven"/' "$tmp/otherinput/pred/1024/niah_single_1.jsonl"
$LCX check "$tmp/otherinput" --baseline "$tmp/base" >"$tmp/c" 2>&1
[ $? = 1 ] || { cat "$tmp/c"; fail "the unpaired fallback should fail a 10-point drop at 95%"; }
has "unpaired  200/200" "$tmp/c"
has "unpaired: every cell: sample 7 differs (its input or answers)" "$tmp/c"
has "dropped 10.00, allowed 8.20 on its own (unpaired: sample 7 differs" "$tmp/c"

# A report JSON baseline keeps the samples: still paired.
$LCX report "$tmp/base" --format json >"$tmp/base.json" || fail "report json"
has '"ids_from": "input"' "$tmp/base.json"
$LCX check "$tmp/lost20" --baseline "$tmp/base.json" --confidence 0.99 >"$tmp/c" 2>&1
[ $? = 1 ] || { cat "$tmp/c"; fail "a JSON baseline should pair"; }
has "1.91e-06" "$tmp/c"
# ... and one without per_sample (an older lcx) is compared unpaired
printf '{"kind": "lcx-report", "version": 1, "runs": [{"name": "base", "lengths": [1024], "cells": [{"task": "niah_single_1", "length": 1024, "score": 50, "samples": 200}]}]}\n' >"$tmp/old.json"
$LCX check "$tmp/lost20" --baseline "$tmp/old.json" --confidence 0.99 >"$tmp/c" 2>&1 ||
    { cat "$tmp/c"; fail "an old JSON baseline: unpaired, passes at 99%"; }
has "unpaired: every cell: the baseline has no per-sample records" "$tmp/c"

# Partial credit: niah_multivalue (4 values, match_all). 30 samples; the
# current run finds 3 of 4 in 25 of them: 25 non-zero differences of 0.25,
# past exact enumeration (2^20): Monte Carlo, p = 1 / 20001.
mkmv() { # DIR RULE: sample i finds all 4 values when RULE holds, else the first 3
    mkdir -p "$1/pred/1024"
    printf '{"config": {"tasks": ["niah_multivalue"], "lengths": [1024], "samples": 30, "backend": {"kind": "local", "model": "m"}}}\n' >"$1/run.json"
    awk "BEGIN { for (i = 0; i < 30; i++) printf \"{\\\"index\\\":%d,\\\"task\\\":\\\"niah_multivalue\\\",\\\"outputs\\\":[\\\"a%d\\\",\\\"b%d\\\",\\\"c%d\\\",\\\"d%d\\\"],\\\"pred\\\":\\\"a%d b%d c%d %s\\\"}\\n\", i, i, i, i, i, i, i, i, (($2) ? \"d\" i : \"\") }" >"$1/pred/1024/niah_multivalue.jsonl"
}
mkmv "$tmp/mv_base" "1"
mkmv "$tmp/mv_cur" "i >= 25"
$LCX check "$tmp/mv_cur" --baseline "$tmp/mv_base" >"$tmp/c" 2>&1
[ $? = 1 ] || { cat "$tmp/c"; fail "25 partial losses should regress"; }
has "sign-flip      30    100.00     79.17    20.83    25     0     5e-05     5e-05  REGRESSED" "$tmp/c"
# five of them: exact, p = 2 / 2^5 = 0.0625, passes
mkmv "$tmp/mv_cur5" "i >= 5"
$LCX check "$tmp/mv_cur5" --baseline "$tmp/mv_base" >"$tmp/c" 2>&1 || { cat "$tmp/c"; fail "5 partial losses pass"; }
has "sign-flip      30    100.00     95.83     4.17     5     0    0.0625    0.0625  ok" "$tmp/c"

# A backend that says it is not deterministic: a warning, the same verdict.
mkrun "$tmp/nondet" 200 "i < 100" false
$LCX check "$tmp/nondet" --baseline "$tmp/base" >"$tmp/c" 2>"$tmp/e" || fail "nondet check"
has "warning: nondet ($tmp/nondet) says its backend is not deterministic" "$tmp/e"
mkrun "$tmp/det" 200 "i < 100" true
$LCX check "$tmp/det" --baseline "$tmp/base" >"$tmp/c" 2>"$tmp/e" || fail "det check"
[ -s "$tmp/e" ] && { cat "$tmp/e"; fail "a deterministic run is warned about"; }

# --lengths: a run still going at a longer length is reported and checked
# on the finished ones (its run.json lists 1024 and 4096; only 1024 is there).
cp -r "$tmp/lost20" "$tmp/going"
sed -i 's/"lengths": \[1024\]/"lengths": [1024, 4096]/' "$tmp/going/run.json"
expect_error "partial run" $LCX report "$tmp/going"
$LCX report "$tmp/going" --lengths 1024 >"$tmp/c" 2>&1 || { cat "$tmp/c"; fail "report --lengths"; }
has "niah_single_1" "$tmp/c"
grep -q "4096" "$tmp/c" && fail "report --lengths 1024 shows 4096"
$LCX check "$tmp/going" --baseline "$tmp/base" --lengths 1024 >"$tmp/c" 2>&1
[ $? = 1 ] || { cat "$tmp/c"; fail "check --lengths: the 20 flips should regress"; }
has "REGRESSED: going against base" "$tmp/c"
expect_error "the run has no length 2048 (--lengths)" $LCX check "$tmp/going" --baseline "$tmp/base" --lengths 2048
expect_error "--lengths goes with run directories" $LCX report "$tmp/base.json" --lengths 1024
expect_error "--correction: 'bonferroni' is not holm or bh" $LCX check "$tmp/base" --baseline "$tmp/base" --correction bonferroni
exit 0
