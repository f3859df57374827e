#!/bin/sh
# Run every benchmark: the compiled $BUILD/bench/* programs, then bench/*.sh.
# Each prints its own figures; record them with the machine in bench/RESULTS.md.
set -e
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
# the CPU's SIMD flags and the kernel variant the figures are for
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|f16c|avx512[a-z0-9_]*)$' | tr '\n' ' ')"
"$LCX" --version | grep '^kernels:'
for b in "$BUILD"/bench/*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
for s in bench/*.sh; do
    [ "$s" = bench/run.sh ] && continue
    [ -f "$s" ] || continue
    echo "== $(basename "$s" .sh)"
    LCX="$LCX" BUILD="$BUILD" sh "$s"
done
