#!/bin/sh
# Install the Debian packages lcx builds against.
#   install-deps.sh           install them (needs root)
#   install-deps.sh --check   exit 1 when something is missing
#   install-deps.sh --auto    install when root, else print the one command to run
set -e
PKGS="build-essential libcurl4-openssl-dev libjansson-dev libpcre2-dev pkg-config curl libxml2-utils"

missing() {
    for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}

mode=${1:-install}
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
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $m
