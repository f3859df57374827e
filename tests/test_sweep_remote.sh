#!/bin/sh
# lcx sweep on servers: --endpoint (lcx serve, RoPE per request, confirmed
# by each reply) and --launch (a server started per setting with its RoPE
# fixed at start): each setting's predictions equal the local sweep's; a
# launched sweep SIGKILLed mid-way leaves no server behind and resumes;
# a server that ignores per-request RoPE is refused; bad input.
set -u
LCX=${LCX:-./lcx}
TESTD=${BUILD:-build}/tools/lcx_testd
MODEL=tests/fixtures/run_model
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    pkill -f "$tmp/srv" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
. tests/lib.sh
case $LCX in /*) ;; *) LCX=$PWD/$LCX ;; esac

SUITE="--tasks niah_single_1 --lengths 600 --samples 2 --quiet"
GRID="--yarn-factors 1,4 --attn-temperatures 1,1.5"
SETTINGS="yarn1-temp1 yarn1-temp1.5 yarn4-temp1 yarn4-temp1.5"
preds() { grep -o '"pred":"[^"]*"' "$1/pred/600/niah_single_1.jsonl"; }
# same_as_local DIR: every setting's predictions equal the local sweep's.
same_as_local() {
    for d in $SETTINGS; do
        [ "$(preds "$1/$d" | wc -l)" = 2 ] || fail "$1/$d: not 2 predictions"
        preds "$tmp/local/$d" >"$tmp/a"
        preds "$1/$d" >"$tmp/b"
        cmp -s "$tmp/a" "$tmp/b" || fail "$1/$d: predictions differ from the local sweep's"
    done
}
$LCX sweep --out "$tmp/local" --model $MODEL $GRID $SUITE >/dev/null || fail "local sweep"
# The settings must differ, or the comparisons below would prove nothing.
preds "$tmp/local/yarn1-temp1" >"$tmp/a"
preds "$tmp/local/yarn4-temp1.5" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" && fail "the local settings predict the same: the test cannot tell them apart"

# 1. --endpoint: one lcx serve, RoPE sent per request.
$LCX serve --model $MODEL --port 0 --port-file "$tmp/srv.port" --max-context 4096 >"$tmp/serve.log" 2>&1 &
pids="$pids $!"
n=0
while [ ! -s "$tmp/srv.port" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
url="http://127.0.0.1:$(cat "$tmp/srv.port")"
$LCX sweep --out "$tmp/ep" --endpoint "$url" --tokenizer $MODEL $GRID $SUITE >"$tmp/ep.grid" || fail "endpoint sweep"
same_as_local "$tmp/ep"
grep -q '"backend": "endpoint"' "$tmp/ep/sweep.json" || fail "sweep.json: backend"
# lcx serve answers greedy requests deterministically, and says it is lcx serve;
# so does the local engine.
grep -q '"deterministic": true' "$tmp/ep/yarn4-temp1/run.json" || fail "endpoint run.json: deterministic"
grep -q '"deterministic": true' "$tmp/local/yarn4-temp1/run.json" || fail "local run.json: deterministic"
grep -q '^yarn 4, temp 1.5 ' "$tmp/ep.grid" || fail "endpoint sweep: no grid"

# A server that does not apply RoPE per request (lcx_testd ignores it): refused.
$LCX gen $SUITE --out "$tmp/data" || fail "gen"
$TESTD --port-file "$tmp/testd.port" --data "$tmp/data" --max-seconds 120 &
pids="$pids $!"
n=0
while [ ! -s "$tmp/testd.port" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
expect_error "does not say which RoPE it used" \
    $LCX sweep --out "$tmp/ign" --endpoint "http://127.0.0.1:$(cat "$tmp/testd.port")" --data "$tmp/data" $GRID $SUITE
grep -q '"pred": *"' "$tmp"/ign/*/pred/600/*.jsonl 2>/dev/null && fail "an unconfirmed setting recorded predictions"

# 2. --launch: a server per setting, killed mid-sweep, resumed.
LAUNCH="$LCX serve --model $MODEL --port {port} --port-file $tmp/srv.{port} --max-context 4096 --yarn-factor {factor} --attn-temperature {temperature}"
$LCX sweep --out "$tmp/la" --launch "$LAUNCH" --launch-grace 2 --tokenizer $MODEL $GRID $SUITE >/dev/null 2>"$tmp/la.err" &
sweep=$!
n=0
while ! grep -qs "POST /v1/completions" "$tmp/la/yarn1-temp1.5/server.log" && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
kill -9 $sweep
wait $sweep 2>/dev/null
# The orphaned server is stopped by the supervisor (SIGTERM, SIGKILL after 2 s).
n=0
while pgrep -f "$tmp/srv\.[0-9]" >/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
pgrep -f "$tmp/srv\.[0-9]" >/dev/null && fail "a launched server outlived the SIGKILLed sweep"
[ -e "$tmp/la/yarn4-temp1.5/run.json" ] && fail "the sweep was not killed mid-way (the test needs a slower setting)"
$LCX sweep --out "$tmp/la" --launch "$LAUNCH" --launch-grace 2 --tokenizer $MODEL $GRID $SUITE >/dev/null 2>"$tmp/la.err" ||
    { cat "$tmp/la.err"; fail "resumed launch sweep"; }
same_as_local "$tmp/la"
pgrep -f "$tmp/srv\.[0-9]" >/dev/null && fail "a launched server still runs after the sweep"
for d in $SETTINGS; do
    [ -s "$tmp/la/$d/server.log" ] || fail "$d: no server.log"
done
grep -q 'factor=4 .*attn_temperature=1.5' "$tmp/la/yarn4-temp1.5/server.log" || fail "yarn4-temp1.5: the server ran another RoPE"
tr -d '\n' <"$tmp/la/yarn4-temp1.5/run.json" | grep -q '"--launch", *"[^"]*--yarn-factor 4 --attn-temperature 1.5"' ||
    fail "run.json does not record the launched command"

# 3. Bad input and servers that do not come up: one line, exit 2.
expect_error "the server exited (status 3) before http://127.0.0.1:" \
    $LCX sweep --out "$tmp/x1" --launch "echo loading {port}; echo out of memory >&2; exit 3 # {factor}" --tokenizer $MODEL --yarn-factors 2 $SUITE
grep -q "ends: loading [0-9]* | out of memory" "$tmp/err" || { cat "$tmp/err"; fail "the exit error lacks the server's output"; }
expect_error "the server did not become healthy in 1 s" \
    $LCX sweep --out "$tmp/x2" --launch "sleep 30 # {port} {factor}" --launch-timeout 1 --launch-grace 1 --tokenizer $MODEL --yarn-factors 2 $SUITE
expect_error "--launch: the command has no {port}" \
    $LCX sweep --out "$tmp/x" --launch "llama-server --rope-scale {factor}" --tokenizer $MODEL --yarn-factors 2 $SUITE
expect_error "--launch: the command has no {factor}, but --yarn-factors are swept" \
    $LCX sweep --out "$tmp/x" --launch "llama-server --port {port}" --tokenizer $MODEL --yarn-factors 2 $SUITE
expect_error "--launch: RoPE options go in the server's command" \
    $LCX sweep --out "$tmp/x" --launch "s --port {port} {factor}" --yarn-orig-ctx 64 --tokenizer $MODEL --yarn-factors 2 $SUITE
expect_error "give one of --model DIR" \
    $LCX sweep --out "$tmp/x" --model $MODEL --endpoint "$url" --yarn-factors 2 $SUITE
expect_error "give one of --model DIR" $LCX sweep --out "$tmp/x" --yarn-factors 2 $SUITE
expect_error "--launch-timeout: 'x' is not a number" \
    $LCX sweep --out "$tmp/x" --launch "s {port} {factor}" --launch-timeout x --yarn-factors 2 $SUITE
expect_error "a remote model needs its own token counts" \
    $LCX sweep --out "$tmp/x" --endpoint "$url" --yarn-factors 2 $SUITE
[ -e "$tmp/x" ] && fail "bad input left $tmp/x"
echo "ok"
