#!/bin/sh
# lcx run's options for reasoning models against the loopback test server
# (tests/tools/lcx_testd.c): --no-answer-prefix, --tokens-to-generate and
# --tokens-scale, --strip-think and --think-tags; all in run.json, a resume
# with other values refused, raw and stripped predictions kept apart.
set -u
LCX=${LCX:-./lcx}
TESTD=${BUILD:-build}/tools/lcx_testd
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
. tests/lib.sh

start_server() { n_=$1; shift; testd_start "$n_" --data "$tmp/data" "$@"; }
gen_of() { tr -d ' \n' <"$1/run.json" | grep -o '"generation":{[^}]*}'; }

SUITE="--tasks niah_single_1,qa_1 --lengths 1500 --samples 3 --seed 5"
$LCX gen $SUITE --out "$tmp/data" --quiet || fail "gen"

# 1. The defaults are recorded; the thinking is scored with the answer.
start_server think --answer think-hidden
$LCX run --endpoint "$url" --data "$tmp/data" $SUITE --out "$tmp/r0" --quiet || fail "default run"
[ "$(gen_of "$tmp/r0")" = '"generation":{"answer_prefix":true,"tokens_to_generate":null,"tokens_scale":1.0,"strip_think":null}' ] ||
    { gen_of "$tmp/r0"; fail "default generation settings not recorded"; }
[ "$(mean_of "$tmp/r0")" = "100.0" ] || fail "without --strip-think the references in the thinking count"
grep -q '"raw_pred":' "$tmp/r0/pred/1500/qa_1.jsonl" && fail "raw_pred without --strip-think"

# 2. --strip-think: the references were only in the thinking: score 0; pred
#    stripped, raw_pred as the model wrote it.
$LCX run --endpoint "$url" --data "$tmp/data" $SUITE --strip-think --no-answer-prefix \
    --tokens-to-generate 4096 --out "$tmp/r1" --quiet || fail "strip-think run"
[ "$(mean_of "$tmp/r1")" = "0.0" ] || { cat "$tmp/r1/summary.json"; fail "the thinking was scored"; }
[ "$(gen_of "$tmp/r1")" = '"generation":{"answer_prefix":false,"tokens_to_generate":4096,"tokens_scale":1.0,"strip_think":["<think>","</think>"]}' ] ||
    { gen_of "$tmp/r1"; fail "generation settings not recorded"; }
f="$tmp/r1/pred/1500/niah_single_1.jsonl"
[ "$(grep -c '"pred":" I do not know."' "$f")" = 3 ] || { cat "$f"; fail "pred is not the stripped text"; }
[ "$(grep -c '"raw_pred":"<think> [0-9]*</think> I do not know."' "$f")" = 3 ] || { cat "$f"; fail "raw_pred missing"; }
[ "$(grep -c '"answer_prefix":""' "$f")" = 3 ] || fail "the records do not say no answer prefix was sent"
# lcx score re-scores pred (the stripped text).
$LCX score "$tmp/r1/pred" >"$tmp/score.out" 2>&1 || fail "lcx score"

# 3. A resume with other settings is refused, naming the key.
for opt in "--think-tags <t>,</t>" "--tokens-to-generate 128" "--tokens-scale 2" ""; do
    # shellcheck disable=SC2086
    expect_error "generation" $LCX run --endpoint "$url" --data "$tmp/data" $SUITE --strip-think \
        --no-answer-prefix $opt --out "$tmp/r1" --quiet
done
expect_error "answer_prefix" $LCX run --endpoint "$url" --data "$tmp/data" $SUITE --strip-think \
    --tokens-to-generate 4096 --out "$tmp/r1" --quiet
# the same settings resume
$LCX run --endpoint "$url" --data "$tmp/data" $SUITE --strip-think --no-answer-prefix \
    --tokens-to-generate 4096 --out "$tmp/r1" --quiet || fail "same settings did not resume"

# 4. Answers after the thinking score; custom tags; chat with no answer
#    prefix sends the user turn alone (the server refuses every prefill).
start_server think2 --answer think --prefill no
$LCX run --endpoint "$url" --data "$tmp/data" $SUITE --strip-think --out "$tmp/r2" --quiet || fail "think run"
[ "$(mean_of "$tmp/r2")" = "100.0" ] || fail "the answer after the thinking was not scored"
$LCX run --endpoint "$url/v1" --api chat --data "$tmp/data" $SUITE --no-answer-prefix \
    --think-tags '<think>,</think>' --out "$tmp/r3" --quiet || fail "chat run"
[ "$(mean_of "$tmp/r3")" = "100.0" ] || fail "chat without answer prefix"
grep -q '"answer_prefix_sent_as": "end of user turn"' "$tmp/r3/run.json" &&
    fail "an assistant prefill was sent without an answer prefix"
grep -q '"strip_think": \[' "$tmp/r3/run.json" || fail "--think-tags does not imply --strip-think"
$LCX run --endpoint "$url" --data "$tmp/data" $SUITE --think-tags '[[,]]' --out "$tmp/r4" --quiet ||
    fail "custom tags run"
grep -q '"raw_pred":"<think>' "$tmp/r4/pred/1500/qa_1.jsonl" || fail "custom tags: raw_pred"
grep -q '"pred":"<think>' "$tmp/r4/pred/1500/qa_1.jsonl" || fail "custom tags stripped <think>"

# 5. Generated prompts are fitted to the length minus the raised budget.
$LCX run --endpoint "$url" --remote-tokenize $SUITE --tokens-scale 4 --out "$tmp/r5" --quiet ||
    fail "tokens-scale run"
grep -q '"tokens_to_generate":512' "$tmp/r5/pred/1500/niah_single_1.jsonl" || fail "niah budget is not 4 x 128"
len=$(tr -d ' ' <"$tmp/r5/pred/1500/niah_single_1.jsonl" | grep -o '"length":[0-9]*' | head -n 1 | cut -d: -f2)
[ "$len" -le $((1500 - 512)) ] || fail "prompt of $len tokens does not leave 512 to generate"

# 6. Bad values.
expect_error "not both" $LCX run --endpoint "$url" --data "$tmp/data" $SUITE --tokens-scale 2 \
    --tokens-to-generate 10 --out "$tmp/bad"
expect_error "--tokens-scale" $LCX run --endpoint "$url" --data "$tmp/data" $SUITE --tokens-scale 0 --out "$tmp/bad"
expect_error "--think-tags" $LCX run --endpoint "$url" --data "$tmp/data" $SUITE --think-tags '<t>' --out "$tmp/bad"
expect_error "--think-tags" $LCX run --endpoint "$url" --data "$tmp/data" $SUITE --think-tags 'a,a' --out "$tmp/bad"
echo "ok test_run_reasoning"
