#!/bin/sh
# bench/vs_llamacpp: lcx's engine against llama.cpp's llama-bench on the same
# weights, the same threads, in one run; prints one table with the ratio.
#
# Models: "qwen3", a random-weight ungated Qwen3 shape written by
# build/bench/prefill (hidden 1024, 4 layers, 16 query / 8 KV heads of 128,
# FFN 3072, vocab 8192, tied embeddings, 71M parameters, BF16), and "tiny",
# the bundled models/tiny-baseline (BF16). Each is converted to GGUF by
# scripts/hf2gguf.py with the same dtype (BF16 matrices, F32 norms).
#
# Tests, as llama-bench defines them: ppN, a prefill of N random token ids
# into an empty cache (lcx: one chunked prefill, chunk 512 = llama-bench's
# default ubatch); tgN, N single-token decode steps from an empty cache.
# Figures are tokens/s, best of VS_REPS runs on both sides (llama-bench runs
# its usual warm-up first; lcx's first run is one of its VS_REPS).
#
# Settings (environment):
#   VS_LENGTHS  prompt lengths (default 512,4096; "full" = 512,4096,16384,
#               32768, the issue's comparison: hours on 2 cores)
#   VS_DECODE   decode steps, 0 for none (default 128)
#   VS_THREADS  thread counts, e.g. 1,2 to show scaling (default 2): lcx's
#               OpenMP threads and llama-bench's -t
#   VS_REPS     runs per test (default 3)
#   VS_MODELS   qwen3,tiny (default both)
#   VS_FA       llama-bench's -fa (default on: what its default, auto,
#               resolves to on the CPU backend)
#   VS_LLAMA_ARGS  more llama-bench options, e.g. "-ctk f32 -ctv f32"
#   OMP_WAIT_POLICY  lcx's OpenMP waiting; "passive" also gives llama-bench
#               --poll 0 (no busy-waiting on either side). Unset on both
#               sides by default, as users run them: both spin briefly.
#   LCX_ISA     forces lcx's kernel variant (generic|avx2|avx512|neon)
#   LCX_LLAMACPP_DIR, LCX_LLAMACPP_BIN, LCX_GGUF_PY  where llama.cpp is, as
#               for tests/test_llamacpp.sh (sh scripts/llamacpp.sh builds it)
# Without llama-bench, numpy for /usr/bin/python3 or llama.cpp's gguf-py,
# the lcx column is printed alone with the reason.
set -eu
LCX=${LCX:-./lcx}
BUILD=${BUILD:-build}
PY=/usr/bin/python3
prog=$BUILD/bench/prefill
[ -x "$prog" ] || { echo "build $prog first (make bench)"; exit 2; }

lengths=${VS_LENGTHS:-512,4096}
[ "$lengths" = full ] && lengths=512,4096,16384,32768
decode=${VS_DECODE:-128}
threads=${VS_THREADS:-2}
reps=${VS_REPS:-3}
models=${VS_MODELS:-qwen3,tiny}
fa=${VS_FA:-on}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|f16c|avx512[a-z0-9_]*|amx_[a-z0-9]*|asimd|sve)$' | tr '\n' ' ')"
echo "lcx: $("$LCX" --version | grep '^kernels:')${LCX_ISA:+ (LCX_ISA=$LCX_ISA)}"

# llama.cpp, or why not
dir=${LCX_LLAMACPP_DIR:-${HOME:-/root}/.cache/lcx-llamacpp}
bin=${LCX_LLAMACPP_BIN:-$dir/src/build/bin}
gguf_py=${LCX_GGUF_PY:-$bin/../../gguf-py}
skip=""
if [ ! -x "$bin/llama-bench" ]; then
    skip="no llama-bench in $bin (build it with sh scripts/llamacpp.sh, or set LCX_LLAMACPP_BIN)"
elif ! $PY -c 'import numpy' 2>/dev/null; then
    skip="numpy is missing for $PY (apt-get install python3-numpy)"
elif ! PYTHONPATH=$gguf_py $PY -c 'import gguf' 2>/dev/null; then
    skip="llama.cpp's gguf-py is not in $gguf_py (set LCX_GGUF_PY)"
fi
poll=""
[ "${OMP_WAIT_POLICY:-}" = passive ] && poll="--poll 0"
if [ -z "$skip" ]; then
    echo "llama.cpp: $("$bin/llama-bench" --version 2>&1 | grep -m1 '^version'), $bin"
    cache=$bin/../CMakeCache.txt
    if [ -f "$cache" ]; then
        # the instruction-set switches mean something only without NATIVE
        # (which builds for this CPU, -march=native, whatever they say)
        sets='NATIVE|CPU_ALL_VARIANTS|BACKEND_DL'
        grep -q '^GGML_NATIVE:BOOL=OFF' "$cache" && sets="$sets|AVX|AVX2|AVX512|AVX512_BF16|AMX_[A-Z0-9]+"
        echo "llama.cpp build: $(grep -E "^GGML_($sets):" "$cache" | sed 's/:BOOL//' | tr '\n' ' ')"
    fi
    echo "llama-bench: -t $threads -r $reps -fa $fa${poll:+ $poll}${VS_LLAMA_ARGS:+ $VS_LLAMA_ARGS} (KV cache F16 unless VS_LLAMA_ARGS says otherwise; lcx's is F32)"
