#!/usr/bin/env bash
# Black-box fuzzing of one berth proxy session (caller and upstream byte streams), bounded in time.
# Usage: bash fuzz/session/run.sh [SECONDS] [SEED]   (default 30 s, seed 1; long run: bash fuzz/session/run.sh 1800 7)
# BERTH_FUZZ_TLS=1 makes every upstream a TLS one that berth reaches through a `tls:` destination entry.
# Needs BERTH_BIN (default .build/release/berth) and the Python venv with llhttp (tests/requirements.txt).
# Runs inside a private network namespace with only loopback when it can (unshare -n as root, else unshare -rn),
# and berth gets --allow 127.0.0.0/8, so nothing the fuzzer makes berth do can leave loopback (no DNS queries).
# Exits non-zero when an invariant breaks; each violation is saved in fuzz/session/out/violation-*.json.
set -euo pipefail
SECS="${1:-30}"
SEED="${2:-${BERTH_FUZZ_SEED:-1}}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
export BERTH_BIN="${BERTH_BIN:-$ROOT/.build/release/berth}"
# The one Python harness, tests/berthkit (the launcher, the admin client, llhttp views, the TLS PKI).
export PYTHONPATH="$ROOT/tests${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$ROOT/fuzz/session/out"
CMD=(timeout --signal=TERM --kill-after=30 "$((SECS + 120))"
     "$PY" "$ROOT/fuzz/session/fuzz_session.py" --seconds "$SECS" --seed "$SEED" --out "$ROOT/fuzz/session/out")
[ "${BERTH_FUZZ_TLS:-0}" = "1" ] && CMD+=(--tls)
NS=()
if unshare -n true 2>/dev/null; then NS=(unshare -n); elif unshare -rn true 2>/dev/null; then NS=(unshare -rn); fi
if [ ${#NS[@]} -gt 0 ]; then
    exec "${NS[@]}" bash -c 'ip link set lo up 2>/dev/null || true; exec "$@"' _ "${CMD[@]}"
fi
echo "fuzz/session: no private network namespace available; relying on --allow 127.0.0.0/8" >&2
exec "${CMD[@]}"
