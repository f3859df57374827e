#!/bin/sh
# lcx run against the loopback test server (tests/tools/lcx_testd.c): the
# three APIs, /tokenize, faults and retries, errors recorded apart, the API
# key never written, and the concurrency reached.
set -u
LCX=${LCX:-./lcx}
TESTD=${BUILD:-build}/tools/lcx_testd
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
. tests/lib.sh
[ -n "${KEEP:-}" ] && trap - EXIT
KEY=sk-lcx-test-4c0ffee9d00d
export LCX_API_KEY=$KEY

start_server() { n_=$1; shift; testd_start "$n_" --data "$tmp/data" --stats "$tmp/$n_.stats" "$@"; }

SUITE="--tasks niah_single_1,qa_1,vt --lengths 2500 --samples 4 --seed 7"
$LCX gen $SUITE --out "$tmp/data" --quiet || fail "gen"

# 1. completions, prompts fitted with the server's /tokenize: the server
#    answers with the references, so every score is 100.
start_server a
$LCX run --endpoint "$url" --api completions --remote-tokenize $SUITE --concurrency 4 \
    --out "$tmp/r1" >"$tmp/r1.out" 2>"$tmp/r1.err" || { cat "$tmp/r1.err"; fail "completions run"; }
[ "$(mean_of "$tmp/r1")" = "100.0" ] || { cat "$tmp/r1/summary.json"; fail "completions: mean is not 100"; }
grep -q '"tokenize_form": "vllm"' "$tmp/r1/run.json" || fail "tokenize form not recorded"
grep -q '"model_name": "lcx-testd"' "$tmp/r1/run.json" || fail "the server's model name was not taken from /v1/models"
# The key is in no written byte: results, stdout, stderr.
grep -rqF "$KEY" "$tmp/r1" "$tmp/r1.out" "$tmp/r1.err" && fail "the API key was written"
# Same prompts as lcx gen with the byte counter (the server counts bytes).
cut -d, -f1-4 "$tmp/data/2500/qa_1.jsonl" >"$tmp/g"
cut -d, -f1-4 "$tmp/r1/pred/2500/qa_1.jsonl" >"$tmp/p"
cmp -s "$tmp/g" "$tmp/p" || fail "remote-tokenize fitted other prompts"

# 2. chat with the answer prefix as an assistant prefill, and llama.cpp.
$LCX run --endpoint "$url/v1" --api chat --data "$tmp/data" $SUITE --out "$tmp/r2" --quiet || fail "chat run"
[ "$(mean_of "$tmp/r2")" = "100.0" ] || fail "chat: mean is not 100"
grep -q '"answer_prefix_sent_as": "assistant prefill"' "$tmp/r2/run.json" || fail "chat prefix mode not recorded"
$LCX run --endpoint "$url" --api llamacpp --data "$tmp/data" $SUITE --out "$tmp/r3" --quiet || fail "llamacpp run"
[ "$(mean_of "$tmp/r3")" = "100.0" ] || fail "llamacpp: mean is not 100"
stop_server "$(echo $pids | awk '{print $NF}')"
# (the server writes its final stats when it stops)
grep -q "\"authorization\": *\"Bearer $KEY\"" "$tmp/a.stats" || fail "the key was not sent"

# 3. a chat server that refuses prefills: the prefix goes to the user turn.
start_server b --prefill no
$LCX run --endpoint "$url" --api chat --data "$tmp/data" $SUITE --out "$tmp/r4" --quiet || fail "chat fallback run"
[ "$(mean_of "$tmp/r4")" = "100.0" ] || fail "chat fallback: mean is not 100"
grep -q '"answer_prefix_sent_as": "end of user turn"' "$tmp/r4/run.json" || fail "fallback not recorded"
stop_server "$(echo $pids | awk '{print $NF}')"