fi
echo "lcx: threads $threads, best of $reps, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
table=$tmp/table
: >"$table"
notes=""

for model in $(echo "$models" | tr ',' ' '); do
    case $model in
    qwen3)
        mdir=$tmp/qwen3
        "$prog" write "$mdir" || { echo "vs_llamacpp: could not write the qwen3 model"; exit 1; }
        ;;
    tiny) mdir=models/tiny-baseline ;;
    *) echo "vs_llamacpp: unknown model $model (qwen3 or tiny)"; exit 2 ;;
    esac
    echo "== $model: lcx"
    "$prog" run "$mdir" --lengths "$lengths" --decode "$decode" --threads "$threads" \
        --reps "$reps" >"$tmp/$model.lcx" || { cat "$tmp/$model.lcx"; exit 1; }
    grep '^#' "$tmp/$model.lcx"
    dtype=$(awk '$1 == "dtype" {print $2}' "$tmp/$model.lcx")
    # lcx figures: test threads best_tok/s
    awk '$1 ~ /^(pp|tg)[0-9]+$/ {print $1, $2, $4}' "$tmp/$model.lcx" >"$tmp/$model.lcx.best"
    awk '$1 ~ /^(pp|tg)[0-9]+$/ {printf "%s %s t=%s: best %.2f tok/s (mean %.2f)\n", m, $1, $2, $4, $5}' \
        m="$model" "$tmp/$model.lcx"

    why=$skip
    if [ -z "$why" ]; then
        case $dtype in
        BF16) conv=--bf16 ;;
        F32) conv="" ;;
        *) why="$model's weights are $dtype; hf2gguf.py writes F32 or BF16 only" ;;
        esac
    fi
    if [ -z "$why" ]; then
        echo "== $model: llama.cpp"
        # shellcheck disable=SC2086
        if ! PYTHONPATH=$gguf_py $PY scripts/hf2gguf.py "$mdir" "$tmp/$model.gguf" $conv >"$tmp/convert.log" 2>&1; then
            cat "$tmp/convert.log"
            why="hf2gguf.py failed on $model"
        fi
    fi
    if [ -z "$why" ]; then
        # shellcheck disable=SC2086
        if "$bin/llama-bench" -m "$tmp/$model.gguf" -p "$lengths" -n "$decode" -t "$threads" -r "$reps" \
            -fa "$fa" $poll ${VS_LLAMA_ARGS:-} -o json >"$tmp/$model.json" 2>"$tmp/$model.err"; then
            # llama.cpp figures (test threads best_tok/s) to a file, and shown
            $PY - "$tmp/$model.json" "$tmp/$model.llama.best" "$model" <<'EOF'
import json, sys
with open(sys.argv[2], "w") as out:
    for t in json.load(open(sys.argv[1])):
        name = f"pp{t['n_prompt']}" if t["n_prompt"] else f"tg{t['n_gen']}"
        best = max(t["samples_ts"])
        print(name, t["n_threads"], best, file=out)
        print(f"{sys.argv[3]} {name} t={t['n_threads']}: best {best:.2f} tok/s (mean {t['avg_ts']:.2f})")
EOF
        else
            tail -n 5 "$tmp/$model.err"
            why="llama-bench failed on $model"
        fi
    fi
    [ -n "$why" ] && : >"$tmp/$model.llama.best"
    [ -n "$why" ] && [ "$why" != "$skip" ] && notes="$notes
$model: llama.cpp column skipped: $why"
    awk -v m="$model" 'FILENAME == ARGV[1] {l[$1 " " $2] = $3; next}
        {k = $1 " " $2; printf "%s %s %s %s %s\n", m, $1, $2, (k in l ? l[k] : "-"), $3}' \
        "$tmp/$model.llama.best" "$tmp/$model.lcx.best" >>"$table"
done

echo
echo "| model | test | threads | lcx tok/s | llama.cpp tok/s | lcx / llama.cpp |"
echo "|---|---|---|---|---|---|"
awk '{ if ($4 == "-") printf "| %s | %s | %s | %.1f | - | - |\n", $1, $2, $3, $5;
       else printf "| %s | %s | %s | %.1f | %.1f | %.2f |\n", $1, $2, $3, $5, $4, $5 / $4 }' "$table"
[ -n "$skip" ] && echo "llama.cpp column skipped: $skip"
[ -n "$notes" ] && echo "$notes" | sed '/^$/d'
exit 0
