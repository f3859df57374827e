#!/bin/sh
# Test of tests/tools/lcx_testd, the loopback LLM-server imitation: endpoint
# reply shapes and reference answers on `lcx gen` data, /tokenize in both
# forms, every fault kind, chat prefill, stats, clean shutdown.
# Environment: LCX (lcx binary), BUILD (absolute build directory).
set -u
SRV="$BUILD/tools/lcx_testd"
T=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
res() { # COND; res $? NAME
    if [ "$1" = 0 ]; then ok "$2"; else fail "$2"; fi
}
has() { grep -qF -- "$2" "$1"; }

[ -x "$SRV" ] || { echo "FAIL: $SRV not built"; exit 1; }

# start NAME ARGS...: start a server, set PORT and PID
start() {
    name=$1
    shift
    "$SRV" --port-file "$T/$name.port" --max-seconds 60 "$@" >"$T/$name.log" 2>&1 &
    PID=$!
    PIDS="$PIDS $PID"
    i=0
    while [ ! -s "$T/$name.port" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
            echo "FAIL: server $name did not start"
            cat "$T/$name.log"
            exit 1
        fi
        sleep 0.05
    done
    PORT=$(cat "$T/$name.port")
}

# stop PID: SIGTERM, then it must exit 0 within 3 s
stop() {
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 60 ] && { fail "server $1 still running 3 s after SIGTERM"; kill -KILL "$1"; break; }
        sleep 0.05
    done
    wait "$1"
    rc=$?
    [ "$rc" = 0 ] || fail "server $1 exited $rc"
}

"$LCX" gen --tasks niah_single_1,qa_1 --lengths 4k --samples 2 --out "$T/data" --quiet ||
    { echo "FAIL: lcx gen"; exit 1; }

# Server without curl: must start and stop cleanly.
if ! command -v curl >/dev/null 2>&1; then
    start bare --data "$T/data"
    stop "$PID"
    echo "SKIP: curl not installed; only start/stop checked"
    [ $fails = 0 ]
    exit
fi

# JSON string of a record's fields, as written in the jsonl (already escaped).
JSTR='"([^"\\]|\\.)*"'
line=$(head -n 1 "$T/data/4096/qa_1.jsonl")
INPUT=$(printf '%s\n' "$line" | sed -E "s/.*\"input\":($JSTR).*/\\1/")
PREFIX=$(printf '%s\n' "$line" | sed -E "s/.*\"answer_prefix\":($JSTR).*/\\1/")
OUTS=$(printf '%s\n' "$line" | sed -E 's/.*"outputs":\[([^]]*)\].*/\1/')
PROMPT="${INPUT%\"}${PREFIX#\"}" # input + answer_prefix as one JSON string
REFS="\" ${OUTS#\"}"
REFS=$(printf '%s' "$REFS" | sed 's/","/, /g') # " a, b, c" as a JSON string
FIRST=$(printf '%s' "$OUTS" | sed -E "s/^($JSTR).*/\\1/")
FIRST="\" ${FIRST#\"}"
PLEN=$(printf '%s' "$line" | sed -E 's/.*"length":([0-9]+).*/\1/')
[ -n "$INPUT" ] && [ "$INPUT" != "$line" ] && [ "$PREFIX" != "$line" ] ||
    { echo "FAIL: cannot parse the generated record"; exit 1; }

printf '{"model":"m","prompt":%s,"max_tokens":32,"temperature":0,"stop":["\\n"],"seed":1}' \
    "$PROMPT" >"$T/compl.json"
printf '{"prompt":%s,"n_predict":32,"temperature":0,"stop":["\\n"]}' "$PROMPT" >"$T/llama.json"
printf '{"model":"m","messages":[{"role":"user","content":%s},{"role":"assistant","content":%s}],"max_tokens":32}' \
    "$INPUT" "$PREFIX" >"$T/prefill.json"
sed 's/}$/,"continue_final_message":true}/' "$T/prefill.json" >"$T/prefill_cont.json"
sed 's/}$/,"add_generation_prompt":false}/' "$T/prefill.json" >"$T/prefill_agp.json"
printf '{"model":"m","messages":[{"role":"system","content":""},{"role":"user","content":%s}]}' \
    "$PROMPT" >"$T/chat.json"

