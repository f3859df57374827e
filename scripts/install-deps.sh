#!/bin/sh
# Install the Debian packages lcx builds against.
#   install-deps.sh           install them (needs root)
#   install-deps.sh --check   exit 1 when something is missing
#   install-deps.sh --auto    install when root, else print the one command to run
#   install-deps.sh --ci      also what CI's matrix needs: clang with OpenMP and
#                             libFuzzer, and the aarch64 cross toolchain with
#                             arm64 libraries (multiarch) and qemu-user
set -e
PKGS="build-essential libcurl4-openssl-dev libjansson-dev libpcre2-dev libmicrohttpd-dev pkg-config curl jq libxml2-utils"
CI_PKGS="clang libomp-dev libclang-rt-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
 libcurl4-openssl-dev:arm64 libjansson-dev:arm64 libpcre2-dev:arm64 libmicrohttpd-dev:arm64"

mode=${1:-install}
[ "$mode" = --ci ] && PKGS="$PKGS $CI_PKGS"

missing() {
    for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}

m=$(missing | tr '\n' ' ')
case "$mode" in
--check)
    [ -z "$m" ] && exit 0
    echo "missing: $m" >&2
    exit 1
    ;;
--auto)
    [ -z "$m" ] && exit 0
    if [ "$(id -u)" != 0 ]; then
        echo "lcx needs: $m" >&2
        echo "run: sudo sh scripts/install-deps.sh" >&2
        exit 1
    fi
    ;;
esac
[ -z "$m" ] && { echo "dependencies present"; exit 0; }
echo "installing: $m"
export DEBIAN_FRONTEND=noninteractive
case "$m" in
*:arm64*)
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    ;;
esac
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $m
