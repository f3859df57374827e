# tests/lib.sh: what the shell tests share. Source it after setting $tmp.

fail() { echo "FAIL: $*"; exit 1; }

# expect_error "needle" cmd...: exit 2 and one line on stderr containing needle.
expect_error() {
    needle=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" = 2 ] || { cat "$tmp/err"; fail "exit $rc (want 2): $*"; }
    [ "$(wc -l <"$tmp/err")" = 1 ] || { cat "$tmp/err"; fail "not one line: $*"; }
    grep -qF -- "$needle" "$tmp/err" || { cat "$tmp/err"; fail "'$needle' not in error: $*"; }
}

# Prediction records without their timing, for comparing two runs.
canon() { sed 's/"latency_s":[0-9.e+-]*,//' "$@"; }

# random_sleep SEED LOW SPAN: sleep LOW + rand*SPAN seconds.
random_sleep() { sleep "$(awk -v s="$1" -v lo="$2" -v span="$3" 'BEGIN{srand(s); printf "%.2f", lo + rand()*span}')"; }

# kill_randomly TIMES LOW SPAN cmd...: TIMES times, start cmd in the
# background and SIGKILL it after LOW + rand*SPAN seconds.
kill_randomly() {
    times=$1 lo=$2 span=$3
    shift 3
    k=0
    while [ $k -lt "$times" ]; do
        "$@" &
        victim=$!
        random_sleep $$$k "$lo" "$span"
        kill -9 $victim 2>/dev/null
        wait $victim 2>/dev/null
        k=$((k + 1))
    done
}

# testd_start NAME ARGS...: start the loopback LLM server (tests/tools/
# lcx_testd.c, $TESTD) with ARGS, its port file in $tmp; set $url, $pid and
# $last_pid, and add the pid to $pids (for the test's cleanup).
testd_start() {
    name=$1
    shift
    rm -f "$tmp/$name.port"
    $TESTD --port-file "$tmp/$name.port" --max-seconds 300 "$@" &
    pid=$!
    last_pid=$pid
    pids="${pids:-} $pid"
    n=0
    while [ ! -s "$tmp/$name.port" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
    [ -s "$tmp/$name.port" ] || fail "server $name did not start"
    url="http://127.0.0.1:$(cat "$tmp/$name.port")"
}
stop_server() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# json_num FILE KEY: the first number under "KEY" in a JSON file.
json_num() { tr -d ' \n' <"$1" | grep -o "\"$2\":[0-9.]*" | head -n 1 | cut -d: -f2; }
# mean_of RUN_DIR: the per-length means of summary.json, one a line.
mean_of() { tr -d ' \n' <"$1/summary.json" | grep -o '"means":{[^}]*}' | grep -o ':[0-9][0-9.]*' | tr -d ':'; }
