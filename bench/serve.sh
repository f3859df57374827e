#!/bin/sh
# bench/serve: lcx serve under load: wrk (Debian's) at 32 connections on
# loopback for DURATION seconds (default 20), twice, posting a short
# completion (8 tokens) to models/tiny-baseline with --parallel 2 and
# --queue QUEUE (default 16: most requests get 429; 64: every one waits). Prints wrk's figures, every status counted (each
# must be 200 or 429), socket errors, and the server's RSS before, between
# and after the runs (a leak grows it run after run).
set -e
LCX=${LCX:-./lcx}
DURATION=${DURATION:-20}
QUEUE=${QUEUE:-16}
command -v wrk >/dev/null || { echo "serve: skipped (needs wrk: apt-get install wrk)"; exit 0; }
tmp=$(mktemp -d)
trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
OMP_WAIT_POLICY=passive $LCX serve --model models/tiny-baseline --port 0 --port-file "$tmp/port" \
    --parallel 2 --queue "$QUEUE" 2>"$tmp/log" &
spid=$!
while [ ! -s "$tmp/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cat "$tmp/port")"
rss() { awk '/^VmRSS/ {print $2 " kB"}' /proc/$spid/status; }
curl -s -o /dev/null -d '{"prompt": "warm up", "max_tokens": 8}' "$url/v1/completions"
echo "serve: RSS after start: $(rss)"
for run in 1 2; do
    wrk -t 2 -c 32 -d "${DURATION}s" --timeout 30s -s bench/serve.lua "$url" | tee "$tmp/wrk$run"
    echo "serve: RSS after run $run: $(rss)"
done
kill -0 $spid && echo "serve: the server is up; $(grep -c '" 200 ' "$tmp/log") requests answered 200, $(grep -c '" 429 ' "$tmp/log") answered 429"
grep -v -E '" (200|429) |^serve: (model|rope|listening|[0-9]+ sessions?) ' "$tmp/log" | sort | uniq -c | sort -rn | head -n 5
