#!/bin/sh
# test_engine_badinput.sh: broken model directories make `lcx complete` exit 2
# with one line on stderr naming the file and the field, tensor or offset;
# never a crash (run under ASan by `make test SAN=1`). Also a smoke run of
# `lcx complete --dump-logits` and `lcx probe --out` on a good model.
set -u
LCX=${LCX:-./lcx}
SRC=tests/reference/models/llama_f32
IDS=$SRC/ids.json
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# copy the good model to $T/$1
fresh() {
    rm -rf "$T/$1"
    mkdir -p "$T/$1"
    cp "$SRC/config.json" "$SRC/model.safetensors" "$T/$1/"
}

# expect NAME PATTERN...: exit 2, one stderr line matching every pattern
expect() {
    name=$1
    shift
    "$LCX" complete --model "$T/$name" --prompt-ids "$IDS" --max-tokens 1 >"$T/out" 2>"$T/err"
    rc=$?
    lines=$(wc -l <"$T/err")
    if [ "$rc" != 2 ] || [ "$lines" != 1 ]; then
        echo "FAIL $name: exit $rc, $lines stderr lines:"
        cat "$T/err"
        fail=1
        return
    fi
    for pat in "$@"; do
        if ! grep -q -- "$pat" "$T/err"; then
            echo "FAIL $name: stderr lacks '$pat':"
            cat "$T/err"
            fail=1
            return
        fi
    done
    echo "ok   $name: $(cat "$T/err")"
}

# a one-file model whose model.safetensors has header JSON $2 and $3 data bytes
tiny() {
    fresh "$1"
    len=$(printf '%s' "$2" | wc -c)
    {
        printf "\\$(printf %03o $((len % 256)))\\$(printf %03o $((len / 256)))\\000\\000\\000\\000\\000\\000"
        printf '%s' "$2"
        head -c "$3" /dev/zero
    } >"$T/$1/model.safetensors"
}

# in-place edit of a model file keeping its length (header text only)
edit() {
    LC_ALL=C sed -i "0,/$2/s//$3/" "$T/$1/$4"
}

fresh truncated_data
head -c $(($(wc -c <"$SRC/model.safetensors") - 4)) "$SRC/model.safetensors" >"$T/truncated_data/model.safetensors"
expect truncated_data "model.safetensors" "past the end of the data"

fresh truncated_header
head -c 100 "$SRC/model.safetensors" >"$T/truncated_header/model.safetensors"
expect truncated_header "model.safetensors" "header length" "past the end"

fresh short_file
printf 'abcd' >"$T/short_file/model.safetensors"
expect short_file "model.safetensors" "truncated"

fresh huge_header
printf '\377\377\377\377\377\377\377\177{}' >"$T/huge_header/model.safetensors"
expect huge_header "model.safetensors" "header length" "offset 0"

tiny overlap '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}' 12
expect overlap "model.safetensors" "overlap"

tiny out_of_range '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' 4
expect out_of_range "model.safetensors" "tensor 'a'" "past the end"

tiny size_mismatch '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}' 8
expect size_mismatch "model.safetensors" "tensor 'a'" "needs 12"

tiny unknown_dtype '{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}' 8
expect unknown_dtype "model.safetensors" "unknown dtype"

tiny bad_json '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}' 8
expect bad_json "model.safetensors" "header JSON"

tiny negative_shape '{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}' 8
expect negative_shape "model.safetensors" "shape"

fresh missing_tensor
edit missing_tensor 'model.norm.weight' 'model.norX.weight' model.safetensors
expect missing_tensor "model.safetensors" "missing tensor 'model.norm.weight'"

fresh wrong_dtype
edit wrong_dtype '"dtype":"F32"' '"dtype":"I32"' model.safetensors
expect wrong_dtype "model.safetensors" "dtype I32 is not supported"

fresh wrong_shape
edit wrong_shape '\[96,64\]' '[64,96]' model.safetensors
expect wrong_shape "model.safetensors" "shape \[64, 96\], expected \[96, 64\]"

fresh unknown_arch
edit unknown_arch 'LlamaForCausalLM' 'GPT2LMHeadModel' config.json
expect unknown_arch "config.json" "architectures" "GPT2LMHeadModel"

