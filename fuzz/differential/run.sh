#!/usr/bin/env bash
# Runs the smuggling differential against $BERTH_BIN (default .build/release/berth): the hand-written cases
# (smuggle_diff.py, arguments pass on), then GEN_CASES generated requests (gen_diff.py, default 300) and GEN_RESPONSES
# generated responses (response_gen_diff.py, default 100) from GEN_SEED (random and printed when unset); GEN_CASES=0
# or --only leaves the generated part out. Exit status 1 when any part has a finding.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export PYTHONPATH="$ROOT/tests:$ROOT/fuzz/differential${PYTHONPATH:+:$PYTHONPATH}"
export BERTH_BIN="${BERTH_BIN:-$ROOT/.build/release/berth}"
PY="${PY:-python3}"
DIR="$ROOT/fuzz/differential"
status=0
"$PY" "$DIR/smuggle_diff.py" "$@" || status=1
gen=("--seed" "${GEN_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000 + 1 ))}")
for arg in "$@"; do
    case "$arg" in
        --only*) GEN_CASES=0 ;;
        --berth-only) gen+=("--berth-only") ;;
    esac
done
if [ "${GEN_CASES:-300}" -gt 0 ]; then
    "$PY" "$DIR/gen_diff.py" --cases "${GEN_CASES:-300}" "${gen[@]}" || status=1
    "$PY" "$DIR/response_gen_diff.py" --cases "${GEN_RESPONSES:-100}" "${gen[@]}" || status=1
fi
exit "$status"
