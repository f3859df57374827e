#!/bin/sh
# lcx run with the local engine on a tiny model: the results directory,
# lcx score agreeing with the run, resume after SIGKILL at random moments,
# torn lines, a refused configuration change, and bad input.
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

# Bad input.
expect_error "give either --model DIR" $LCX run --tasks vt --out "$tmp/x"
expect_error "unknown API 'soap'" $LCX run --endpoint http://127.0.0.1:9 --api soap --remote-tokenize --out "$tmp/x"
expect_error "needs its own token counts" $LCX run --endpoint http://127.0.0.1:9 --out "$tmp/x"
expect_error "unreachable" $LCX run --endpoint http://127.0.0.1:9 --remote-tokenize --out "$tmp/x"
expect_error "/nonexistent-model" $LCX run --model /nonexistent-model --out "$tmp/x"
expect_error "/nonexistent-tokenizer" $LCX run --endpoint http://127.0.0.1:9 --tokenizer /nonexistent-tokenizer --out "$tmp/x"
touch "$tmp/file"
expect_error "$tmp/file" $LCX run $ARGS --out "$tmp/file/sub"
exit 0
