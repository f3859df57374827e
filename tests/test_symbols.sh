#!/bin/sh
# Every link-visible symbol of the library carries the lcx_ prefix or its
# module's (tok_ tokenizer/, tasks_ TASKS_ tasks/, train_ trainer_ train/,
# sb_ common/strbuf; the names compilers give OpenMP critical sections and
# reductions, .gomp_critical_user_*, pass):
# docs/CONTRIBUTING.md, "Names". Needs nm (binutils).
set -u
BUILD=${BUILD:-build}
lib="$BUILD/liblcx.a"
if ! command -v nm >/dev/null 2>&1; then
    echo "SKIPPED: nm not found (binutils)"
    exit 0
fi
[ -f "$lib" ] || { echo "FAIL: no $lib"; exit 1; }
# (ASan's shadow names, __odr_asan.NAME, are judged by NAME)
bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBRCVW]$/ {print $3}' |
    sed 's/^__odr_asan\.//' |
    grep -v -E '^(lcx_|LCX_|tok_|tasks_|TASKS_|train_|trainer_|sb_|\.gomp_critical_user_)' | sort -u)
total=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBRCVW]$/' | wc -l)
[ "$total" -gt 100 ] || { echo "FAIL: only $total global symbols read from $lib"; exit 1; }
if [ -n "$bad" ]; then
    echo "FAIL: global symbols without a module prefix:"
    echo "$bad"
    exit 1
fi
echo "ok: $total global symbols, all prefixed"
