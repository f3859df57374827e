#!/bin/sh
# `lcx tokenize`: ids as a JSON array, --decode, --add-special, --jsonl, and
# bad input: one line on stderr naming the file and the field, exit 2.
set -u
LCX=${LCX:-./lcx}
FIX=tests/fixtures/tokenizer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # name, got, want
    if [ "$2" != "$3" ]; then
        echo "FAIL $1: got [$2], want [$3]"
        fail=1
    fi
}
expect_error() { # name, file-or-field text the message must contain, command...
    name=$1 needle=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc = 2 ] || { echo "FAIL $name: exit $rc, want 2"; fail=1; }
    [ "$(wc -l <"$tmp/err")" = 1 ] || { echo "FAIL $name: want one line on stderr, got:"; cat "$tmp/err"; fail=1; }
    grep -qF -- "$needle" "$tmp/err" || { echo "FAIL $name: stderr lacks '$needle':"; cat "$tmp/err"; fail=1; }
}

expect encode "$(printf "hello world's\n" | "$LCX" tokenize --tokenizer "$FIX/bytelevel.json")" "[11,16,19,20]"
expect add-special "$(printf 'hello' | "$LCX" tokenize --tokenizer "$FIX/bytelevel.json" --add-special)" "[25,11,22]"
printf 'hi hi\n\303\251' >"$tmp/in.txt"
expect file "$("$LCX" tokenize --tokenizer "$FIX/metaspace.json" --file "$tmp/in.txt")" "[11,11,3,4,5]"
expect decode "$(echo '[1,11,11,3,4,5]' | "$LCX" tokenize --tokenizer "$FIX/metaspace.json" --decode)" "$(printf '<s> hi hi\n\303\251')"
expect skip-special "$(echo '[25,11,22]' | "$LCX" tokenize --tokenizer "$FIX/bytelevel.json" --decode --skip-special)" "hello"
expect jsonl "$(printf '"hello"\n"hi yo"\n' | "$LCX" tokenize --tokenizer "$FIX/bytelevel.json" --jsonl | tr '\n' ' ')" "[11] [0,4,24] "
expect lossy "$(printf 'a\200b' | "$LCX" tokenize --tokenizer "$FIX/nfc.json" --lossy)" "[97,239,191,189,98]"
mkdir "$tmp/dir" && cp "$FIX/bytelevel.json" "$tmp/dir/tokenizer.json"
expect directory "$(printf 'hello' | "$LCX" tokenize --tokenizer "$tmp/dir")" "[11]"

printf '{"model": {' >"$tmp/bad.json"
expect_error malformed "$tmp/bad.json" "$LCX" tokenize --tokenizer "$tmp/bad.json"
printf '{"model": {"type": "WordPiece", "vocab": {}}}' >"$tmp/model.json"
expect_error unknown-model "model.type" "$LCX" tokenize --tokenizer "$tmp/model.json"
printf '{"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Punctuation"}}' >"$tmp/pre.json"
expect_error unknown-pre-tokenizer "pre_tokenizer.type" "$LCX" tokenize --tokenizer "$tmp/pre.json"
printf '{"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[a-"}, "behavior": "Isolated"}}' >"$tmp/re.json"
expect_error invalid-regex "invalid regex" "$LCX" tokenize --tokenizer "$tmp/re.json"
printf '{"model": {"type": "BPE", "vocab": {}, "merges": []}}' >"$tmp/empty.json"
expect_error empty-vocab "model.vocab" "$LCX" tokenize --tokenizer "$tmp/empty.json"
expect_error missing-file "nope.json" "$LCX" tokenize --tokenizer "$tmp/nope.json"
printf 'ok \377 no' >"$tmp/invalid.txt"
expect_error invalid-utf8 "invalid UTF-8 at byte offset 3" "$LCX" tokenize --tokenizer "$FIX/nfc.json" --file "$tmp/invalid.txt"
echo '[1, "x"]' >"$tmp/ids.json"
expect_error bad-ids "[1]" "$LCX" tokenize --tokenizer "$FIX/nfc.json" --decode --file "$tmp/ids.json"
expect_error no-tokenizer "--tokenizer" "$LCX" tokenize
exit $fail
