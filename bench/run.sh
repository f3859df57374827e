#!/bin/sh
# Run every benchmark: the compiled $BUILD/bench/* programs, then bench/*.sh.
# Each prints its own figures; record them with the machine in bench/RESULTS.md.
set -e
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
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
