#!/usr/bin/env bash
# Run a few training iterations of each paper-setting config as it is (batch,
# crop and model as published) from random weights, so the ImageNet
# checkpoints the configs name are not needed, and print one table of the
# seconds per iteration and the peak GPU memory. Checks that the configs run
# on a machine (and how long their schedules would take) before a long run.
#
#   bash tools/benchmarks/smoke_paper_configs.sh DATA_ROOT [--iters N] [--amp]
#       [--out DIR] [CONFIG ...]
#
# DATA_ROOT: a class-folder dataset with splits (e.g. PASCAL-VOC co-seg).
# --iters: iterations per config (default 20; the time is the mean over the
# second half). --amp: mixed precision (tools/train.py --amp; GPUs).
# Default configs: the paper-setting configs of the supervised and weakly
# supervised methods. No validation and no checkpoint are made. PYTHON
# selects the interpreter (default .venv/bin/python). Results:
# DIR/smoke.md (default work_dirs/smoke_paper_configs), logs in DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
usage() { sed -n '2,17p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
DATA_ROOT=$1; shift
ITERS=20; AMP=(); OUT=work_dirs/smoke_paper_configs; CONFIGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --iters) ITERS=${2:?--iters needs a number}; shift 2 ;;
        --amp) AMP=(--amp); shift ;;
        --out) OUT=${2:?--out needs a folder}; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "smoke_paper_configs.sh: unknown option $1" >&2; exit 2 ;;
        *) CONFIGS+=("$1"); shift ;;
    esac
done
if [ ${#CONFIGS[@]} -eq 0 ]; then
    CONFIGS=(configs/docs/docs_vgg16_1xb10-100k_voc-pair-512x512.py
             configs/dwxcorr/dwxcorr_vgg16-bn_1xb5-335k_voc-pair-512x512.py
             configs/cyclesegnet/cyclesegnet_r34_1xb4-40k_voc-pair-512x512.py
             configs/cosegnet/cosegnet_vgg16_1xb3-100k_voc-pair-224x224.py
             configs/macosnet/macosnet_r101_1xb16-adam5e-8_voc-weak-240x240.py)
fi
[ -f "$DATA_ROOT/splits/train.txt" ] || {
    echo "smoke_paper_configs.sh: $DATA_ROOT/splits/train.txt not found" >&2; exit 2; }
for config in "${CONFIGS[@]}"; do
    [ -f "$config" ] || { echo "smoke_paper_configs.sh: config $config not found" >&2; exit 2; }
done
if ! [[ "$ITERS" =~ ^[1-9][0-9]*$ ]]; then
    echo "smoke_paper_configs.sh: --iters must be a positive integer, got '$ITERS'" >&2; exit 2
fi
mkdir -p "$OUT/logs"
TABLE="$OUT/smoke.md"
{
    echo "| config | iterations | s / iteration | peak GPU memory (MB) | result |"
    echo "|---|---|---|---|---|"
} > "$TABLE"
status=0
for config in "${CONFIGS[@]}"; do
    name=$(basename "$config" .py)
    log="$OUT/logs/$name.log"
    # every pretrained init of the model switched off (random weights), a
    # log line every iteration, no checkpoint
    options=$("$PYTHON" - "$config" <<'EOF'
import sys
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
options = [f'model.{key}.init_cfg=None' for key in sorted(cfg.model)
           if isinstance(cfg.model[key], dict) and cfg.model[key].get('init_cfg')]
hooks = cfg.get('default_hooks') or {}
if hooks.get('logger'):
    options.append('default_hooks.logger.interval=1')
if hooks.get('checkpoint'):
    options.append('default_hooks.checkpoint.save_last=False')
print(' '.join(options))
EOF
)
    # shellcheck disable=SC2086
    if "$PYTHON" tools/train.py "$config" "${AMP[@]}" --max-iters "$ITERS" \
        --work-dir "$OUT/$name" --cfg-options $options \
        train_dataloader.dataset.data_root="$DATA_ROOT" \
        val_cfg=None val_dataloader=None val_evaluator=None > "$log" 2>&1; then
        result=ok
    else
        result="failed, see $log"; status=1
    fi
    # mean seconds per iteration over the second half, peak memory
    stats=$(grep -oE 'Iter\(train\) .*  time: [0-9.]+ .*' "$log" | awk '
        { for (i = 1; i <= NF; i++) {
              if ($i == "time:") t[NR] = $(i + 1)
              if ($i == "memory:" && $(i + 1) + 0 > m) m = $(i + 1) + 0 } }
        END { s = 0; k = 0
              for (r = int(NR / 2) + 1; r <= NR; r++) { s += t[r]; k++ }
              printf "%s | %s | %s", NR, (k ? sprintf("%.3f", s / k) : "-"),
                     (m ? m : "-") }' || true)
    echo "| $name | $stats | $result |" >> "$TABLE"
    echo "$name: $result"
done
echo "results: $TABLE"
cat "$TABLE"
exit $status
