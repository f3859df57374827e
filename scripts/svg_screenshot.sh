#!/bin/sh
# svg_screenshot.sh SVG...: render each SVG in headless Chromium (Debian's
# chromium package) to a PNG next to it (plot.svg -> plot.png), at the size
# the SVG declares. Installs chromium with apt-get when it is missing and we
# are root. Exit 1 when Chromium is unavailable or a render fails.
set -u
[ $# -ge 1 ] || { echo "usage: scripts/svg_screenshot.sh SVG..." >&2; exit 2; }
CHROMIUM=${CHROMIUM:-chromium}
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || exit 1
    else
        echo "svg_screenshot: chromium is not installed; run: sudo apt-get install -y chromium" >&2
        exit 1
    fi
fi
status=0
for svg in "$@"; do
    [ -f "$svg" ] || { echo "svg_screenshot: $svg: no such file" >&2; status=1; continue; }
    abs=$(cd "$(dirname "$svg")" && pwd)/$(basename "$svg")
    png=${abs%.svg}.png
    # The window is the SVG's declared size (its first width= and height=).
    w=$(grep -o '<svg[^>]*' "$abs" | head -n 1 | sed -n 's/.* width="\([0-9.]*\)".*/\1/p' | cut -d. -f1)
    h=$(grep -o '<svg[^>]*' "$abs" | head -n 1 | sed -n 's/.* height="\([0-9.]*\)".*/\1/p' | cut -d. -f1)
    w=${w:-800} h=${h:-600}
    rm -f "$png"
    profile=$(mktemp -d)
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$profile" --force-device-scale-factor=1 \
        --default-background-color=ffffffff \
        --screenshot="$png" --window-size="$w,$h" "file://$abs" >/dev/null 2>&1
    rm -rf "$profile"
    if [ -s "$png" ]; then
        echo "$png (${w}x$h)"
    else
        echo "svg_screenshot: $svg: no screenshot" >&2
        status=1
    fi
done
exit $status