# post PATH BODYFILE OUT [curl args]: prints the HTTP status, headers to OUT.h
post() {
    p=$1 b=$2 o=$3
    shift 3
    curl -s -o "$o" -D "$o.h" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$b" "$@" "http://127.0.0.1:$PORT$p"
}

# ---- main server: endpoints and answers
start main --data "$T/data" --stats "$T/main.stats"
MAIN=$PID
s=$(curl -s -o "$T/h" -w '%{http_code}' "http://127.0.0.1:$PORT/health")
[ "$s" = 200 ] && has "$T/h" '"status":"ok"'; res $? "GET /health"
s=$(curl -s -o "$T/m" -w '%{http_code}' "http://127.0.0.1:$PORT/v1/models")
[ "$s" = 200 ] && has "$T/m" '"id":"lcx-testd"'; res $? "GET /v1/models"

s=$(post /v1/completions "$T/compl.json" "$T/r1" -H 'Authorization: Bearer sk-test-123')
[ "$s" = 200 ]; res $? "completions status"
has "$T/r1" '"object":"text_completion"'; res $? "completions object"
has "$T/r1" '"id":"cmpl-'; res $? "completions id"
has "$T/r1" "\"text\":$REFS"; res $? "completions answer = refs"
has "$T/r1" '"finish_reason":"stop"'; res $? "completions finish_reason"
has "$T/r1" "\"prompt_tokens\":"; res $? "completions usage.prompt_tokens"
has "$T/r1.h" "Connection: keep-alive"; res $? "completions keep-alive"

s=$(post /completion "$T/llama.json" "$T/r2")
[ "$s" = 200 ] && has "$T/r2" "\"content\":$REFS" &&
    has "$T/r2" '"stop":true' && has "$T/r2" '"tokens_predicted":' && has "$T/r2" '"tokens_evaluated":'; res $? "llama /completion"

s=$(post /v1/chat/completions "$T/chat.json" "$T/r3")
[ "$s" = 200 ] && has "$T/r3" '"object":"chat.completion"' &&
    has "$T/r3" "\"message\":{\"role\":\"assistant\",\"content\":$REFS}" && has "$T/r3" '"id":"chatcmpl-'; res $? "chat (user = input+prefix)"
s=$(post /v1/chat/completions "$T/prefill.json" "$T/r4")
[ "$s" = 400 ] &&
    has "$T/r4" "final assistant message is not supported"; res $? "chat prefill without continue_final_message -> 400"
s=$(post /v1/chat/completions "$T/prefill_cont.json" "$T/r5")
[ "$s" = 200 ] && has "$T/r5" "\"content\":$REFS"; res $? "chat prefill with continue_final_message"
s=$(post /v1/chat/completions "$T/prefill_agp.json" "$T/r6")
[ "$s" = 200 ] && has "$T/r6" "\"content\":$REFS"; res $? "chat prefill with add_generation_prompt false"

printf '{"prompt":"not a prompt in the data"}' >"$T/unk.json"
s=$(post /v1/completions "$T/unk.json" "$T/r7")
[ "$s" = 200 ] && has "$T/r7" '"text":"I do not know."' &&
    has "$T/r7" '"prompt_tokens":24,"completion_tokens":14,"total_tokens":38'; res $? "unknown prompt -> I do not know."

printf '{"content":"h\\u00e9!"}' >"$T/tok1.json"
s=$(post /tokenize "$T/tok1.json" "$T/t1")
[ "$s" = 200 ] && [ "$(cat "$T/t1")" = '{"tokens":[104,195,169,33]}' ]; res $? "tokenize llama.cpp form"
printf '{"model":"m","prompt":"h\\u00e9!"}' >"$T/tok2.json"
s=$(post /tokenize "$T/tok2.json" "$T/t2")
[ "$s" = 200 ] &&
    [ "$(cat "$T/t2")" = '{"tokens":[104,195,169,33],"count":4,"max_model_len":1048576}' ]; res $? "tokenize vLLM form"
printf '{"prompt":%s}' "$PROMPT" >"$T/tok3.json"
post /tokenize "$T/tok3.json" "$T/t3" >/dev/null
has "$T/t3" "\"count\":"; res $? "tokenize count of a generated prompt"

