#!/bin/sh
# Length fitting against a server's /tokenize (lcx run --remote-tokenize)
# that takes the time a real tokenizer takes (tests/tools/lcx_testd.c
# --tokenize-mbps): the run takes seconds, no probe is far above its target,
# the bytes sent stay bounded, both fitting methods; and servers that
# answer with errors or absurd counts stop the run with one line, exit 2,
# before anything is written.
set -u
LCX=${LCX:-./lcx}
TESTD=${BUILD:-build}/tools/lcx_testd
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
. tests/lib.sh

start_server() { n_=$1; shift; testd_start "$n_" --stats "$tmp/$n_.stats" "$@"; }
now() { date +%s.%N; }

# 1. All 13 tasks at 4096 and 8192 tokens, 2 samples, against a tokenizer
#    counting 5 MB/s (a byte a token: 8192 tokens are 8 KB, ~2.6 ms a count).
for fit in tight ruler; do
    start_server "s-$fit" --tokenize-mbps 5
    t0=$(now)
    $LCX run --endpoint "$url" --api completions --remote-tokenize --tasks all --lengths 4096,8192 \
        --samples 2 --fit $fit --out "$tmp/r-$fit" --quiet 2>"$tmp/err-$fit" ||
        { cat "$tmp/err-$fit"; fail "--fit $fit run"; }
    t1=$(now)
    stop_server "$last_pid"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
    reqs=$(json_num "$tmp/s-$fit.stats" tokenize_requests)
    bytes=$(json_num "$tmp/s-$fit.stats" tokenize_bytes)
    maxb=$(json_num "$tmp/s-$fit.stats" tokenize_max_bytes)
    echo "--fit $fit: $secs s, $reqs /tokenize requests, $bytes bytes, largest $maxb"
    # (the time is printed, not asserted: what keeps it short is what the
    # bounds below check, the bytes sent and the largest prompt)
    # never far above the target: the largest prompt sent is within 25 % of
    # the largest length (one token a byte here)
    [ "$maxb" -le 10240 ] || fail "--fit $fit: a $maxb-byte prompt for an 8192 target"
    # bounded in total: 13 tasks at 4096 and 8192, 2 samples, at most 8
    # prompts' worth a sample (a task's samples reuse what the first measured)
    [ "$bytes" -le $((8 * 2 * 13 * (4096 + 8192))) ] || fail "--fit $fit: $bytes bytes sent"
    grep -q "\"fit\": \"$fit\"" "$tmp/r-$fit/run.json" || fail "--fit $fit not in run.json"
    grep -q '"tokenize_requests"' "$tmp/r-$fit/run.json" || fail "tokenize requests not in run.json"
done
# RULER's record length counts tokens_to_generate; tight's does not.
grep -q '"length":4[0-9][0-9][0-9],"max_length":4096,"tokens_to_generate":128' \
    "$tmp/r-ruler/pred/4096/niah_single_1.jsonl" || fail "ruler length"
awk -F'"length":' '{split($2, a, ","); if (a[1] + 128 > 4096) bad = 1} END {exit bad}' \
    "$tmp/r-tight/pred/4096/niah_single_1.jsonl" || fail "tight: over budget"

# 2. Bad tokenizer servers: one line, exit 2, nothing written.
for bad in zero double 500; do
    start_server "bad-$bad" --tokenize-bad $bad
    case $bad in
    500) want="HTTP 500" ;;
    *) want="absurd token count" ;;
    esac
    expect_error "$want" $LCX run --endpoint "$url" --api completions --remote-tokenize \
        --tasks niah_single_1 --lengths 4096 --samples 2 --out "$tmp/bad-$bad" --quiet
    [ -e "$tmp/bad-$bad" ] && fail "--tokenize-bad $bad: $tmp/bad-$bad was written"
    stop_server "$last_pid"
done
exit 0
