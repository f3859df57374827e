#!/bin/sh
# lcx run against replicas of one model (several --endpoint, or
# --endpoints-file): three loopback servers (tests/tools/lcx_testd.c), one
# killed mid-run: every sample recorded once, the scores equal a one-server
# run's, run.json says how many requests each replica served; a replica
# down from the start; every replica down (at the start, and mid-run, then
# resumed); bad input.
set -u
LCX=${LCX:-./lcx}
TESTD=${BUILD:-build}/tools/lcx_testd
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
. tests/lib.sh

start_server() { n_=$1; shift; testd_start "$n_" --data "$tmp/data" "$@"; }
records() { cat "$1"/pred/*/*.jsonl 2>/dev/null | wc -l; }
# The samples a run recorded, one line each: length/task index.
sample_ids() {
    for f in "$1"/pred/*/*.jsonl; do
        t=$(basename "$f" .jsonl)
        grep -o '"index": *[0-9]*' "$f" | tr -dc '0-9\n' | sed "s|^|$t |"
    done | sort
}
summary_means() { tr -d ' \n' <"$1/summary.json" | grep -o '"means":{[^}]*}'; }

# niah_multivalue answered with its first value scores 25 a sample, so the
# scores tell a missing or doubled sample apart.
SUITE="--tasks niah_single_1,niah_multivalue --lengths 800 --samples 40 --seed 3"
$LCX gen $SUITE --out "$tmp/data" --quiet || fail "gen"
N=80
FAST="--max-retries 3 --backoff 0.05 --backoff-max 0.2 --replica-cooldown 0.3"

# The reference: one server.
start_server one --answer first
$LCX run --endpoint "$url" --data "$tmp/data" $SUITE --out "$tmp/ref" --quiet || fail "one-server run"
grep -q '"endpoint":' "$tmp/ref/pred/800/niah_single_1.jsonl" && fail "a one-server run names the endpoint per record"

# 1. Three replicas, the second killed once 15 samples are in.
start_server a --answer first --delay-ms 30
ua=$url
start_server b --answer first --delay-ms 30
ub=$url pb=$pid
start_server c --answer first --delay-ms 30
uc=$url
$LCX run --endpoint "$ua" --endpoint "$ub" --endpoint "$uc" --concurrency 2 $FAST \
    --data "$tmp/data" $SUITE --out "$tmp/r1" >"$tmp/r1.out" 2>"$tmp/r1.err" &
run=$!
n=0
while [ "$(records "$tmp/r1")" -lt 15 ] && [ $n -lt 400 ]; do sleep 0.02; n=$((n + 1)); done
kill -9 "$pb"
wait "$run" || { cat "$tmp/r1.err"; fail "replica run with one replica killed"; }
[ "$(records "$tmp/r1")" = $N ] || fail "replica run: $(records "$tmp/r1") records, want $N"
[ "$(sample_ids "$tmp/r1" | uniq | wc -l)" = $N ] || fail "replica run: a sample recorded twice or missing"
[ "$(summary_means "$tmp/r1")" = "$(summary_means "$tmp/ref")" ] ||
    fail "replica run scores $(summary_means "$tmp/r1") differ from one server's $(summary_means "$tmp/ref")"