s=$(curl -s -o "$T/e1" -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
[ "$s" = 404 ] && has "$T/e1" '"error"'; res $? "unknown path -> 404 JSON"
printf '{"prompt": "x",' >"$T/bad.json"
s=$(post /v1/completions "$T/bad.json" "$T/e2")
[ "$s" = 400 ] && has "$T/e2" '"error"'; res $? "bad JSON -> 400"
s=$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' -d '{"prompt":"x"}' \
    "http://127.0.0.1:$PORT/v1/completions")
[ "$s" = 411 ]; res $? "chunked body -> 411"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
s=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "http://127.0.0.1:$PORT/health")
[ "$s" = 431 ]; res $? "oversized headers -> 431"
s=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H 'Content-Length: 70000000' -H 'Expect:' \
    -d '{}' "http://127.0.0.1:$PORT/v1/completions")
[ "$s" = 413 ]; res $? "body > 64 MB -> 413"
s=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")
[ "$s" = 200 ]; res $? "still healthy after bad requests"

# ---- --answer first / wrong / empty
start first --data "$T/data" --answer first
post /v1/completions "$T/compl.json" "$T/a1" >/dev/null
has "$T/a1" "\"text\":$FIRST,"; res $? "--answer first"
stop "$PID"
start wrong --data "$T/data" --answer wrong
post /v1/completions "$T/compl.json" "$T/a2" >/dev/null
has "$T/a2" '"text":"I do not know."'; res $? "--answer wrong"
stop "$PID"
start empty --data "$T/data" --answer empty
post /v1/completions "$T/compl.json" "$T/a3" >/dev/null
has "$T/a3" '"text":"","logprobs"' && has "$T/a3" '"completion_tokens":0'; res $? "--answer empty"
stop "$PID"

# ---- faults in order: 429, 500, 503, then success
start seq --data "$T/data" --fault 429:1 --fault 500:1 --fault 503:1 --retry-after 7 --stats "$T/seq.stats"
SEQ=$PID
s=$(post /v1/completions "$T/compl.json" "$T/f1")
[ "$s" = 429 ] && grep -qi '^Retry-After: 7' "$T/f1.h"; res $? "fault 429 with Retry-After"
s=$(post /v1/completions "$T/compl.json" "$T/f2")
[ "$s" = 500 ]; res $? "fault 500 second"
s=$(post /tokenize "$T/tok1.json" "$T/f2t")
[ "$s" = 200 ]; res $? "no faults on /tokenize"
s=$(post /v1/chat/completions "$T/chat.json" "$T/f3") # same key: input+prefix
[ "$s" = 503 ]; res $? "fault 503 third (chat shares the prompt key)"
s=$(post /v1/completions "$T/compl.json" "$T/f4")
[ "$s" = 200 ] && has "$T/f4" "\"text\":$REFS"; res $? "attempt 4 succeeds"
s=$(post /v1/completions "$T/unk.json" "$T/f5")
[ "$s" = 429 ]; res $? "faults are per prompt (other prompt: 429 first)"
stop "$SEQ"
has "$T/seq.stats" '"429":2' &&
    has "$T/seq.stats" '"500":1' && has "$T/seq.stats" '"503":1' &&
    has "$T/seq.stats" '"retry_attempts_max":4'; res $? "stats after exit: by_status, retry_attempts_max"

# ---- always + mod: FNV-1a64 % 3 == 0 for p0 and p3 among p0..p5
start mod --fault 500:always:mod=3
got=""
for i in 0 1 2 3 4 5 0 3; do
    printf '{"prompt":"p%s"}' "$i" >"$T/p.json"
    got="$got $(post /v1/completions "$T/p.json" "$T/p.out")"
done
[ "$got" = " 500 200 200 500 200 200 500 500" ]; res $? "500:always:mod=3"
stop "$PID"

# ---- malformed, truncated, reset, stall
start mal --data "$T/data" --fault malformed:1
s=$(post /v1/completions "$T/compl.json" "$T/g1")
[ "$s" = 200 ] && ! grep -q '}$' "$T/g1"; res $? "malformed: 200 with a body that is not JSON"
s=$(post /v1/completions "$T/compl.json" "$T/g2")
[ "$s" = 200 ] && has "$T/g2" "\"text\":$REFS"; res $? "malformed: attempt 2 succeeds"
stop "$PID"

