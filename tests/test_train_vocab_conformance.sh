#!/bin/sh
# A vocabulary learnt by lcx (train/vocab.c, 2000 merges from the RULER
# generators' text, through build/tools/lcx_vocab) read by Hugging Face
# tokenizers itself (the Rust library through its Node bindings): the ids of
# `lcx tokenize` equal the reference's, with and without special tokens, on
# slices of the RULER text, random bytes read as UTF-8 and random code
# points; the reference decodes every document back. Needs node and the npm
# registry (tests/tokenizer/setup.sh); without them it prints SKIPPED with
# the reason and passes.
set -u
LCX=${LCX:-./lcx}
BUILD=${BUILD:-build}
NPM_DIR=${LCX_NPM_DIR:-build/npm}
work=$BUILD/train-vocab-conformance
reason=$(NPM_DIR="$NPM_DIR" sh tests/tokenizer/setup.sh 2>&1 >/dev/null)
rc=$?
if [ $rc = 77 ]; then
    echo "SKIPPED test_train_vocab_conformance: $reason"
    exit 0
elif [ $rc != 0 ]; then
    echo "setup failed: $reason"
    exit 1
fi
[ -x "$BUILD/tools/lcx_vocab" ] || { echo "missing $BUILD/tools/lcx_vocab (make test builds it)"; exit 1; }
rm -rf "$work" && mkdir -p "$work" || exit 1
check=tests/tokenizer/train_vocab_check.js
"$BUILD/tools/lcx_vocab" "$work/tokenizer.json" --merges 2000 --dump-text "$work/text.txt" || exit 1
node "$check" corpus "$work/text.txt" "$work/corpus.jsonl" || exit 1
status=0
for special in 0 1; do
    flag=
    [ $special = 1 ] && flag=--add-special
    node "$check" encode "$NPM_DIR" "$work/tokenizer.json" "$work/corpus.jsonl" "$work/want$special.jsonl" $special ||
        { echo "reference failed"; exit 1; }
    # shellcheck disable=SC2086
    "$LCX" tokenize --tokenizer "$work/tokenizer.json" --jsonl $flag --file "$work/corpus.jsonl" \
        >"$work/got$special.jsonl" || { echo "lcx tokenize failed"; exit 1; }
    node "$check" compare "learnt 2000 merges, add_special=$special" "$work/corpus.jsonl" \
        "$work/want$special.jsonl" "$work/got$special.jsonl" || status=1
done
exit $status
