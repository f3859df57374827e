#!/bin/sh
# The SVG charts (results/plot.h) as documents: each kind, written by
# tests/tools/lcx_plotdemo with realistic figures, parses as XML (xmllint from
# libxml2-utils) with an <svg> root of the SVG namespace and the declared size;
# an unwritable output directory is an error and leaves nothing.
# (Looked at in a browser with scripts/svg_screenshot.sh.)
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

if ! command -v xmllint >/dev/null 2>&1; then
    echo "SKIPPED: xmllint not installed"
    exit 0
fi
demo=$BUILD/tools/lcx_plotdemo
[ -x "$demo" ] || fail "$demo not built"

"$demo" "$tmp" || fail "lcx_plotdemo"
for f in scores heatmap probe odd probe_deep heatmap_row; do
    svg=$tmp/$f.svg
    [ -s "$svg" ] || fail "$f.svg not written"
    xmllint --noout "$svg" 2>"$tmp/err" || { cat "$tmp/err"; fail "$f.svg is not well-formed XML"; }
    root=$(xmllint --xpath 'concat(local-name(/*), " ", namespace-uri(/*))' "$svg") || fail "$f.svg: xpath"
    [ "$root" = "svg http://www.w3.org/2000/svg" ] || fail "$f.svg: root is '$root'"
    w=$(xmllint --xpath 'string(/*/@width)' "$svg")
    vb=$(xmllint --xpath 'string(/*/@viewBox)' "$svg")
    [ -n "$w" ] && [ "$vb" = "0 0 $w $(xmllint --xpath 'string(/*/@height)' "$svg")" ] \
        || fail "$f.svg: width/height/viewBox '$w' '$vb'"
    n=$(xmllint --xpath 'count(//*[local-name()="text"])' "$svg")
    [ "$n" -gt 5 ] || fail "$f.svg: only $n text elements"
done
# what each kind must show
grep -q 'beyond original context (&gt; 512)' "$tmp/scores.svg" || fail "scores: no shaded-region label"
# tiny-gated misses 4K: its line stops at 2K and 8K is a lone marker
[ "$(xmllint --xpath 'count(//*[local-name()="polyline"])' "$tmp/scores.svg")" = 2 ] \
    || fail "scores: the missing 4K point of tiny-gated should break its line"
[ "$(xmllint --xpath 'count(//*[contains(@class, "pt s1")])' "$tmp/scores.svg")" = 3 ] \
    || fail "scores: tiny-gated should have 3 markers"
[ "$(xmllint --xpath 'count(//*[@class="best"])' "$tmp/heatmap.svg")" = 4 ] || fail "heatmap: best cells"
[ "$(xmllint --xpath 'count(//*[@class="cell"])' "$tmp/heatmap.svg")" = 16 ] || fail "heatmap: cells"
xmllint --xpath 'string(//*[local-name()="text"][contains(., "no gate")])' "$tmp/probe.svg" \
    | grep -q 'no gate' || fail "probe: no 'no gate' note"
# the escaped names come back as written
[ "$(xmllint --xpath "count(//*[local-name()='text'][. = concat('a<b&', '\"c\"')])" "$tmp/odd.svg")" = 1 ] \
    || fail "odd: the name a<b&\"c\" does not round-trip"

# an unwritable output: an error, nothing written
mkdir "$tmp/ro" && touch "$tmp/ro/x"
"$demo" "$tmp/ro/x" 2>"$tmp/err" && fail "writing under a file succeeded"
grep -q 'lcx_plotdemo: plot: ' "$tmp/err" || { cat "$tmp/err"; fail "no error message"; }
[ "$(ls -A "$tmp/ro")" = x ] || fail "something was left in $tmp/ro"
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left"
exit 0