start trunc --data "$T/data" --fault truncated:2
post /v1/completions "$T/compl.json" "$T/g3" >/dev/null
rc=$?
[ "$rc" = 18 ]; res $? "truncated: curl sees a short body (exit 18)"
post /v1/completions "$T/compl.json" "$T/g3" >/dev/null
[ "$?" = 18 ]; res $? "truncated: attempt 2 also truncated"
s=$(post /v1/completions "$T/compl.json" "$T/g4")
[ "$s" = 200 ] && has "$T/g4" "\"text\":$REFS"; res $? "truncated: attempt 3 succeeds"
stop "$PID"

start reset --data "$T/data" --fault reset:1
post /v1/completions "$T/compl.json" "$T/g5" >/dev/null
rc=$?
[ "$rc" = 56 ] || [ "$rc" = 52 ]; res $? "reset: connection reset, no response (curl exit $rc)"
s=$(post /v1/chat/completions "$T/prefill_cont.json" "$T/g6")
[ "$s" = 200 ] && has "$T/g6" "\"content\":$REFS"; res $? "reset: attempt 2 succeeds"
stop "$PID"

start stall --data "$T/data" --fault stall:1 --stall-seconds 2
post /v1/completions "$T/compl.json" "$T/g7" --max-time 1 >/dev/null
rc=$?
[ "$rc" = 28 ]; res $? "stall: client times out (exit 28)"
s=$(post /v1/completions "$T/compl.json" "$T/g8" --max-time 1)
[ "$s" = 200 ] && has "$T/g8" "\"text\":$REFS"; res $? "stall: attempt 2 answers at once"
# a stalled request must not hold up shutdown: with a 120 s stall in
# progress, the server is gone long before the stall would end (stop's own
# limit, which is not a speed figure: waiting for the stall would take 40x it)
stop "$PID"
start stall2 --data "$T/data" --fault stall:1 --stall-seconds 120
curl -s -o /dev/null --max-time 150 --data-binary "@$T/unk.json" "http://127.0.0.1:$PORT/completion" &
CP=$!
sleep 0.3
fails_before=$fails
stop "$PID"
[ "$fails" = "$fails_before" ]; res $? "stall: shutdown interrupts the stall"
wait "$CP" 2>/dev/null

# ---- concurrency and stats while running (1 s delay: 8 curl processes start well within it)
start conc --data "$T/data" --delay-ms 1000 --stats "$T/conc.stats"
CONC=$PID
cp_pids=""
for i in 1 2 3 4 5 6 7 8; do
    post /v1/completions "$T/compl.json" "$T/c$i" >"$T/c$i.s" &
    cp_pids="$cp_pids $!"
done
for p in $cp_pids; do wait "$p"; done
n200=0
for i in 1 2 3 4 5 6 7 8; do [ "$(cat "$T/c$i.s")" = 200 ] && n200=$((n200 + 1)); done
[ $n200 = 8 ]; res $? "8 parallel requests answered"
sleep 0.3
mif=$(sed -E 's/.*"max_in_flight":([0-9]+).*/\1/' "$T/conc.stats")
[ "$mif" -ge 8 ]; res $? "stats while running: max_in_flight >= 8 (got $mif)"
has "$T/conc.stats" '"requests":8' &&
    has "$T/conc.stats" '"connections":8' && has "$T/conc.stats" '"/v1/completions":8' &&
    has "$T/conc.stats" '"authorization":null'; res $? "stats: requests, connections, by_path"
stop "$CONC"

stop "$MAIN"
# --max-seconds: exits by itself, status 0; SIGINT stops it too
start short --max-seconds 0.5
SHORT=$PID
start sigint
kill -INT "$PID"
sleep 0.7
! kill -0 "$SHORT" 2>/dev/null && wait "$SHORT"; res $? "--max-seconds 0.5: exits by itself with status 0"
! kill -0 "$PID" 2>/dev/null && wait "$PID"; res $? "SIGINT: exits with status 0"
has "$T/main.stats" '"authorization":"Bearer sk-test-123"' &&
    has "$T/main.stats" '"/tokenize":3' && has "$T/main.stats" '"413":1' && has "$T/main.stats" '"431":1'; res $? "stats: authorization, paths"

PIDS=""
[ $fails = 0 ] || { echo "$fails checks failed"; exit 1; }
echo "all lcx_testd checks passed"
