#!/bin/sh
# lcx serve driven by the official OpenAI SDK for Node (npm "openai", the
# version pinned in tests/serve_openai/package.json), a client lcx did not
# write: a completion, a streamed chat equal to the unstreamed one, a
# tokenize call, a per-request RoPE field, a 400 the SDK reads. The SDK is
# installed into build/ (LCX_NPM_DIR), never into the repository; where
# node or the npm registry is unreachable the test says SKIPPED.
set -u
LCX=${LCX:-./lcx}
NPM_DIR=${LCX_NPM_DIR:-build/npm}/serve-openai
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
. tests/lib.sh
command -v node >/dev/null 2>&1 || { echo "SKIPPED: node is not installed"; exit 0; }
command -v npm >/dev/null 2>&1 || { echo "SKIPPED: npm is not installed"; exit 0; }
mkdir -p "$NPM_DIR"
if ! cmp -s tests/serve_openai/package.json "$NPM_DIR/package.json" || [ ! -d "$NPM_DIR/node_modules/openai" ]; then
    cp tests/serve_openai/package.json "$NPM_DIR/package.json"
    if ! (cd "$NPM_DIR" && timeout 240 npm install --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1; then
        echo "SKIPPED: npm unreachable (npm install openai failed: $(tail -n 2 "$tmp/npm.log" | tr '\n' ' '))"
        exit 0
    fi
fi
export OMP_WAIT_POLICY=passive
unset LCX_API_KEY
$LCX serve --model models/tiny-baseline --port 0 --port-file "$tmp/port" 2>"$tmp/serve.log" &
pids=$!
n=0
while [ ! -s "$tmp/port" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
[ -s "$tmp/port" ] || { cat "$tmp/serve.log"; fail "lcx serve did not start"; }
timeout 120 node tests/serve_openai/check.js "$NPM_DIR" "http://127.0.0.1:$(cat "$tmp/port")" ||
    { cat "$tmp/serve.log"; fail "the OpenAI SDK check failed"; }
