#!/bin/sh
# lcx serve on models/tiny-baseline (docs/serve.md): the routes; bad
# requests answered 4xx with an OpenAI-style body naming the field while
# the server keeps serving; lcx run --endpoint giving, sample for sample,
# the predictions of lcx run --model with completions, with chat, and with
# a per-request YaRN factor; /v1/probe giving lcx probe's figures; the API
# key; 429 with Retry-After when the queue is full; a client that goes
# away cancelling its job; SIGTERM letting in-flight requests finish.
set -u
LCX=${LCX:-./lcx}
MODEL=models/tiny-baseline
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
. tests/lib.sh
[ -n "${KEEP:-}" ] && trap - EXIT
command -v curl >/dev/null || { echo "SKIPPED: curl not found"; exit 0; }
export OMP_WAIT_POLICY=passive
unset LCX_API_KEY OPENAI_API_KEY

# serve NAME ARGS...: start lcx serve, set $url and $spid
serve() {
    name=$1
    shift
    $LCX serve --model $MODEL --port 0 --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.log" &
    spid=$!
    pids="$pids $spid"
    n=0
    while [ ! -s "$tmp/$name.port" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
    [ -s "$tmp/$name.port" ] || { cat "$tmp/$name.log"; fail "server $name did not start"; }
    url="http://127.0.0.1:$(cat "$tmp/$name.port")"
}
# post PATH BODY: the body to $tmp/body, the status to stdout
post() { curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" "$url$1"; }
# bad PATH BODY STATUS PARAM: an OpenAI-style error naming PARAM ("null": none)
bad() {
    st=$(post "$1" "$2")
    [ "$st" = "$3" ] || { cat "$tmp/body"; fail "$1 $2: HTTP $st, want $3"; }
    jq -e --arg p "$4" '.error.type and .error.message and ((.error.param // "null") == $p)' \
        "$tmp/body" >/dev/null || { cat "$tmp/body"; fail "$1 $2: error body does not name $4"; }
}
alive() { curl -s "$url/health" | jq -e '.status == "ok"' >/dev/null || fail "the server stopped serving ($*)"; }

serve a --max-context 2048 --max-body 4K --template base
# 1. routes
alive start
curl -s "$url/v1/models" | jq -e '.data[0].id == "tiny-baseline" and .data[0].max_model_len == 2048' >/dev/null ||
    fail "/v1/models"
curl -s "$url/tokenizer_info" | jq -e '.eos_token == "<|endoftext|>"' >/dev/null || fail "/tokenizer_info"
[ "$(post /tokenize '{"prompt": "hello world", "add_special_tokens": false}')" = 200 ] || fail "tokenize vllm"
jq -e '.count == (.tokens | length) and .count > 1' "$tmp/body" >/dev/null || fail "tokenize vllm body"
ids=$(jq -c .tokens "$tmp/body")
[ "$(post /tokenize '{"content": "hello world"}')" = 200 ] || fail "tokenize llama.cpp"
[ "$(jq -c .tokens "$tmp/body")" = "$ids" ] || fail "the two tokenize forms differ"
post /detokenize "{\"tokens\": $ids}" >/dev/null
jq -e '.prompt == "hello world" and .content == "hello world"' "$tmp/body" >/dev/null || fail "detokenize"
[ "$(post /v1/completions '{"prompt": "One of the special magic numbers", "max_tokens": 5, "logprobs": 2, "echo": true}')" = 200 ] ||
    fail "completions"
jq -e '.usage.completion_tokens <= 5 and (.choices[0].logprobs.token_logprobs[0] == null) and
       (.choices[0].logprobs.top_logprobs | length) == (.choices[0].logprobs.tokens | length) and
       .lcx.rope.type == "default"' "$tmp/body" >/dev/null || { cat "$tmp/body"; fail "completions body"; }
curl -sN -H 'Content-Type: application/json' -d '{"messages": [{"role": "user", "content": "One of"}], "max_tokens": 4, "stream": true, "stream_options": {"include_usage": true}}' \
    "$url/v1/chat/completions" >"$tmp/sse"
[ "$(tail -n 2 "$tmp/sse" | head -n 1)" = "data: [DONE]" ] || { cat "$tmp/sse"; fail "stream does not end with [DONE]"; }
grep '^data: {' "$tmp/sse" | sed 's/^data: //' | jq -s -e '.[0].choices[0].delta.role == "assistant" and
    (map(select(.usage)) | length) == 1 and (map(select(.choices[0].finish_reason)) | length) == 1' >/dev/null ||
    { cat "$tmp/sse"; fail "stream events"; }

# 2. bad requests: 4xx naming the field, and the server keeps serving
bad /v1/completions '{"prompt": "a",' 400 null
bad /v1/completions '{"prompt": 5}' 400 prompt
bad /v1/completions '{"prompt": "a", "max_token": 5}' 400 max_token
bad /v1/completions '{"prompt": "a", "max_tokens": "5"}' 400 max_tokens
bad /v1/completions '{"prompt": "a", "n": 3}' 422 n
bad /v1/completions '{"prompt": "a", "model": "gpt-4"}' 404 model
bad /v1/completions '{"prompt": "a", "rope_scaling": {"factor": -2}}' 400 rope_scaling.factor
bad /v1/completions '{"prompt": "a", "rope_scaling": {"rope_type": "yarn", "factor": "big"}}' 400 rope_scaling.factor
bad /v1/completions '{"prompt": "a", "max_tokens": 2047}' 400 max_tokens
bad /v1/chat/completions '{"messages": [{"role": "user", "content": "a"}], "chat_template": "nosuch"}' 400 chat_template
bad /v1/chat/completions '{"messages": [{"role": "tool", "content": "a"}]}' 422 'messages[0].role'
bad /v1/probe '{"prompt": [1, 99999]}' 400 prompt
bad /nosuch '{}' 404 null
st=$(curl -s -o "$tmp/body" -w '%{http_code}' "$url/v1/completions")
[ "$st" = 405 ] || fail "GET /v1/completions: HTTP $st, want 405"
# prompts over the context, and a body over --max-body
long=$(awk 'BEGIN { for (i = 0; i < 500; i++) printf "the sun is blue. "; }')
bad /v1/completions "{\"prompt\": \"$long\"}" 413 null
awk 'BEGIN { printf "{\"prompt\": ["; for (i = 0; i < 2100; i++) printf "%s1", (i ? "," : ""); printf "]}" }' >"$tmp/big.json"
serve b --max-context 2048
bad /v1/completions "@$tmp/big.json" 400 prompt
alive "after the bad requests"
grep -q 'POST /v1/completions" 400 .* param=max_token' "$tmp/a.log" || fail "access line without the field"

# 3. lcx run --endpoint against lcx serve = lcx run --model, sample for sample
S="--tasks niah_single_1,qa_1 --lengths 450 --samples 2 --seed 5"
$LCX gen $S --tokenizer $MODEL --out "$tmp/data" --quiet || fail "gen"
$LCX run --model $MODEL --data "$tmp/data" $S --out "$tmp/local" --quiet || fail "local run"
$LCX run --endpoint "$url" --data "$tmp/data" $S --out "$tmp/remote" --quiet || fail "remote run"
$LCX run --endpoint "$url/v1" --api chat --data "$tmp/data" $S --out "$tmp/chat" --quiet || fail "chat run"
S2="--tasks niah_single_1,vt --lengths 1800 --samples 2 --seed 9"
$LCX gen $S2 --tokenizer $MODEL --out "$tmp/data2" --quiet || fail "gen 1800"
$LCX run --model $MODEL --data "$tmp/data2" $S2 --yarn-factor 4 --out "$tmp/local_yarn" --quiet || fail "local yarn run"
$LCX run --endpoint "$url" --data "$tmp/data2" $S2 --yarn-factor 4 --out "$tmp/remote_yarn" --quiet || fail "remote yarn run"
$LCX run --endpoint "$url" --data "$tmp/data2" $S2 --out "$tmp/remote_plain" --quiet || fail "remote plain run"
same() { canon "$1" >"$tmp/x"; canon "$2" >"$tmp/y"; cmp -s "$tmp/x" "$tmp/y"; }
n=0
for pair in local:remote local:chat local_yarn:remote_yarn; do
    a=${pair%:*} b=${pair#*:}
    for f in "$tmp/$a"/pred/*/*.jsonl; do
        g="$tmp/$b/pred/${f#"$tmp/$a/pred/"}"
        same "$f" "$g" || { diff "$f" "$g" | head -5; fail "$b differs from $a: $g"; }
        n=$((n + 1))
    done
done
[ $n = 6 ] || fail "compared $n prediction files, want 6"
# the factor was applied: without it the predictions differ
differs=0
for f in "$tmp/local_yarn"/pred/*/*.jsonl; do
    same "$f" "$tmp/remote_plain/pred/${f#"$tmp/local_yarn/pred/"}" || differs=1
done
[ $differs = 1 ] || fail "the per-request YaRN factor changed nothing"
grep -q '"factor": 4' "$tmp/remote_yarn/run.json" || fail "run.json does not record the RoPE request"
grep -q 'rope=yarn factor=4 .*(request: factor=4)' "$tmp/b.log" || fail "the access line does not state the RoPE"

# 4. the probe: lcx probe's figures for the same ids
post /tokenize '{"prompt": "One of the special magic numbers for the little frog is: 4567. What is it?"}' >/dev/null
jq -c .tokens "$tmp/body" >"$tmp/ids.json"
$LCX probe --model $MODEL --prompt-ids "$tmp/ids.json" --out "$tmp/probe.json" >/dev/null 2>&1 || fail "lcx probe"
[ "$(post /v1/probe "{\"prompt\": $(cat "$tmp/ids.json")}")" = 200 ] || fail "/v1/probe"
[ "$(jq -c '{layers, mean}' "$tmp/body")" = "$(jq -c '{layers, mean}' "$tmp/probe.json")" ] ||
    fail "/v1/probe and lcx probe differ"
kill "$spid"
wait "$spid" 2>/dev/null

# 5. API key (from LCX_API_KEY), a full queue, a client that goes away
KEY=sk-serve-test-7e57
prompt=$(awk 'BEGIN { for (i = 0; i < 250; i++) printf "the grass is green. "; }')
slow="{\"prompt\": \"$prompt\", \"max_tokens\": 300}"
LCX_API_KEY=$KEY serve c --max-context 4096 --queue 1 --parallel 1
st=$(post /v1/completions '{"prompt": "a", "max_tokens": 1}')
[ "$st" = 401 ] || fail "no key: HTTP $st, want 401"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY-x" -d '{"prompt": "a", "max_tokens": 1}' "$url/v1/completions")
[ "$st" = 401 ] || fail "a wrong key: HTTP $st, want 401"
alive "health needs no key"
auth="Authorization: Bearer $KEY"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -d '{"prompt": "a", "max_tokens": 1}' "$url/v1/completions")
[ "$st" = 200 ] || fail "the right key: HTTP $st"
LCX_API_KEY=$KEY $LCX run --endpoint "$url" --data "$tmp/data" $S --out "$tmp/keyed" --quiet || fail "lcx run with the key"
cpids=""
for k in 1 2 3 4 5 6; do
    curl -s -D "$tmp/h$k" -o /dev/null -w '%{http_code}\n' -H "$auth" -d "$slow" "$url/v1/completions" >"$tmp/s$k" &
    cpids="$cpids $!"
done
for p in $cpids; do wait "$p"; done
cat "$tmp"/s? | sort | uniq -c >"$tmp/statuses"
grep -q ' 200$' "$tmp/statuses" && grep -q ' 429$' "$tmp/statuses" || { cat "$tmp/statuses"; fail "want 200s and 429s from a full queue"; }
[ "$(grep -v -c -E ' (200|429)$' "$tmp/statuses")" = 0 ] || { cat "$tmp/statuses"; fail "statuses other than 200 and 429"; }
grep -l '^HTTP/1.1 429' "$tmp"/h? | head -n 1 | xargs grep -qi '^Retry-After: [0-9]' || fail "429 without Retry-After"
# a client that gives up during a long job (a prefill of some 3500 tokens
# and a budget of 500 more, 0.7 s on the fastest machine here, where 100
# more took 0.35 s and sometimes ended before the client gave up at 0.3 s):
# its job stops there, before its whole budget
longer=$(awk 'BEGIN { for (i = 0; i < 700; i++) printf "the grass is green. "; }')
curl -s -o /dev/null --max-time 0.3 -H "$auth" -d "{\"prompt\": \"$longer\", \"max_tokens\": 500}" "$url/v1/completions"
curl -s -N -o /dev/null --max-time 0.3 -H "$auth" -d "{\"prompt\": \"$longer\", \"max_tokens\": 500, \"stream\": true}" "$url/v1/completions"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -d '{"prompt": "a", "max_tokens": 1}' "$url/v1/completions")
[ "$st" = 200 ] || fail "after cancelled requests: HTTP $st"
n=0
while [ "$(grep -c 'cancelled (client gone)' "$tmp/c.log")" -lt 2 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
grep 'cancelled (client gone)' "$tmp/c.log" | grep -o 'completion=[0-9]*' | cut -d= -f2 >"$tmp/done_tokens"
[ "$(wc -l <"$tmp/done_tokens")" = 2 ] || { cat "$tmp/c.log"; fail "two cancelled jobs not logged"; }
while read -r k; do [ "$k" -lt 500 ] || fail "a cancelled job ran its whole budget"; done <"$tmp/done_tokens"
grep -qF "$KEY" "$tmp/c.log" && fail "the API key is in the log"

# 6. SIGTERM: the request in flight is answered, then the server exits 0
curl -s -o "$tmp/inflight" -w '%{http_code}' -H "$auth" -d "{\"prompt\": \"$longer\", \"max_tokens\": 500}" \
    "$url/v1/completions" >"$tmp/inflight.status" &
cpid=$!
n=0
until curl -s "$url/health" | jq -e '.running == 1' >/dev/null || [ $n -ge 100 ]; do sleep 0.05; n=$((n + 1)); done
[ $n -lt 100 ] || fail "the request did not start"
kill -TERM "$spid"
wait "$cpid"
wait "$spid"
rc=$?
[ "$rc" = 0 ] || { cat "$tmp/c.log"; fail "lcx serve exited $rc after SIGTERM"; }
[ "$(cat "$tmp/inflight.status")" = 200 ] || { cat "$tmp/c.log"; fail "the in-flight request got HTTP $(cat "$tmp/inflight.status")"; }
jq -e '.choices[0].text | type == "string"' "$tmp/inflight" >/dev/null || fail "the in-flight answer"
grep -q '^serve: stopped' "$tmp/c.log" || fail "no stop line"
echo "ok: lcx serve"
