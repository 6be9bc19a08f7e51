#!/usr/bin/env bash
# Set up cosegtools in ./.venv with the pinned CPU stack.
#   bash tools/install.sh            # runtime
#   bash tools/install.sh --tests    # + test requirements
#   bash tools/install.sh --optional # + optional extras (dense CRF, CoSOD measures)
# PYTHON selects the interpreter (default python3, >= 3.9).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extras=()
sod=0
for arg in "$@"; do
    case "$arg" in
        --tests) extras+=(-r requirements/tests.txt -r requirements/sod.txt); sod=1 ;;
        --optional) extras+=(-r requirements/optional.txt -r requirements/sod.txt); sod=1 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
# setuptools first: >= 77.0.3 for torch 2.13, < 81 for pkg_resources
"${PIP[@]}" -c requirements/constraints.txt "setuptools>=77.0.3,<81"
"${PIP[@]}" -c requirements/constraints.txt -r requirements/runtime.txt "${extras[@]}"
# pysodmetrics without its dependency caps (see requirements/sod.txt)
if [ "$sod" = 1 ]; then "${PIP[@]}" --no-deps pysodmetrics==1.6.2; fi
"${PIP[@]}" --no-build-isolation --no-deps -e .
.venv/bin/python -c "import cosegtools, mmseg.models; print('cosegtools', cosegtools.__version__, 'installed in .venv')"
