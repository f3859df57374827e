#!/bin/sh
# lcx run with the local engine on a tiny model: the results directory,
# lcx score agreeing with the run, resume after SIGKILL at random moments,
# torn lines, a refused configuration change, the KV dtype in run.json
# (and runs from before it was recorded), the memory check, and bad
# input.
set -u
LCX=${LCX:-./lcx}
MODEL=tests/fixtures/run_model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

ARGS="--model $MODEL --tasks qa_1,vt --lengths 2500 --samples 2 --quiet"

# A clean run.
$LCX run $ARGS --out "$tmp/clean" || fail "clean run"
for f in run.json summary.json summary.csv pred/2500/qa_1.jsonl pred/2500/vt.jsonl; do
    [ -s "$tmp/clean/$f" ] || fail "missing $f"
done
[ "$(wc -l <"$tmp/clean/pred/2500/vt.jsonl")" = 2 ] || fail "vt: not 2 records"
for field in '"pred":' '"score":' '"prompt_tokens":' '"output_tokens":' '"latency_s":' '"finish_reason":' '"error":null' '"outputs":' '"input":'; do
    grep -qF "$field" "$tmp/clean/pred/2500/qa_1.jsonl" || fail "record lacks $field"
done
grep -q '"config_sha256"' "$tmp/clean/run.json" || fail "run.json lacks the config hash"
grep -q '"commit"' "$tmp/clean/run.json" || fail "run.json lacks the commit"

# lcx score on the pred files gives the run's own summary.
$LCX score --json "$tmp/clean/pred" >"$tmp/score.json" || fail "score"
tr -d ' \n' <"$tmp/score.json" >"$tmp/a"
tr -d ' \n' <"$tmp/clean/summary.json" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "lcx score disagrees with summary.json"

# The same command again does nothing new and changes nothing.
cp -r "$tmp/clean" "$tmp/again"
$LCX run $ARGS --out "$tmp/again" || fail "rerun"
diff -r "$tmp/clean/pred" "$tmp/again/pred" >/dev/null || fail "a complete rerun changed pred files"

# Kill with SIGKILL at random moments, resume, and end with the same records.
kill_randomly 4 0.5 2 $LCX run $ARGS --out "$tmp/killed"
$LCX run $ARGS --out "$tmp/killed" 2>"$tmp/err" || { cat "$tmp/err"; fail "resume after kills"; }
for t in qa_1 vt; do
    canon "$tmp/clean/pred/2500/$t.jsonl" >"$tmp/c"
    canon "$tmp/killed/pred/2500/$t.jsonl" >"$tmp/k"
    cmp -s "$tmp/c" "$tmp/k" || fail "$t: resumed records differ from the clean run"
done

# A torn last line is not accepted: the sample runs again.
head -c -40 "$tmp/clean/pred/2500/vt.jsonl" >"$tmp/torn.jsonl"
cp -r "$tmp/clean" "$tmp/torn"
cp "$tmp/torn.jsonl" "$tmp/torn/pred/2500/vt.jsonl"
$LCX run $ARGS --out "$tmp/torn" || fail "resume after a torn line"
canon "$tmp/clean/pred/2500/vt.jsonl" >"$tmp/c"
canon "$tmp/torn/pred/2500/vt.jsonl" >"$tmp/k"
cmp -s "$tmp/c" "$tmp/k" || fail "torn line: records differ"

# A changed configuration is refused, naming what differs.
expect_error "seed: 42 -> 43" $LCX run $ARGS --seed 43 --out "$tmp/clean"
expect_error "factor" $LCX run $ARGS --yarn-factor 4 --out "$tmp/clean"
expect_error 'backend.kv_dtype: "f32" -> "bf16"' $LCX run $ARGS --kv-dtype bf16 --out "$tmp/clean"

# The KV cache's dtype is recorded (f32 by default). A run made before it
# was recorded (run.json without it) ran with F32: it resumes as such, and
# is refused with another dtype.
grep -q '"kv_dtype": "f32"' "$tmp/clean/run.json" || fail "run.json lacks kv_dtype f32"
cp -r "$tmp/clean" "$tmp/old"
sed -i '/"kv_dtype"/d' "$tmp/old/run.json"
grep -q kv_dtype "$tmp/old/run.json" && fail "could not strip kv_dtype"
head -c -40 "$tmp/clean/pred/2500/vt.jsonl" >"$tmp/old/pred/2500/vt.jsonl"
$LCX run $ARGS --out "$tmp/old" 2>"$tmp/err" || { cat "$tmp/err"; fail "resume of a run without kv_dtype"; }
canon "$tmp/clean/pred/2500/vt.jsonl" >"$tmp/c"
canon "$tmp/old/pred/2500/vt.jsonl" >"$tmp/k"
cmp -s "$tmp/c" "$tmp/k" || fail "run without kv_dtype: resumed records differ"
expect_error 'backend.kv_dtype: "f32" -> "f16"' $LCX run $ARGS --kv-dtype f16 --out "$tmp/old"

# Bad input.
expect_error "give either --model DIR" $LCX run --tasks vt --out "$tmp/x"
expect_error "unknown API 'soap'" $LCX run --endpoint http://127.0.0.1:9 --api soap --remote-tokenize --out "$tmp/x"
expect_error "needs its own token counts" $LCX run --endpoint http://127.0.0.1:9 --out "$tmp/x"
expect_error "unreachable" $LCX run --endpoint http://127.0.0.1:9 --remote-tokenize --out "$tmp/x"
expect_error "/nonexistent-model" $LCX run --model /nonexistent-model --out "$tmp/x"
expect_error "/nonexistent-tokenizer" $LCX run --endpoint http://127.0.0.1:9 --tokenizer /nonexistent-tokenizer --out "$tmp/x"
expect_error "option --kv-dtype: unknown KV cache dtype 'fp8'" $LCX run $ARGS --kv-dtype fp8 --out "$tmp/x"
expect_error "option --kv-dtype needs a value" $LCX run $ARGS --out "$tmp/x" --kv-dtype
expect_error "--kv-dtype and --max-memory go with a local --model" $LCX run --endpoint http://127.0.0.1:9 --remote-tokenize --kv-dtype bf16 --out "$tmp/x"
expect_error "option --max-memory" $LCX run $ARGS --max-memory lots --out "$tmp/x"
# The memory the largest session takes is said before the run, and a run
# that would not fit is refused before anything is written.
$LCX run --model $MODEL --tasks vt --lengths 2500 --samples 1 --kv-dtype bf16 --out "$tmp/bf" \
    >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; fail "bf16 run"; }
grep -q '^memory: .* KV cache .* (bf16, [0-9]* positions) .* available (MemAvailable)$' "$tmp/err" ||
    { cat "$tmp/err"; fail "no memory line before the run"; }
grep -q '"kv_dtype": "bf16"' "$tmp/bf/run.json" || fail "run.json lacks kv_dtype bf16"
expect_error "needs" $LCX run $ARGS --max-memory 100K --out "$tmp/small"
grep -q -- "--max-memory is 100.0 KiB; try --kv-dtype bf16 (needs " "$tmp/err" || { cat "$tmp/err"; fail "refusal lacks the budget or the hint"; }
[ -e "$tmp/small" ] && fail "a refused run created its directory"
$LCX run $ARGS --max-memory off --out "$tmp/off" 2>/dev/null || fail "--max-memory off"
touch "$tmp/file"
expect_error "$tmp/file" $LCX run $ARGS --out "$tmp/file/sub"
exit 0