grep -q "endpoint $ub set aside" "$tmp/r1.err" || { cat "$tmp/r1.err"; fail "the killed replica was not said to be set aside"; }
tr -d ' \n' <"$tmp/r1/run.json" >"$tmp/r1.json"
served=0
for u in "$ua" "$ub" "$uc"; do
    s=$(grep -o "{\"url\":\"$u\",\"served\":[0-9]*" "$tmp/r1.json" | sed 's/.*://')
    [ -n "$s" ] && [ "$s" -gt 0 ] || fail "run.json: replica $u served '${s}' requests (want > 0)"
    c=$(cat "$tmp/r1"/pred/*/*.jsonl | grep -c "\"endpoint\": *\"$u\"")
    [ "$c" = "$s" ] || fail "replica $u: run.json says $s served, the records $c"
    served=$((served + s))
done
[ $served = $N ] || fail "replicas served $served requests in all, want $N"
# lcx_testd is not lcx serve: whether it answers deterministically is unknown.
grep -q '"deterministic":null' "$tmp/r1.json" || fail "run.json: deterministic should be null for another server"
grep -q "\"url\":\"$ub\",\"served\":[0-9]*,\"failed_attempts\":[1-9][0-9]*,\"set_aside\":[1-9]" "$tmp/r1.json" ||
    fail "run.json: the killed replica's failures and set-asides"

# 2. A replica down from the start (the killed one's address), from a file:
#    said, set aside, the run completes on the others.
printf '# replicas\n%s\n\n  %s  \n%s # the killed one\n' "$ua" "$uc" "$ub" >"$tmp/eps"
$LCX run --endpoints-file "$tmp/eps" --concurrency 2 $FAST --data "$tmp/data" $SUITE \
    --out "$tmp/r2" >"$tmp/r2.out" 2>"$tmp/r2.err" || { cat "$tmp/r2.err"; fail "run with a replica down"; }
grep -q "$ub is unreachable.*set aside" "$tmp/r2.err" || { cat "$tmp/r2.err"; fail "a replica down at the start not said"; }
[ "$(summary_means "$tmp/r2")" = "$(summary_means "$tmp/ref")" ] || fail "run with a replica down: other scores"

# 3. Every replica down mid-run: one line, exit 2, nothing lost; the rerun
#    with live replicas completes it.
start_server d --answer first --delay-ms 30
ud=$url pd=$pid
start_server e --answer first --delay-ms 30
ue=$url pe=$pid
$LCX run --endpoint "$ud" --endpoint "$ue" --concurrency 2 $FAST --quiet --data "$tmp/data" $SUITE \
    --out "$tmp/r3" >"$tmp/r3.out" 2>"$tmp/r3.err" &
run=$!
n=0
while [ "$(records "$tmp/r3")" -lt 10 ] && [ $n -lt 400 ]; do sleep 0.02; n=$((n + 1)); done
kill -9 "$pd" "$pe"
wait "$run"
rc=$?
[ $rc = 2 ] || { cat "$tmp/r3.err"; fail "every replica down: exit $rc, want 2"; }
[ "$(wc -l <"$tmp/r3.err")" = 1 ] && grep -q "every endpoint is down (2 replicas" "$tmp/r3.err" ||
    { cat "$tmp/r3.err"; fail "every replica down: not the one-line error"; }
got=$(records "$tmp/r3")
[ "$got" -lt $N ] || fail "every replica down: the run did not stop"
[ "$(grep -c '"error": *"' "$tmp"/r3/pred/*/*.jsonl | awk -F: '{s += $2} END {print s}')" = 0 ] ||
    fail "every replica down: failures were recorded as samples"
$LCX run --endpoint "$ua" --endpoint "$uc" --concurrency 2 $FAST --quiet --data "$tmp/data" $SUITE \
    --out "$tmp/r3" || fail "resume on live replicas"
[ "$(sample_ids "$tmp/r3" | uniq | wc -l)" = $N ] || fail "resumed run: a sample recorded twice or missing"
[ "$(summary_means "$tmp/r3")" = "$(summary_means "$tmp/ref")" ] || fail "resumed run: other scores"

# 4. Bad input: each one line, exit 2, nothing written.
expect_error "every endpoint is unreachable (2 replicas; first: endpoint $ud is unreachable" \
    $LCX run --endpoint "$ud" --endpoint "$ue" --data "$tmp/data" $SUITE --out "$tmp/x"
: >"$tmp/empty"
expect_error "--endpoints-file $tmp/empty: no endpoint URL in it" \
    $LCX run --endpoints-file "$tmp/empty" --data "$tmp/data" $SUITE --out "$tmp/x"
expect_error "--endpoints-file: " $LCX run --endpoints-file "$tmp/nope" --data "$tmp/data" $SUITE --out "$tmp/x"
printf '%s %s\n' "$ua" "$uc" >"$tmp/two"
expect_error "--endpoints-file $tmp/two:1: one URL a line" \
    $LCX run --endpoints-file "$tmp/two" --data "$tmp/data" $SUITE --out "$tmp/x"
expect_error "--endpoint $ua is given twice" \
    $LCX run --endpoint "$ua" --endpoint "$ua/" --data "$tmp/data" $SUITE --out "$tmp/x"
expect_error "--endpoint: an empty URL" $LCX run --endpoint "$ua" --endpoint "" --data "$tmp/data" $SUITE --out "$tmp/x"
[ -e "$tmp/x" ] && fail "bad input left $tmp/x"
echo "ok"
