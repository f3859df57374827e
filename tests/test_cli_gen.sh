#!/bin/sh
# lcx gen / score / tasks from the command line: outputs, determinism,
# and bad input (one-line error naming the thing, exit 2, nothing written).
set -u
LCX=${LCX:-./lcx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# tasks
n=$($LCX tasks | grep -cE '^(niah_|vt |cwe |fwe |qa_)')
[ "$n" = 13 ] || fail "lcx tasks lists $n tasks"

# gen writes DIR/<length>/<task>.jsonl with the record fields
$LCX gen --tasks niah_single_1,vt,qa_2 --lengths 4k,8192 --samples 3 --out "$tmp/a" --quiet || fail "gen"
for f in 4096/niah_single_1 4096/vt 4096/qa_2 8192/niah_single_1 8192/vt 8192/qa_2; do
    [ -f "$tmp/a/$f.jsonl" ] || fail "missing $f.jsonl"
    [ "$(wc -l <"$tmp/a/$f.jsonl")" = 3 ] || fail "$f.jsonl: not 3 lines"
done
for field in '"index":0' '"input":"' '"answer_prefix":"' '"outputs":[' '"length":' '"max_length":4096' '"tokens_to_generate":128'; do
    grep -qF "$field" "$tmp/a/4096/niah_single_1.jsonl" || fail "record lacks $field"
done
ls "$tmp/a/4096" | grep -q tmp && fail "temporary file left behind"

# determinism: same arguments, other thread count, byte-identical files
OMP_NUM_THREADS=1 $LCX gen --tasks niah_single_1,vt,qa_2 --lengths 4k,8192 --samples 3 --out "$tmp/b" --quiet || fail "gen b"
diff -r "$tmp/a" "$tmp/b" >/dev/null || fail "generation is not deterministic"
$LCX gen --tasks niah_single_1 --lengths 4k --samples 3 --seed 43 --out "$tmp/c" --quiet || fail "gen c"
cmp -s "$tmp/a/4096/niah_single_1.jsonl" "$tmp/c/4096/niah_single_1.jsonl" && fail "seed has no effect"
# the first samples do not depend on how many are asked for
$LCX gen --tasks vt --lengths 4k --samples 1 --out "$tmp/d" --quiet || fail "gen d"
[ "$(head -n 1 "$tmp/a/4096/vt.jsonl")" = "$(cat "$tmp/d/4096/vt.jsonl")" ] || fail "sample 0 depends on --samples"

# score: gen records without pred are refused, naming file, line and field
expect_error "niah_single_1.jsonl:1: missing string field 'pred'" $LCX score "$tmp/a/4096/niah_single_1.jsonl"

# bad input
expect_error "unknown task 'niah_single_9'" $LCX gen --tasks niah_single_9 --out "$tmp/e"
expect_error "unknown template 'nope'" $LCX gen --template nope --out "$tmp/e"
expect_error "length 300 is too short for task niah_single_2" $LCX gen --tasks niah_single_2 --lengths 300 --out "$tmp/e"
expect_error "length 'abc'" $LCX gen --lengths abc --out "$tmp/e"
expect_error "--out DIR is required" $LCX gen --tasks vt
expect_error "unknown option '--bogus'" $LCX gen --bogus --out "$tmp/e"
printf '{"text": "unterminated' >"$tmp/bad.json"
expect_error "$tmp/bad.json: line 1" $LCX gen --tasks niah_single_2 --lengths 4k --essay-corpus "$tmp/bad.json" --out "$tmp/e"
printf '{"title": "no text field"}' >"$tmp/notext.json"
expect_error "field 'text'" $LCX gen --tasks niah_single_2 --lengths 4k --essay-corpus "$tmp/notext.json" --out "$tmp/e"
printf '   \n\n' >"$tmp/empty.txt"
expect_error "$tmp/empty.txt: essay corpus has no words" $LCX gen --essay-corpus "$tmp/empty.txt" --out "$tmp/e"
printf 'abc \377 def' >"$tmp/binary.txt"
expect_error "$tmp/binary.txt: byte offset 4" $LCX gen --essay-corpus "$tmp/binary.txt" --out "$tmp/e"
printf '{"data": []}' >"$tmp/squad.json"
expect_error "$tmp/squad.json: field 'data'" $LCX gen --tasks qa_1 --squad "$tmp/squad.json" --out "$tmp/e"
printf '[{"question": "q", "answer": "a", "context": [["t", "not a list"]]}]' >"$tmp/hotpot.json"
expect_error "$tmp/hotpot.json: [0].context[0]" $LCX gen --tasks qa_2 --hotpotqa "$tmp/hotpot.json" --out "$tmp/e"
expect_error "/nonexistent.json: cannot open" $LCX gen --squad /nonexistent.json --out "$tmp/e"
[ -e "$tmp/e" ] && fail "a failed gen left $tmp/e behind"
touch "$tmp/file"
expect_error "$tmp/file" $LCX gen --tasks vt --lengths 4k --samples 1 --out "$tmp/file/sub"
expect_error "no such file or directory" $LCX score "$tmp/missing"
mkdir -p "$tmp/e2"
expect_error "no .jsonl prediction files" $LCX score "$tmp/e2"

# real essay corpus formats are accepted: RULER's {"text": ...} and plain text
printf '{"text": "One sentence here. Another one follows! A third? Yes."}' >"$tmp/pg.json"
$LCX gen --tasks niah_single_2 --lengths 1024 --samples 1 --essay-corpus "$tmp/pg.json" --out "$tmp/f" --quiet || fail "json corpus"
grep -q "Another one follows!" "$tmp/f/1024/niah_single_2.jsonl" || fail "json corpus not used"
exit 0
