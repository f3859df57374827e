#!/bin/sh
# test_engine_opts.sh: --kv-dtype and --max-memory of lcx complete and lcx
# probe (harness/engine_opts.c): the memory line each prints before its
# session starts, a KV cache half the size in BF16 and F16, F32 as the
# default with the same logits as before the option existed, refusals
# when a session will not fit, and bad values (one line, exit 2).
set -u
LCX=${LCX:-./lcx}
MODEL=tests/reference/models/llama_f32
IDS=$MODEL/ids.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# The memory line: weights + KV cache (dtype, positions) + activations.
for dt in f32 bf16 f16; do
    $LCX complete --model $MODEL --prompt-ids $IDS --max-tokens 2 --kv-dtype $dt \
        --dump-logits "$tmp/$dt.npy" >/dev/null 2>"$tmp/err_$dt" || { cat "$tmp/err_$dt"; fail "complete --kv-dtype $dt"; }
    grep -q "^memory: .* = weights .* + KV cache .* ($dt, [0-9]* positions) + activations .*; .* available (MemAvailable)$" "$tmp/err_$dt" ||
        { cat "$tmp/err_$dt"; fail "$dt: no memory line"; }
done
kv() { sed -n 's/^memory: .* + KV cache \([0-9.]*\) \([KMG]iB\|B\) .*/\1 \2/p' "$1"; }
f32=$(kv "$tmp/err_f32") bf16=$(kv "$tmp/err_bf16") f16=$(kv "$tmp/err_f16")
[ -n "$f32" ] && [ "$bf16" = "$f16" ] || fail "KV sizes: f32 '$f32', bf16 '$bf16', f16 '$f16'"
awk -v a="$f32" -v b="$bf16" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[2] == y[2] && x[1] == 2 * y[1]) }' ||
    fail "the BF16 cache ($bf16) is not half the F32 one ($f32)"

# F32 is the default and the cache's dtype changes the logits only a little
# (test_engine_logits measures how little): same shape, other bytes.
$LCX complete --model $MODEL --prompt-ids $IDS --max-tokens 2 --dump-logits "$tmp/default.npy" \
    >/dev/null 2>&1 || fail "complete without --kv-dtype"
cmp -s "$tmp/default.npy" "$tmp/f32.npy" || fail "the default is not --kv-dtype f32"
[ "$(wc -c <"$tmp/bf16.npy")" = "$(wc -c <"$tmp/f32.npy")" ] || fail "bf16 logits of another shape"
cmp -s "$tmp/bf16.npy" "$tmp/f32.npy" && fail "--kv-dtype bf16 changed nothing"

# lcx probe: the same line, and the dtype in its JSON.
$LCX probe --model $MODEL --prompt-ids $IDS --kv-dtype bf16 --out "$tmp/probe.json" >/dev/null 2>"$tmp/err" ||
    { cat "$tmp/err"; fail "probe --kv-dtype bf16"; }
grep -q "^memory: .* (bf16, " "$tmp/err" || { cat "$tmp/err"; fail "probe: no memory line"; }
grep -q '"kv_dtype": "bf16"' "$tmp/probe.json" || fail "probe.json lacks kv_dtype"

# A budget: --max-memory SIZE replaces MemAvailable; off skips the check.
$LCX complete --model $MODEL --prompt-ids $IDS --max-tokens 1 --max-memory 1G >/dev/null 2>"$tmp/err" ||
    fail "--max-memory 1G"
grep -q "^memory: .*; 1.00 GiB allowed (--max-memory)$" "$tmp/err" || { cat "$tmp/err"; fail "budget not in the line"; }
$LCX complete --model $MODEL --prompt-ids $IDS --max-tokens 1 --max-memory off >/dev/null 2>"$tmp/err" ||
    fail "--max-memory off"
grep -q "^memory: .*; not checked (--max-memory off)$" "$tmp/err" || { cat "$tmp/err"; fail "off not in the line"; }
for cmd in complete probe; do
    expect_error "position session needs" $LCX $cmd --model $MODEL --prompt-ids $IDS --max-memory 20K
    grep -q "but --max-memory is 20.0 KiB; try --kv-dtype bf16 (needs .*), a shorter context, or --max-memory off to run anyway" "$tmp/err" ||
        { cat "$tmp/err"; fail "$cmd: refusal without the numbers or the way out"; }
    expect_error "KV cache " $LCX $cmd --model $MODEL --prompt-ids $IDS --max-memory 20K --kv-dtype f16
    grep -q -- "--kv-dtype bf16" "$tmp/err" && fail "$cmd: hint of bf16 to an f16 session"
done

# Bad values.
for cmd in complete probe; do
    expect_error "option --kv-dtype: unknown KV cache dtype 'fp16' (f32, bf16 or f16)" $LCX $cmd --model $MODEL --prompt-ids $IDS --kv-dtype fp16
    expect_error "option --kv-dtype: unknown KV cache dtype 'BF16'" $LCX $cmd --model $MODEL --prompt-ids $IDS --kv-dtype=BF16
    expect_error "option --kv-dtype needs a value" $LCX $cmd --model $MODEL --prompt-ids $IDS --kv-dtype
    expect_error "option --max-memory: '12X' is not a byte count" $LCX $cmd --model $MODEL --prompt-ids $IDS --max-memory 12X
    expect_error "option --max-memory: '0' is not a byte count" $LCX $cmd --model $MODEL --prompt-ids $IDS --max-memory 0
done
$LCX complete --help | grep -q -- "--kv-dtype T" || fail "complete --help lacks --kv-dtype"
$LCX probe --help | grep -q -- "--max-memory SIZE|off" || fail "probe --help lacks --max-memory"
$LCX run --help | grep -q -- "--kv-dtype T" || fail "run --help lacks --kv-dtype"
echo "ok   test_engine_opts"
exit 0