# 3b. a chat server that repeats the prefill before the continuation (as
#     llama-server does): the repeated prefix is removed, so predictions
#     equal those of a server that returns the continuation alone (run 2).
start_server e --prefill echo
$LCX run --endpoint "$url" --api chat --data "$tmp/data" $SUITE --out "$tmp/r4e" --quiet || fail "chat echo run"
for f in "$tmp/r2"/pred/*/*.jsonl; do
    g="$tmp/r4e/pred/${f#"$tmp/r2/pred/"}"
    sed 's/"latency_s":[^,]*,//' "$f" >"$tmp/p2"
    sed 's/"latency_s":[^,]*,//' "$g" >"$tmp/p4e"
    cmp -s "$tmp/p2" "$tmp/p4e" || fail "echoed prefill: $g differs from $f"
done
grep -q '"answer_prefix_echoed": [1-9]' "$tmp/r4e/run.json" || fail "the echoed prefixes were not counted"
stop_server "$(echo $pids | awk '{print $NF}')"

# 4. transient faults: 429 (Retry-After 1 s), 500, 503, malformed JSON, a
#    truncated body, a reset, a stall past the timeout; every sample succeeds
#    on its 8th attempt, and Retry-After was waited for.
start_server c --fault 429:1 --fault 500:1 --fault 503:1 --fault malformed:1 --fault truncated:1 \
    --fault reset:1 --fault stall:1 --stall-seconds 5 --retry-after 1
start=$(date +%s)
$LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE --timeout 1 --max-retries 7 --backoff 0.05 \
    --concurrency 12 --out "$tmp/r5" --quiet || fail "fault run"
[ $(( $(date +%s) - start )) -ge 1 ] || fail "Retry-After not honoured"
[ "$(mean_of "$tmp/r5")" = "100.0" ] || { cat "$tmp/r5/summary.json"; fail "faults: mean is not 100"; }
[ "$(grep -c '"attempts":8' "$tmp/r5/pred/2500/qa_1.jsonl")" = 4 ] || fail "not 8 attempts per sample"
stop_server "$(echo $pids | awk '{print $NF}')"
[ "$(json_num "$tmp/c.stats" 429)" = 12 ] || fail "not one 429 per prompt"

# 5. a backend that keeps failing: errors are recorded, counted apart, not
#    scored; the run goes on and exits 0; a rerun against a healthy server
#    retries exactly those samples.
start_server d --fault 503:always:mod=2
$LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE --max-retries 1 \
    --out "$tmp/r6" --quiet 2>"$tmp/r6.err" || fail "run with failing samples"
grep -q "failed at the backend" "$tmp/r6.err" || fail "errors not reported"
nerr=$(cat "$tmp/r6"/pred/2500/*.jsonl | grep -c '"error":"HTTP 503')
[ "$nerr" -gt 0 ] && [ "$nerr" -lt 12 ] || fail "expected some errors, got $nerr"
grep -q '"errors"' "$tmp/r6/summary.json" || fail "summary does not count errors"
grep '"error":"HTTP' "$tmp/r6"/pred/2500/*.jsonl | grep -q '"score":null' || fail "an error was scored"
# A failed request's token counts are unknown: null (backend.h's -1), never 0;
# lcx score and lcx report read such records.
nnull=$(cat "$tmp/r6"/pred/2500/*.jsonl | grep '"error":"HTTP' | grep '"prompt_tokens":null' | grep -c '"output_tokens":null')
[ "$nnull" = "$nerr" ] || { grep -h '"error":"HTTP' "$tmp/r6"/pred/2500/*.jsonl | grep -o '"prompt_tokens":[^,]*,"output_tokens":[^,]*' | head -n 1; fail "failed records: $nnull of $nerr with null token counts"; }
grep '"error":"HTTP' "$tmp/r6"/pred/2500/*.jsonl | grep -q '"prompt_tokens":0' && fail "a failed record claims 0 prompt tokens"
$LCX score --json "$tmp/r6/pred" >"$tmp/r6.score" || fail "lcx score on records with null counts"
tr -d ' \n' <"$tmp/r6.score" >"$tmp/a"
tr -d ' \n' <"$tmp/r6/summary.json" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "lcx score disagrees with summary.json on records with null counts"
expect_error "failed with a backend error and count as not done" $LCX report "$tmp/r6"
stop_server "$(echo $pids | awk '{print $NF}')"
start_server e
$LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE --out "$tmp/r6" --quiet || fail "retry run"
[ "$(mean_of "$tmp/r6")" = "100.0" ] || fail "after the rerun: mean is not 100"
stop_server "$(echo $pids | awk '{print $NF}')"
[ "$(json_num "$tmp/e.stats" /v1/completions)" = "$nerr" ] || fail "the rerun did not redo exactly the failed samples"
# A complete run whose records have null counts (a server without usage) reads as any other.
cp -r "$tmp/r6" "$tmp/r6n"
sed -i 's/"prompt_tokens":[0-9]*/"prompt_tokens":null/; s/"output_tokens":[0-9]*/"output_tokens":null/' "$tmp/r6n"/pred/2500/*.jsonl
[ "$(cat "$tmp/r6n"/pred/2500/*.jsonl | grep -c '"prompt_tokens":null,"output_tokens":null')" = 12 ] || fail "r6n: counts not nulled"
$LCX report "$tmp/r6" --names r >"$tmp/r6.report" || fail "lcx report on the rerun"
$LCX report "$tmp/r6n" --names r >"$tmp/r6n.report" 2>&1 || { cat "$tmp/r6n.report"; fail "lcx report on records with null counts"; }
sed "s#$tmp/r6n#$tmp/r6#" "$tmp/r6n.report" | cmp -s - "$tmp/r6.report" || fail "lcx report differs on records with null counts"
$LCX score --json "$tmp/r6n/pred" >"$tmp/r6n.score" || fail "lcx score on complete records with null counts"

