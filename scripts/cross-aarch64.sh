#!/bin/sh
# Cross-compile lcx for aarch64 (Debian's gcc-aarch64-linux-gnu and the
# arm64 -dev libraries, multiarch) into build-aarch64/, then run the C unit
# tests under qemu-user, once per kernel variant (neon and generic). The
# shell tests need a native lcx and are reported as skipped.
#   sh scripts/cross-aarch64.sh        (scripts/install-deps.sh --ci installs
#                                       what it needs)
set -e
cd "$(dirname "$0")/.."
B=build-aarch64
CROSS=aarch64-linux-gnu
command -v $CROSS-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || {
    echo "cross-aarch64: needs $CROSS-gcc and qemu-aarch64 (sh scripts/install-deps.sh --ci)" >&2
    exit 2
}
PKG_CONFIG_LIBDIR=/usr/lib/$CROSS/pkgconfig:/usr/share/pkgconfig
export PKG_CONFIG_LIBDIR
make -j2 --no-print-directory BUILD=$B LCX_BIN=$B/lcx CC=$CROSS-gcc HOSTCC=cc test-bins
RUNNER="qemu-aarch64 -L /usr/$CROSS -E LD_LIBRARY_PATH=/usr/lib/$CROSS"
$RUNNER $B/lcx --version | tee $B/version.txt
grep -q "built: generic neon" $B/version.txt || { echo "cross-aarch64: not an aarch64 build" >&2; exit 1; }
status=0
for isa in neon generic; do
    echo "== aarch64 unit tests under qemu, LCX_ISA=$isa"
    OMP_WAIT_POLICY=passive LCX_ISA=$isa RUNNER="$RUNNER" SKIP_SHELL="needs a native lcx (aarch64 build under qemu)" \
        LCX=$B/lcx BUILD=$B sh tests/run.sh $B/tests/test_* || status=1
done
exit $status
