#!/usr/bin/env bash
# Train the best CPU DOCS model of configs/docs/README.md in its two stages
# and score it in the settings its README reports, in one command:
#
#   bash tools/benchmarks/train_docs_two_stage.sh DATA_ROOT [--seed N]
#       [--fine-tune CONFIG] [--split val|test] [--iters N1,N2] [--out DIR]
#
# Stage 1: docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-288x288.py for
# 2570 iterations (as the README's runs). Stage 2: the fine-tune config
# (default the 30 % negatives one; the neg50 config is the other choice)
# from stage 1's best val checkpoint (load_from). Then the split (default
# test) is scored with flip in five settings: pairs, whole classes, mixed
# pairs (half negative, min_foreground 0.02), and pairs / whole classes
# with masks cut at Otsu's threshold per image.
#
# --seed sets randomness.seed of both stages (the README's seed 0 runs set
# none: 0 is the configs' default). --iters N1,N2 shortens the stages
# (tools/train.py --max-iters; validation and checkpoint at the end only),
# for a quick check of the whole chain. Nothing is lost when a run stops:
# run the same command again and a finished stage is skipped, a stopped one
# continues from its latest checkpoint (--resume); the stages save a
# checkpoint every 250 / 100 iterations.
# Results: DIR/results_<split>.md (DIR default work_dirs/docs_two_stage_seed<N>;
# a val run keeps the test table), the stages' work dirs and logs under DIR.
# PYTHON selects the interpreter (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
usage() { sed -n '2,25p' "$0" >&2; exit 2; }
fail() { echo "train_docs_two_stage.sh: $*" >&2; exit 2; }
[ $# -ge 1 ] || usage
DATA_ROOT=$1; shift
STAGE1=configs/docs/docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-288x288.py
STAGE2=configs/docs/docs-lovasz-ema_effnet-lite2_1xb8-2500-ft800_voc-pair-320x320.py
SEED=0; SPLIT=test; ITERS=""; OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --seed) SEED=${2:-}; shift 2 ;;
        --fine-tune) STAGE2=${2:-}; shift 2 ;;
        --split) SPLIT=${2:-}; shift 2 ;;
        --iters) ITERS=${2:-}; shift 2 ;;
        --out) OUT=${2:-}; shift 2 ;;
        -h|--help) usage ;;
        *) fail "unknown argument $1" ;;
    esac
done
# every input is checked before any training starts
[[ "$SEED" =~ ^[0-9]+$ ]] || fail "--seed must be a non-negative integer, got '$SEED'"
[[ "$SPLIT" =~ ^(val|test)$ ]] || fail "--split must be val or test, got '$SPLIT'"
if [ -n "$ITERS" ] && ! [[ "$ITERS" =~ ^[1-9][0-9]*,[1-9][0-9]*$ ]]; then
    fail "--iters must be two positive integers N1,N2, got '$ITERS'"
fi
[ -f "$STAGE2" ] || fail "fine-tune config $STAGE2 not found"
for split in train val "$SPLIT"; do
    [ -f "$DATA_ROOT/splits/$split.txt" ] || fail "$DATA_ROOT/splits/$split.txt not found"
done
OUT=${OUT:-work_dirs/docs_two_stage_seed$SEED}
WORK1="$OUT/stage1_288"
WORK2="$OUT/$(basename "$STAGE2" .py)"
mkdir -p "$OUT/logs"
DATA=(train_dataloader.dataset.data_root="$DATA_ROOT"
      val_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.data_root="$DATA_ROOT")
SEEDING=()
[ "$SEED" = 0 ] || SEEDING=(randomness.seed="$SEED")
if [ -n "$ITERS" ]; then
    LENGTH1=(--max-iters "${ITERS%,*}"); LENGTH2=(--max-iters "${ITERS#*,}")
    SAVE1=(train_cfg.val_interval=1000000000 default_hooks.checkpoint.interval=1000000000)
    SAVE2=("${SAVE1[@]}")
else
    LENGTH1=(); LENGTH2=()
    SAVE1=(train_cfg.max_iters=2570 param_scheduler.1.end=2570
           default_hooks.checkpoint.interval=250)
    SAVE2=(default_hooks.checkpoint.interval=100)
