#!/bin/sh
# Conformance with RULER's prompts (docs/ruler.md): `lcx gen` output for all
# 13 tasks, every template lcx offers, both fitting methods, below and above
# 4K, rebuilt byte for byte by tests/tools/lcx_rulerconf from its own copy
# of RULER's strings; and mutated records (the differences lcx once had)
# are caught.
set -u
LCX=${LCX:-./lcx}
BUILD=${BUILD:-build}
CONF=$BUILD/tools/lcx_rulerconf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

[ -x "$CONF" ] || fail "$CONF not built"

templates="base chatml llama3 meta-chat phi3 vicuna-chat command-r lwm-chat chatglm rwkv jamba nemotron5"
for t in $templates; do
    $LCX gen --out "$tmp/$t" --lengths 3800,8192 --samples 3 --template "$t" --quiet ||
        fail "gen --template $t"
    "$CONF" "$tmp/$t" "$t" >"$tmp/log" || { grep -v '^ok' "$tmp/log"; fail "template $t"; }
    grep -q "78 records match" "$tmp/log" || { cat "$tmp/log"; fail "template $t: not 78 records"; }
done
# RULER's own template names are accepted and give the same bytes.
$LCX gen --out "$tmp/ruler-names" --tasks vt,cwe --lengths 8192 --samples 2 --template command-r-chat --quiet ||
    fail "gen --template command-r-chat"
$LCX gen --out "$tmp/lcx-names" --tasks vt,cwe --lengths 8192 --samples 2 --template command-r --quiet ||
    fail "gen --template command-r"
diff -r "$tmp/ruler-names" "$tmp/lcx-names" >/dev/null || fail "command-r-chat and command-r differ"
grep -qF '"input":"<BOS_TOKEN><|START_OF_TURN_TOKEN|>' "$tmp/command-r/8192/cwe.jsonl" ||
    fail "command-r does not begin with <BOS_TOKEN>"

# RULER's fitting method writes the same prompt format.
$LCX gen --out "$tmp/rf" --lengths 3800,8192 --samples 3 --fit ruler --template phi3 --quiet ||
    fail "gen --fit ruler"
"$CONF" "$tmp/rf" phi3 >"$tmp/log" || { grep -v '^ok' "$tmp/log"; fail "--fit ruler"; }

# The checker catches each difference lcx had before (base, 8192).
mutate() { # task sed-expression what
    rm -rf "$tmp/m" && mkdir -p "$tmp/m/8192"
    sed "$2" "$tmp/base/8192/$1.jsonl" >"$tmp/m/8192/$1.jsonl"
    cmp -s "$tmp/base/8192/$1.jsonl" "$tmp/m/8192/$1.jsonl" && fail "mutation did not apply: $3"
    "$CONF" "$tmp/m" base >/dev/null && fail "checker missed: $3"
    return 0
}
mutate vt 's/again\.\\nThe grass/again. The grass/' "vt noise joined with spaces"
mutate vt 's/they are:  \([A-Z]*\) \([A-Z]*\) \([A-Z]*\) \([A-Z]*\) \([A-Z]*\)\\n\\n/they are:  \1 \2 \3 \4 \5\\n/' "vt example without the blank line"
mutate cwe 's/are: 1\. /are:1. /' "cwe example answer without the space"
mutate fwe 's/ \.\.\. / .... /g' "fwe noise word with four dots"
mutate niah_single_1 's/\\nOne of the special magic numbers/ One of the special magic numbers/' "niah needle not on its own line"
mutate qa_1 's/\\n\\nDocument 2:/\\nDocument 2:/' "qa documents joined with one newline"
mutate niah_single_2 's/"answer_prefix":" The/"answer_prefix":"The/' "answer prefix not RULER's split"
rm -rf "$tmp/m" && mkdir -p "$tmp/m/8192"
sed 's/<BOS_TOKEN>//' "$tmp/command-r/8192/cwe.jsonl" >"$tmp/m/8192/cwe.jsonl"
"$CONF" "$tmp/m" command-r >/dev/null && fail "checker missed: command-r without <BOS_TOKEN>"

# Unknown template and unknown --fit: one line, exit 2, nothing written.
expect_error "--template: unknown template 'nope'" $LCX gen --out "$tmp/x" --template nope --quiet
[ -e "$tmp/x" ] && fail "unknown template left $tmp/x"
expect_error "--fit: unknown method 'loose' (tight, ruler)" $LCX gen --out "$tmp/y" --fit loose --quiet
[ -e "$tmp/y" ] && fail "unknown --fit left $tmp/y"
exit 0
