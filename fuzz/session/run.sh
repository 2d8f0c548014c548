#!/usr/bin/env bash
# Black-box fuzzing of one berth proxy session (caller and upstream byte streams), bounded in time.
# Usage: bash fuzz/session/run.sh [SECONDS] [SEED]   (default 30 s, seed 1; long run: bash fuzz/session/run.sh 1800)
# Needs BERTH_BIN (default .build/release/berth) and the Python venv with llhttp (tests/requirements.txt).
# Exits non-zero when an invariant breaks; each violation is saved in fuzz/session/out/violation-*.json.
set -euo pipefail
SECS="${1:-30}"
SEED="${2:-${BERTH_FUZZ_SEED:-1}}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
export BERTH_BIN="${BERTH_BIN:-$ROOT/.build/release/berth}"
mkdir -p "$ROOT/fuzz/session/out"
exec timeout --signal=TERM --kill-after=30 "$((SECS + 120))" \
    "$PY" "$ROOT/fuzz/session/fuzz_session.py" --seconds "$SECS" --seed "$SEED" --out "$ROOT/fuzz/session/out"