fi

# the best val checkpoint of a work dir, else its last one
best_checkpoint() {
    local ckpt
    ckpt=$(ls -t "$1"/best_mJ_iter_*.pth 2>/dev/null | head -1 || true)
    [ -n "$ckpt" ] || ckpt="$1/$(xargs basename < "$1/last_checkpoint")"
    echo "$ckpt"
}

# trains one stage unless it finished; continues a stopped one
train_stage() {
    local name=$1 config=$2 work=$3; shift 3
    if [ -f "$work/finished" ]; then
        echo "$name: finished before, skipped ($work)"; return 0
    fi
    local resume=()
    if ls "$work"/iter_*.pth > /dev/null 2>&1; then resume=(--resume); fi
    echo "$name: training $config in $work ${resume[*]} ($(date '+%F %T'))"
    local start; start=$(date +%s)
    "$PYTHON" tools/train.py "$config" --work-dir "$work" "${resume[@]}" "$@" \
        >> "$OUT/logs/$name.train.log" 2>&1 || {
        echo "train_docs_two_stage.sh: $name failed, see $OUT/logs/$name.train.log" >&2
        exit 1; }
    echo "$name: done in $(( $(date +%s) - start )) s"
    touch "$work/finished"
}

train_stage stage1 "$STAGE1" "$WORK1" "${LENGTH1[@]}" \
    --cfg-options "${DATA[@]}" "${SEEDING[@]}" "${SAVE1[@]}"
START2=$(best_checkpoint "$WORK1")
train_stage stage2 "$STAGE2" "$WORK2" "${LENGTH2[@]}" \
    --cfg-options load_from="$START2" "${DATA[@]}" "${SEEDING[@]}" "${SAVE2[@]}"
CKPT=$(best_checkpoint "$WORK2")
echo "scoring $CKPT on $SPLIT"

# one metric of a test log's last evaluation line, '-' where it has none
metric() { grep 'Iter(test)' "$1" | tail -1 | grep -o "  $2: [0-9.]*" | awk '{print $2}' \
    | grep . || echo -; }
EVAL=(model.test_cfg.flip=True test_dataloader.dataset.data_root="$DATA_ROOT"
      test_dataloader.dataset.split_file="splits/$SPLIT.txt")
WHOLE=(test_dataloader.sampler.group_size=None)
MIXED=(model.test_cfg.min_foreground=0.02 test_dataloader.sampler.type=CoSegPairSampler
       test_dataloader.sampler.neg_ratio=0.5 test_dataloader.sampler.seed=0)
TABLE="$OUT/results_$SPLIT.md"
{
    echo "| $SPLIT setting (flip) | mP | mJ | aJ | pooled J | mJ of the positives | negative images left empty (%) |"
    echo "|---|---|---|---|---|---|---|"
} > "$TABLE"
score() {
    local name=$1 log="$OUT/logs/$SPLIT.$1.log"; shift
    "$PYTHON" tools/test.py "$STAGE2" "$CKPT" "$@" > "$log" 2>&1 || {
        echo "train_docs_two_stage.sh: scoring $name failed, see $log" >&2; exit 1; }
    [ "$(metric "$log" mJ)" != - ] || {
        echo "train_docs_two_stage.sh: no metrics line in $log" >&2; exit 1; }
    echo "| $name | $(metric "$log" mP) | $(metric "$log" mJ) | $(metric "$log" aJ)" \
        "| $(metric "$log" pooled_J) | $(metric "$log" pos_mJ)" \
        "| $(metric "$log" neg_empty) |" >> "$TABLE"
    echo "$name: $SPLIT mJ $(metric "$log" mJ)"
}
score "mixed pairs at 0.5" --cfg-options "${EVAL[@]}" "${MIXED[@]}"
score "pairs at 0.5" --cfg-options "${EVAL[@]}"
score "whole classes at 0.5" --cfg-options "${EVAL[@]}" "${WHOLE[@]}"
score "pairs, Otsu" --postprocess otsu --cfg-options "${EVAL[@]}"
score "whole classes, Otsu" --postprocess otsu --cfg-options "${EVAL[@]}" "${WHOLE[@]}"
echo "results: $TABLE"
cat "$TABLE"
