#!/usr/bin/env bash
# Runs the smuggling differential (smuggle_diff.py) against $BERTH_BIN (default .build/release/berth); arguments pass on.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export PYTHONPATH="$ROOT/tests:$ROOT/fuzz/differential${PYTHONPATH:+:$PYTHONPATH}"
export BERTH_BIN="${BERTH_BIN:-$ROOT/.build/release/berth}"
exec "${PY:-python3}" "$ROOT/fuzz/differential/smuggle_diff.py" "$@"
