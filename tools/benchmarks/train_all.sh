#!/usr/bin/env bash
# Train and test every supervised method's config in sequence on one data
# root and write one results table (Markdown) of the test split.
#
#   bash tools/benchmarks/train_all.sh DATA_ROOT [--iters N] [--out DIR]
#       [--test-options "k=v ..."] [CONFIG ...]
#
# DATA_ROOT is a class-folder dataset with splits/{train,val,test}.txt (e.g.
# PASCAL-VOC co-seg). --iters overrides each config's schedule length (the
# validation and checkpoint interval become N too, so the tested checkpoint
# is the last one); without it the configs' own schedules run. On a GPU the
# same CPU configs with far longer schedules are the obvious first use:
#   bash tools/benchmarks/train_all.sh data/pascal_voc_coseg --iters 20000
# Default configs: the four EfficientNet-Lite0 configs of the main README's
# comparison. PYTHON selects the interpreter (default .venv/bin/python).
# Results: DIR/results.md (default work_dirs/train_all), one work dir per
# config under DIR, the logs under DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
usage() { sed -n '2,18p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
DATA_ROOT=$1; shift
ITERS=""; OUT=work_dirs/train_all; TEST_OPTIONS=""; CONFIGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --iters) ITERS=${2:?--iters needs a number}; shift 2 ;;
        --out) OUT=${2:?--out needs a folder}; shift 2 ;;
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
mkdir -p "$OUT/logs"
DATA=(train_dataloader.dataset.data_root="$DATA_ROOT"
      val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")
SCHEDULE=()
if [ -n "$ITERS" ]; then
    SCHEDULE=(train_cfg.max_iters="$ITERS" train_cfg.val_interval="$ITERS"
              default_hooks.checkpoint.interval="$ITERS")
fi
TABLE="$OUT/results.md"
{
    echo "| config | iterations | train wall time (s) | test mP | test mJ | test aJ | pooled J |"
    echo "|---|---|---|---|---|---|---|"
} > "$TABLE"
for config in "${CONFIGS[@]}"; do
    name=$(basename "$config" .py)
    work="$OUT/$name"
    start=$(date +%s)
    "$PYTHON" tools/train.py "$config" --work-dir "$work" \
        --cfg-options "${DATA[@]}" "${SCHEDULE[@]}" > "$OUT/logs/$name.train.log" 2>&1 || {
        echo "train_all.sh: training $config failed, see $OUT/logs/$name.train.log" >&2; exit 1; }
    seconds=$(( $(date +%s) - start ))
    ckpt=$(ls -t "$work"/best_mJ_iter_*.pth 2>/dev/null | head -1 || true)
    [ -n "$ckpt" ] || ckpt="$work/$(cat "$work/last_checkpoint" | xargs basename)"
    # shellcheck disable=SC2086
    "$PYTHON" tools/test.py "$config" "$ckpt" --work-dir "$work" \
        --cfg-options "${DATA[@]}" $TEST_OPTIONS > "$OUT/logs/$name.test.log" 2>&1 || {
        echo "train_all.sh: testing $config failed, see $OUT/logs/$name.test.log" >&2; exit 1; }
    metrics=$(grep -o 'mP: [0-9.]*  mJ: [0-9.]*  aP: [0-9.]*  aJ: [0-9.]*  pooled_J: [0-9.]*' \
        "$OUT/logs/$name.test.log" | tail -1)
    read -r _ mp _ mj _ _ _ aj _ pj <<< "$metrics"
    iters=$(grep -o 'Iter(train) \[ *[0-9]*/[0-9]*\]' "$OUT/logs/$name.train.log" | tail -1 \
        | grep -o '/[0-9]*' | tr -d /)
    echo "| $name | ${iters:-?} | $seconds | $mp | $mj | $aj | $pj |" >> "$TABLE"
    echo "$name: test mJ $mj ($seconds s of training)"
done
echo "results: $TABLE"
cat "$TABLE"
