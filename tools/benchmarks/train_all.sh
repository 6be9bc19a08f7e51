#!/usr/bin/env bash
# Train and test every supervised method's config on one data root and
# write one results table (Markdown) of the test split.
#
#   bash tools/benchmarks/train_all.sh DATA_ROOT [--iters N]
#       [--time-budget SECONDS] [--parallel] [--out DIR]
#       [--train-options "k=v ..."] [--test-options "k=v ..."] [CONFIG ...]
#
# DATA_ROOT is a class-folder dataset with splits/{train,val,test}.txt (e.g.
# PASCAL-VOC co-seg). --iters sets each config's schedule length
# (tools/train.py --max-iters: warm-up and decay keep their shares);
# --time-budget fits each run's schedule into that many seconds of training
# (tools/train.py --time-budget: the speed is measured while it trains and
# the schedule's end moved to match); with either, validation and the
# checkpoint come at the end only, so the tested checkpoint is the last
# one. Without them the configs' own schedules run. --parallel trains the
# configs at the same time (one GPU or many cores that one run does not
# fill); --train-options / --test-options go to tools/train.py /
# tools/test.py as --cfg-options. On a GPU the same CPU configs with far
# longer schedules are the obvious first use:
#   bash tools/benchmarks/train_all.sh data/pascal_voc_coseg --iters 20000
# Default configs: the four EfficientNet-Lite0 configs of the main README's
# comparison. PYTHON selects the interpreter (default .venv/bin/python).
# Results: DIR/results.md (default work_dirs/train_all), one work dir per
# config under DIR, the logs under DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
usage() { sed -n '2,25p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
DATA_ROOT=$1; shift
ITERS=""; BUDGET=""; PARALLEL=0; OUT=work_dirs/train_all
TRAIN_OPTIONS=""; TEST_OPTIONS=""; CONFIGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --iters) ITERS=${2:?--iters needs a number}; shift 2 ;;
        --time-budget) BUDGET=${2:?--time-budget needs seconds}; shift 2 ;;
        --parallel) PARALLEL=1; shift ;;
        --out) OUT=${2:?--out needs a folder}; shift 2 ;;
        --train-options) TRAIN_OPTIONS=${2:-}; shift 2 ;;
        --test-options) TEST_OPTIONS=${2:-}; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "train_all.sh: unknown option $1" >&2; exit 2 ;;
        *) CONFIGS+=("$1"); shift ;;
    esac
done
if [ ${#CONFIGS[@]} -eq 0 ]; then
    CONFIGS=(configs/docs/docs_effnet-lite0_1xb8-1k_voc-pair-224x224.py
             configs/dwxcorr/dwxcorr_effnet-lite0_1xb8-1k_voc-pair-224x224.py
             configs/cyclesegnet/cyclesegnet_effnet-lite0_1xb8-1k_voc-pair-224x224.py
             configs/cosegnet/cosegnet_effnet-lite0_1xb8-1k_voc-pair-224x224.py)
fi
# every input is checked before any training starts
for split in train val test; do
    [ -f "$DATA_ROOT/splits/$split.txt" ] || {
        echo "train_all.sh: $DATA_ROOT/splits/$split.txt not found" >&2; exit 2; }
done
for config in "${CONFIGS[@]}"; do
    [ -f "$config" ] || { echo "train_all.sh: config $config not found" >&2; exit 2; }
done
if [ -n "$ITERS" ] && ! [[ "$ITERS" =~ ^[1-9][0-9]*$ ]]; then
    echo "train_all.sh: --iters must be a positive integer, got '$ITERS'" >&2; exit 2
fi
if [ -n "$BUDGET" ] && ! [[ "$BUDGET" =~ ^[1-9][0-9]*$ ]]; then
    echo "train_all.sh: --time-budget must be a positive number of seconds, got '$BUDGET'" >&2
    exit 2
fi
mkdir -p "$OUT/logs" "$OUT/rows"
DATA=(train_dataloader.dataset.data_root="$DATA_ROOT"
      val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")
SCHEDULE=(); LENGTH=()
if [ -n "$ITERS" ]; then LENGTH+=(--max-iters "$ITERS"); fi
if [ -n "$BUDGET" ]; then LENGTH+=(--time-budget "$BUDGET"); fi
if [ ${#LENGTH[@]} -gt 0 ]; then
    # validation and checkpoint only at the end (--max-iters and the budget
    # move a whole-schedule interval with the end)
    SCHEDULE=(train_cfg.val_interval=1000000000
              default_hooks.checkpoint.interval=1000000000)
fi

# trains and tests one config; its table row goes to $OUT/rows/<name>.md
train_and_test() {
    local config=$1 name work start seconds ckpt metrics iters mp mj aj pj
    name=$(basename "$config" .py)
    work="$OUT/$name"
    rm -f "$OUT/rows/$name.md"
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$PYTHON" tools/train.py "$config" --work-dir "$work" "${LENGTH[@]}" \
        --cfg-options "${DATA[@]}" "${SCHEDULE[@]}" $TRAIN_OPTIONS \
        > "$OUT/logs/$name.train.log" 2>&1 || {
        echo "train_all.sh: training $config failed, see $OUT/logs/$name.train.log" >&2
        return 1; }
    seconds=$(( $(date +%s) - start ))
    ckpt=$(ls -t "$work"/best_mJ_iter_*.pth 2>/dev/null | head -1 || true)
    [ -n "$ckpt" ] || ckpt="$work/$(xargs basename < "$work/last_checkpoint")"
    # shellcheck disable=SC2086
    "$PYTHON" tools/test.py "$config" "$ckpt" --work-dir "$work" \
        --cfg-options "${DATA[@]}" $TEST_OPTIONS > "$OUT/logs/$name.test.log" 2>&1 || {
        echo "train_all.sh: testing $config failed, see $OUT/logs/$name.test.log" >&2
        return 1; }
    metrics=$(grep -o 'mP: [0-9.]*  mJ: [0-9.]*  aP: [0-9.]*  aJ: [0-9.]*  pooled_J: [0-9.]*' \
        "$OUT/logs/$name.test.log" | tail -1 || true)
    [ -n "$metrics" ] || {
        echo "train_all.sh: no metrics line in $OUT/logs/$name.test.log" >&2
        return 1; }
    read -r _ mp _ mj _ _ _ aj _ pj <<< "$metrics"
    # the iteration of the tested checkpoint (a time budget decides it)
    iters=$(basename "$ckpt" .pth | grep -o '[0-9]*$' || true)
    echo "| $name | ${iters:-?} | $seconds | $mp | $mj | $aj | $pj |" > "$OUT/rows/$name.md"
    echo "$name: test mJ $mj ($seconds s of training)"
}

status=0
if [ "$PARALLEL" = 1 ]; then
    pids=()
    for config in "${CONFIGS[@]}"; do
        train_and_test "$config" & pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
else
    for config in "${CONFIGS[@]}"; do train_and_test "$config" || exit 1; done
fi
TABLE="$OUT/results.md"
{
    echo "| config | iterations | train wall time (s) | test mP | test mJ | test aJ | pooled J |"
    echo "|---|---|---|---|---|---|---|"
    for config in "${CONFIGS[@]}"; do
        row="$OUT/rows/$(basename "$config" .py).md"
        if [ -f "$row" ]; then cat "$row"; fi
    done
} > "$TABLE"
echo "results: $TABLE"
cat "$TABLE"
exit $status