fresh unknown_rope
edit unknown_rope '"rope_theta": 10000.0' '"rope_scaling": {"rope_type": "longrope", "factor": 2}, "rope_theta": 10000.0' config.json
expect unknown_rope "config.json" "rope_scaling.rope_type" "longrope"

fresh missing_field
edit missing_field '"hidden_size"' '"hidden_sizes"' config.json
expect missing_field "config.json" "hidden_size"

fresh bad_gqa
edit bad_gqa '"num_key_value_heads": 2' '"num_key_value_heads": 3' config.json
expect bad_gqa "config.json" "num_key_value_heads"

fresh no_config
rm "$T/no_config/config.json"
expect no_config "config.json" "cannot open"

fresh bad_index
rm "$T/bad_index/model.safetensors"
printf '{"weight_map": {"model.embed_tokens.weight": "../../etc/passwd"}}' >"$T/bad_index/model.safetensors.index.json"
expect bad_index "model.safetensors.index.json" "weight_map"

fresh missing_shard
rm "$T/missing_shard/model.safetensors"
printf '{"weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors"}}' >"$T/missing_shard/model.safetensors.index.json"
expect missing_shard "model-00001-of-00002.safetensors" "cannot open"

# bad token ids
printf '[1, 2, 999]' >"$T/bad_ids.json"
"$LCX" complete --model "$SRC" --prompt-ids "$T/bad_ids.json" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" != 2 ] || ! grep -q "token id 999" "$T/err"; then
    echo "FAIL bad_ids: exit $rc"; cat "$T/err"; fail=1
fi

# good runs: dump logits, probe JSON
if ! "$LCX" complete --model "$SRC" --prompt-ids "$IDS" --max-tokens 4 --dump-logits "$T/l.npy" \
        --yarn-factor 4 --yarn-orig-ctx 32 --attn-temperature 1.5 >"$T/out" 2>"$T/err"; then
    echo "FAIL complete"; cat "$T/err"; fail=1
fi
size=$(wc -c <"$T/l.npy" 2>/dev/null || echo 0)
if [ "$size" != $((128 + 80 * 256 * 4)) ]; then
    echo "FAIL dump-logits size $size"; fail=1
fi
grep -q "rope yarn: .*factor 4 orig_ctx 32 .*temperature 1.5" "$T/err" || { echo "FAIL rope line"; cat "$T/err"; fail=1; }
grep -q "prefill: 80 tokens" "$T/err" || { echo "FAIL prefill line"; fail=1; }
if ! "$LCX" probe --model tests/reference/models/qwen3_gate_headwise --prompt-ids "$IDS" \
        --out "$T/p.json" >"$T/out" 2>"$T/err"; then
    echo "FAIL probe"; cat "$T/err"; fail=1
fi
grep -q '"gate_mean"' "$T/p.json" 2>/dev/null || { echo "FAIL probe json"; fail=1; }
# with a tokenizer: text prompt, stop string, and a RULER prompt fitted to a length
G=tests/reference/models/qwen3_gate_headwise
printf 'The quick brown fox' >"$T/prompt.txt"
if ! "$LCX" complete --model "$G" --prompt-file "$T/prompt.txt" --max-tokens 8 --temperature 0.8 \
        --top-k 40 --top-p 0.9 --seed 3 --stop zz >"$T/out" 2>"$T/err"; then
    echo "FAIL complete --prompt-file"; cat "$T/err"; fail=1
fi
grep -q "prefill: 19 tokens" "$T/err" || { echo "FAIL prompt-file tokens"; cat "$T/err"; fail=1; }
if ! "$LCX" probe --model "$G" --length 1k --out "$T/r.json" >"$T/out" 2>"$T/err"; then
    echo "FAIL probe --length"; cat "$T/err"; fail=1
fi
grep -q '"tokens": 89[0-9]' "$T/r.json" 2>/dev/null || { echo "FAIL probe --length json"; cat "$T/r.json"; fail=1; }
"$LCX" probe --model "$SRC" --length 1k >"$T/out" 2>"$T/err"
[ $? = 2 ] && grep -q "tokenizer" "$T/err" || { echo "FAIL probe without tokenizer"; cat "$T/err"; fail=1; }
exit $fail
