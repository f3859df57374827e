#!/bin/sh
# lcx serve against clients that misbehave (tests/tools/lcx_httpfault.c):
# a body cut short, a client that stalls mid-body (closed after
# --idle-timeout), a client that goes away mid-stream (its job cancelled),
# bytes that are not HTTP. After each the server still answers, and it
# exits 0 on SIGTERM at the end.
set -u
LCX=${LCX:-./lcx}
FAULT=${BUILD:-build}/tools/lcx_httpfault
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
. tests/lib.sh
command -v curl >/dev/null || { echo "SKIPPED: curl not found"; exit 0; }
export OMP_WAIT_POLICY=passive
unset LCX_API_KEY
$LCX serve --model models/tiny-baseline --port 0 --port-file "$tmp/port" --idle-timeout 1 \
    --max-context 4096 2>"$tmp/log" &
spid=$!
pids=$spid
n=0
while [ ! -s "$tmp/port" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
[ -s "$tmp/port" ] || { cat "$tmp/log"; fail "lcx serve did not start"; }
port=$(cat "$tmp/port")
url="http://127.0.0.1:$port"
answers() {
    st=$(curl -s -o "$tmp/body" -w '%{http_code}' -d '{"prompt": "One of", "max_tokens": 3}' "$url/v1/completions")
    [ "$st" = 200 ] || { cat "$tmp/log"; fail "after $1: HTTP $st"; }
}
$FAULT "$port" half || fail "half body client"
answers "a half body"
$FAULT "$port" stall 20 || { cat "$tmp/log"; fail "a stalled client was not closed"; }
answers "a stalled client"
for k in 1 2 3; do $FAULT "$port" midstream 1500 || fail "midstream client"; done
answers "clients gone mid-stream"
$FAULT "$port" garbage || fail "garbage client"
answers "bytes that are not HTTP"
# the streams were cancelled, not run to their budget
n=0
while [ "$(grep -c 'cancelled (client gone)' "$tmp/log")" -lt 3 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
[ "$(grep -c 'cancelled (client gone)' "$tmp/log")" = 3 ] || { cat "$tmp/log"; fail "the streams were not cancelled"; }
grep -q 'timed out' "$tmp/log" || { cat "$tmp/log"; fail "no access line for the stalled client"; }
[ -n "${SHOW_LOG:-}" ] && cat "$tmp/log"
kill -TERM $spid
wait $spid || fail "lcx serve exited $? after SIGTERM"
pids=""
echo "ok: faults"