# 6. concurrency: 12 prompts held 1 s each by the server, 8 in flight.
start_server f --delay-ms 1000
$LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE --concurrency 8 --out "$tmp/r7" --quiet || fail "concurrency run"
stop_server "$(echo $pids | awk '{print $NF}')"
[ "$(json_num "$tmp/f.stats" max_in_flight)" -ge 8 ] || { cat "$tmp/f.stats"; fail "concurrency 8 not reached"; }
start_server f2 --delay-ms 300

# 7. SIGKILL at random moments with 8 requests in flight (records arrive out
#    of order), resume, and end with the same records as a clean run (r10).
kill_randomly 3 0.3 1.5 $LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE \
    --concurrency 8 --out "$tmp/r9" --quiet
$LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE --concurrency 8 --out "$tmp/r9" --quiet || fail "resume"
$LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE --concurrency 8 --out "$tmp/r10" --quiet || fail "clean"
for f in niah_single_1 qa_1 vt; do
    canon "$tmp/r10/pred/2500/$f.jsonl" >"$tmp/c"
    canon "$tmp/r9/pred/2500/$f.jsonl" >"$tmp/k"
    cmp -s "$tmp/c" "$tmp/k" || fail "$f: killed-and-resumed records differ from a clean run"
done
stop_server "$(echo $pids | awk '{print $NF}')"

# 8. --fail-fast stops at the first sample that fails for good (exit 2).
start_server g --fault 500:always
$LCX run --endpoint "$url" --api completions --data "$tmp/data" $SUITE --max-retries 0 --fail-fast \
    --out "$tmp/r8" --quiet 2>"$tmp/r8.err"
[ $? = 2 ] || fail "--fail-fast did not exit 2"
grep -q "fail-fast" "$tmp/r8.err" || fail "--fail-fast message"
grep -rqF "$KEY" "$tmp"/r* && fail "the API key was written"
exit 0
