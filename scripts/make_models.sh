#!/bin/sh
# make models: train the bundled pair with `lcx train`, identical but for the
# gate, and put each export with its loss curves in models/<name>/:
#   models/tiny-baseline   --gate none
#   models/tiny-gated      --gate elementwise
# Same size class, data, vocabulary, seed, schedule and steps. Training is
# deterministic whatever the thread count, so this reproduces both models
# bit for bit. The run directories (checkpoints) are kept under
# $TRAIN_RUNS (default build/train); an interrupted `make models` resumes
# from the last checkpoint, and a finished model is not trained again.
set -eu
LCX=${LCX:-./lcx}
RUNS=${TRAIN_RUNS:-build/train}
DEST=${MODELS_DIR:-models}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

# The settings both models share, the defaults of `lcx train` spelled out
# (README, "The bundled models", explains them).
MIX=niah_single_1:2,niah_single_2:2,niah_single_3:2,niah_multikey_1:3,niah_multikey_2:3
MIX=$MIX,niah_multikey_3:2,niah_multivalue:2,niah_multiquery:3,vt:1,cwe:1,fwe:1,qa_1:1,qa_2:1
SETTINGS="--dim 192 --layers 4 --heads 6 --kv-heads 2 --ffn 512 --vocab-merges 2000
          --steps 4000 --batch 16 --seq-len 128:0,256:300,512:900 --mix $MIX
          --lr 2e-3 --warmup 100 --min-lr 2e-4 --weight-decay 0.1 --clip 1
          --seed 1000000000 --prompt-weight 0.05 --rounds 8 --eval-every 200 --eval-samples 64 --ckpt-every 100"
# The two train at once, one thread each: on 2 cores that is about 1.4x the
# throughput of one after the other with 2 threads, and the same bits
# (training does not depend on the thread count). MODELS_JOBS=1: in turn.
JOBS=${MODELS_JOBS:-2}

train_one() { # NAME GATE
    name=$1
    run="$RUNS/$name"
    if [ -f "$run/model/model.safetensors" ]; then
        echo "== $name: already trained ($run/model)"
    elif [ -f "$run/checkpoint.bin" ]; then
        echo "== $name: resuming $run"
        $LCX train --out "$run" --resume
    else
        echo "== $name: training into $run (--gate $2)"
        mkdir -p "$RUNS"
        $LCX train --out "$run" --gate "$2" $SETTINGS
    fi
    # models/<name>: the export plus the loss curves, swapped in whole.
    mkdir -p "$DEST"
    stage="$DEST/.$name.tmp.$$"
    rm -rf "$stage"
    mkdir "$stage"
    cp "$run/model/config.json" "$run/model/model.safetensors" "$run/model/tokenizer.json" \
       "$run/train_log.csv" "$run/loss.svg" "$stage/"
    rm -rf "$DEST/$name.old"
    [ -e "$DEST/$name" ] && mv "$DEST/$name" "$DEST/$name.old"
    mv "$stage" "$DEST/$name"
    rm -rf "$DEST/$name.old"
    echo "== $name: $(du -k "$DEST/$name/model.safetensors" | cut -f1) KB of weights in $DEST/$name"
}

start=$(date +%s)
if [ "$JOBS" -ge 2 ]; then
    mkdir -p "$RUNS"
    OMP_NUM_THREADS=1 train_one tiny-baseline none > "$RUNS/baseline.log" 2>&1 &
    pid_b=$!
    OMP_NUM_THREADS=1 train_one tiny-gated elementwise
    wait $pid_b || { cat "$RUNS/baseline.log" >&2; exit 1; }
    cat "$RUNS/baseline.log"
else
    train_one tiny-baseline none
    train_one tiny-gated elementwise
fi
cmp -s "$DEST/tiny-baseline/tokenizer.json" "$DEST/tiny-gated/tokenizer.json" \
    || { echo "make models: the two vocabularies differ" >&2; exit 1; }
echo "== done in $(( $(date +%s) - start )) s"
