#!/bin/sh
# test_isa_dispatch.sh: the kernel variant is chosen at run time. `lcx
# --version` names the one in use; LCX_ISA forces one; a variant this build
# lacks or this CPU cannot run is refused with one line and exit 2, by
# --version and by a command that loads a model (never a silent fallback or
# a crash on an illegal instruction).
set -u
LCX=${LCX:-./lcx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
MODEL=tests/reference/models/llama_f32
unset LCX_ISA # this test forces each variant itself

"$LCX" --version >"$tmp/v" 2>"$tmp/err" || fail "lcx --version: exit $?"
grep -q '^kernels: [a-z0-9]* (built: .*; CPU: .*)$' "$tmp/v" || { cat "$tmp/v"; fail "no kernels line"; }
best=$(sed -n 's/^kernels: \([a-z0-9]*\) .*/\1/p' "$tmp/v")

expect_error "LCX_ISA=sse9: unknown kernel variant" env LCX_ISA=sse9 "$LCX" --version
expect_error "LCX_ISA=sse9" env LCX_ISA=sse9 "$LCX" complete --model "$MODEL" \
    --prompt-ids "$MODEL/ids.json" --max-tokens 1

refused=0
for v in generic avx2 avx512 amx neon; do
    if env LCX_ISA=$v "$LCX" --version >"$tmp/v" 2>"$tmp/err"; then
        grep -q "^kernels: $v, forced by LCX_ISA" "$tmp/v" || { cat "$tmp/v"; fail "LCX_ISA=$v not in use"; }
        # the forced variant runs the engine
        env LCX_ISA=$v "$LCX" complete --model "$MODEL" --prompt-ids "$MODEL/ids.json" \
            --max-tokens 2 >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "complete with LCX_ISA=$v"; }
    else
        refused=$((refused + 1))
        expect_error "LCX_ISA=$v: this" env LCX_ISA=$v "$LCX" --version
        expect_error "LCX_ISA=$v: this" env LCX_ISA=$v "$LCX" complete --model "$MODEL" \
            --prompt-ids "$MODEL/ids.json" --max-tokens 1
        [ ! -s "$tmp/out" ] || fail "LCX_ISA=$v printed output before refusing"
    fi
done
# no machine runs both neon and the x86 variants, so something is refused
[ "$refused" -ge 1 ] || fail "every variant accepted, including another architecture's"
# the default is the best the CPU runs (cross-checked with the kernel's
# own flags list), and generic is always there
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { echo "$flags" | grep -qw "$1"; }
if has avx2 && has fma && has f16c; then
    case $best in avx2 | avx512 | amx) ;; *) fail "CPU has avx2+fma+f16c, default is $best" ;; esac
fi
if has avx512f && has avx512bw && has avx512dq && has avx512vl; then
    # amx when the CPU has the tiles (and Linux grants them), else avx512
    if has avx512_bf16 && has amx_tile && has amx_bf16; then
        [ "$best" = amx ] || [ "$best" = avx512 ] || fail "CPU has amx, default is $best"
    else
        [ "$best" = avx512 ] || fail "CPU has avx512 without amx, default is $best"
    fi
fi
env LCX_ISA=generic "$LCX" --version >/dev/null || fail "generic refused"
echo "default variant: $best; refused: $refused"
