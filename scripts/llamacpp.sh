#!/bin/sh
# scripts/llamacpp.sh: build llama.cpp's llama-server and llama-bench once per
# machine, outside the repository, and print the directory that holds them.
# llama-server is the real peer lcx's HTTP path is tested against
# (tests/test_llamacpp.sh); llama-bench is there for speed comparisons.
#
#   sh scripts/llamacpp.sh                       # -> ~/.cache/lcx-llamacpp/src/build/bin
#   LCX_LLAMACPP_DIR=/opt/llamacpp sh scripts/llamacpp.sh
#
# Source: the llama.cpp release that the npm package node-llama-cpp 3.22.1
# ships for building from source (package/llama/gitRelease.bundle in its
# tarball; package/llama/llama.cpp.info.json names it ggml-org/llama.cpp
# v0.5.0). npm tarballs are immutable, so every machine builds the same
# commit, checked below. It is fetched with `npm pack`, npm's own client.
#
# The build is portable: GGML_NATIVE=OFF, and on x86-64 and aarch64
# GGML_CPU_ALL_VARIANTS with GGML_BACKEND_DL, so ggml's CPU backend is built
# once per instruction-set level (x86-64: SSE4.2 up to AVX-512 and AMX) as
# libggml-cpu-*.so beside the programs, and the best one for the CPU is
# loaded at start. A cache directory shared by AVX2 and AVX-512 machines then
# works on both. On other architectures only the baseline is built. No
# network at build time: the web UI is not downloaded (llama-server runs
# without it), HTTPS support (OpenSSL) is off, tests and examples are not
# built.
#
# A build already in place (llama-server and llama-bench in the bin
# directory) is accepted as it is, whatever its flags, so nobody waits for a
# second build; delete DIR/src/build to rebuild. On 2 cores the build takes
# roughly 40 min: about 20 for llama.cpp itself, and each of the 14 x86-64
# CPU variants about 3 min of one core (LCX_LLAMACPP_JOBS, default all
# cores).
#
# Needs: npm, git, cmake, a C/C++ compiler (Debian: apt-get install npm git
# cmake g++).
set -eu

VERSION=3.22.1
COMMIT=de3ff815ea7d559ee917f063901b8986f038abc6 # HEAD of that gitRelease.bundle

die() {
    echo "llamacpp.sh: $*" >&2
    exit 2
}

dir=${LCX_LLAMACPP_DIR:-${HOME:?HOME is not set; set LCX_LLAMACPP_DIR}/.cache/lcx-llamacpp}
src=$dir/src
bin=$src/build/bin
if [ -x "$bin/llama-server" ] && [ -x "$bin/llama-bench" ]; then
    echo "$bin"
    exit 0
fi

for tool in npm git cmake tar c++; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (Debian: apt-get install npm git cmake g++)"
done
mkdir -p "$dir" || die "cannot create $dir"

if [ ! -d "$src/.git" ]; then
    work=$(mktemp -d "$dir/fetch.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "node-llama-cpp@$VERSION" >/dev/null) ||
        die "npm pack node-llama-cpp@$VERSION failed"
    tar -xzf "$work/node-llama-cpp-$VERSION.tgz" -C "$work" package/llama/gitRelease.bundle ||
        die "node-llama-cpp-$VERSION.tgz has no package/llama/gitRelease.bundle"
    rm -rf "$src.partial"
    git -c advice.detachedHead=false clone --quiet "$work/package/llama/gitRelease.bundle" "$src.partial" ||
        die "git clone of the bundle failed"
    mv "$src.partial" "$src"
fi
head=$(git -C "$src" rev-parse HEAD)
[ "$head" = "$COMMIT" ] ||
    die "$src is at $head, not $COMMIT (node-llama-cpp $VERSION's llama.cpp); remove $src to fetch it again"

case $(uname -m) in
x86_64 | amd64 | aarch64 | arm64) cpu="-DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON" ;;
*) cpu="" ;;
esac
log=$dir/build.log
echo "llamacpp.sh: building llama-server and llama-bench in $src/build (log: $log)" >&2
# shellcheck disable=SC2086
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DGGML_NATIVE=OFF $cpu \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "cmake configure failed (log: $log)"; }
jobs=${LCX_LLAMACPP_JOBS:-$(nproc 2>/dev/null || echo 2)}
cmake --build "$src/build" -j "$jobs" --target llama-server llama-bench >>"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "build failed (log: $log)"; }
[ -x "$bin/llama-server" ] && [ -x "$bin/llama-bench" ] || die "the build left no llama-server in $bin"
echo "$bin"
