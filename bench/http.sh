#!/bin/sh
# bench/http: lcx run against the instant loopback server (tests/tools/
# lcx_testd) at concurrency 32 with 4K-token prompts (the server counts a
# token per byte). Target: at least 500 requests/s on the 2-core machine.
set -e
LCX=${LCX:-./lcx}
TESTD=${BUILD:-build}/tools/lcx_testd
SAMPLES=${SAMPLES:-200}
LENGTH=${LENGTH:-4096}
tmp=$(mktemp -d)
trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
$LCX gen --tasks all --lengths "$LENGTH" --samples "$SAMPLES" --out "$tmp/data" --quiet
$TESTD --port-file "$tmp/port" --data "$tmp/data" --stats "$tmp/stats" --max-seconds 600 &
spid=$!
while [ ! -s "$tmp/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cat "$tmp/port")"
n=$((SAMPLES * 13))
start=$(date +%s.%N)
$LCX run --endpoint "$url" --api completions --data "$tmp/data" --tasks all --lengths "$LENGTH" \
    --samples "$SAMPLES" --concurrency 32 --out "$tmp/run" --quiet
end=$(date +%s.%N)
bytes=$(cat "$tmp"/data/"$LENGTH"/*.jsonl | wc -c)
awk -v l="$LENGTH" -v n=$n -v s="$start" -v e="$end" -v b="$bytes" 'BEGIN {
    printf "http: %d requests (%d-token prompts, %.1f KB of JSON records each) at concurrency 32 in %.2f s: %.0f requests/s\n",
        n, l, b / n / 1024, e - s, n / (e - s) }'
grep -o '"max_in_flight":[0-9]*' "$tmp/stats"
