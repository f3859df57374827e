#!/bin/sh
# lcx train: bad input (one line, exit 2, no directory left behind), a tiny
# end-to-end training whose export runs in `lcx complete` and `lcx run`, and
# SIGKILL + --resume ending with the same weights as an uninterrupted run.
set -u
LCX=${LCX:-./lcx}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
export OMP_WAIT_POLICY=passive

TINY="--gate elementwise --dim 32 --layers 2 --heads 2 --kv-heads 1 --ffn 64 --vocab-merges 300
      --batch 4 --seq-len 160:0,256:30 --steps 60 --eval-every 20 --ckpt-every 5 --eval-samples 8"

# Bad input: nothing may be left at --out.
bad() { # bad NEEDLE ARGS...
    needle=$1
    shift
    expect_error "$needle" $LCX train --out "$tmp/bad" "$@"
    [ ! -e "$tmp/bad" ] || fail "$tmp/bad left behind after: $*"
}
bad "unknown option '--frobnicate'" $TINY --frobnicate 3
bad "--gate" --steps 10
bad "--gate: 'sideways'" --gate sideways
bad "--heads: 3 does not divide --dim 32" $TINY --heads 3
bad "--kv-heads: 3 does not divide --heads 4" $TINY --heads 4 --kv-heads 3
bad "--seq-len: 2048 is not in" $TINY --seq-len 256:0,2048:10
bad "--seq-len: stage steps must increase" $TINY --seq-len 256:0,512:0
bad "--steps" $TINY --steps x
bad "--seed" $TINY --seed 42
bad "--mix: unknown task 'bogus'" $TINY --mix niah_single_1:2,bogus:1
bad "--vocab" $TINY --vocab "$tmp/missing-tokenizer.json"
touch "$tmp/file"
expect_error "$tmp/file/sub" $LCX train --out "$tmp/file/sub" $TINY
expect_error "/proc/lcx-train-test" $LCX train --out /proc/lcx-train-test $TINY
expect_error "--resume: $tmp/none is not a training run" $LCX train --out "$tmp/none" --resume
[ ! -e "$tmp/none" ] || fail "--resume created a directory"

# A tiny end-to-end run.
$LCX train --out "$tmp/clean" $TINY --quiet || fail "tiny training run"
for f in tokenizer.json train.cfg checkpoint.bin train_log.csv loss.svg model/config.json \
         model/model.safetensors model/tokenizer.json; do
    [ -s "$tmp/clean/$f" ] || fail "missing $f"
done
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary directory was left"
grep -q '"elementwise_attn_output_gate": true' "$tmp/clean/model/config.json" || fail "config lacks the gate flag"
grep -q '"torch_dtype": "bfloat16"' "$tmp/clean/model/config.json" || fail "export is not BF16"
head -n 1 "$tmp/clean/train_log.csv" | grep -q '^step,seq_len,lr,loss,grad_norm,tokens,elapsed_s,heldout_acc,heldout_niah_acc$' \
    || fail "log header"
[ "$(tail -n 1 "$tmp/clean/train_log.csv" | cut -d, -f1,2)" = "60,256" ] || fail "log does not end at step 60, T 256"
[ "$(grep -c '^[0-9]*,[0-9]*,.*,[0-9.]*,[0-9.]*$' "$tmp/clean/train_log.csv")" -ge 4 ] || fail "held-out accuracy rows"
if command -v python3 >/dev/null; then
    python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$tmp/clean/loss.svg" || fail "loss.svg is not XML"
fi
grep -q '</svg>' "$tmp/clean/loss.svg" || fail "loss.svg is incomplete"

echo "The special magic number for apple is 1234567. What is the special magic number for apple?" >"$tmp/prompt.txt"
$LCX complete --model "$tmp/clean/model" --prompt-file "$tmp/prompt.txt" --max-tokens 8 >"$tmp/out" 2>"$tmp/err" \
    || { cat "$tmp/err"; fail "lcx complete on the export"; }
$LCX run --model "$tmp/clean/model" --tasks niah_single_1 --lengths 512 --samples 2 --quiet --out "$tmp/run" \
    >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "lcx run on the export"; }
[ "$(wc -l <"$tmp/run/pred/512/niah_single_1.jsonl")" = 2 ] || fail "lcx run: not 2 records"

# A second fresh run on the same directory is refused, and so is --resume
# with other settings.
expect_error "already holds a training run" $LCX train --out "$tmp/clean" $TINY
expect_error "--resume: --steps 99 differs" $LCX train --out "$tmp/clean" --resume --steps 99

# SIGKILL once a checkpoint exists, then --resume: the same final weights.
$LCX train --out "$tmp/killed" $TINY --quiet &
pid=$!
i=0
while [ ! -e "$tmp/killed/checkpoint.bin" ] && [ $i -lt 600 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ -e "$tmp/killed/model" ] && echo "note: the run finished before the kill"
echo "killed at step $(tail -n 1 "$tmp/killed/train_log.csv" | cut -d, -f1)"

# A corrupt checkpoint is refused (naming the file) and nothing is written.
cp -r "$tmp/killed" "$tmp/corrupt"
printf 'X' | dd of="$tmp/corrupt/checkpoint.bin" bs=1 seek=300 conv=notrunc 2>/dev/null
ls -l "$tmp/corrupt" >"$tmp/before"
expect_error "$tmp/corrupt/checkpoint.bin" $LCX train --out "$tmp/corrupt" --resume
ls -l "$tmp/corrupt" >"$tmp/after"
cmp -s "$tmp/before" "$tmp/after" || fail "a refused resume changed the directory"

$LCX train --out "$tmp/killed" --resume --quiet || fail "resume"
cmp "$tmp/clean/model/model.safetensors" "$tmp/killed/model/model.safetensors" \
    || fail "resumed weights differ from the uninterrupted run"
cut -d, -f1-6 "$tmp/clean/train_log.csv" >"$tmp/a"
cut -d, -f1-6 "$tmp/killed/train_log.csv" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "resumed log differs (step, T, lr, loss, grad norm, tokens)"
exit 0
