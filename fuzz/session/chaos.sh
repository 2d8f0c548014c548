#!/usr/bin/env bash
# Timing chaos against one berth (fuzz/session/chaos.py), with the one Python harness (tests/berthkit) on the path.
# Usage: bash fuzz/session/chaos.sh --seconds 120 [--seed 1] [--workers 2] [--berth PATH]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
export BERTH_BIN="${BERTH_BIN:-$ROOT/.build/release/berth}"
export PYTHONPATH="$ROOT/tests${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" "$ROOT/fuzz/session/chaos.py" "$@"
