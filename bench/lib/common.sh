# Shared setup for bench/run, bench/memory and bench/allocs. Sourced, not executed.
# Installs what the benchmark needs (Debian packages, a matplotlib venv in bench/.venv),
# resolves the berth binary, and hands over to the Python harness.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
# The one Python harness, tests/berthkit: every bench script starts berth and reads its admin API through it.
export PYTHONPATH="$REPO_DIR/tests${PYTHONPATH:+:$PYTHONPATH}"

bench_log() { printf 'bench: %s\n' "$*" >&2; }

# bench_apt PKG:COMMAND ... installs each Debian package whose command is missing.
bench_apt() {
    local missing=() spec
    for spec in "$@"; do
        command -v "${spec#*:}" >/dev/null 2>&1 || [ -x "/usr/sbin/${spec#*:}" ] || missing+=("${spec%%:*}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    bench_log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# bench_python [--plot]: sets BENCH_PY. With --plot, a venv in bench/.venv with matplotlib
# (ignored by the repository's .gitignore rule `.venv/`). If the venv cannot be made, falls back to
# python3 and the harness skips the chart with a warning.
bench_python() {
    BENCH_PY="$(command -v python3)"
    [ "${1:-}" = "--plot" ] || return 0
    local venv="$BENCH_DIR/.venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import matplotlib' >/dev/null 2>&1; then
        bench_log "creating $venv with matplotlib"
        { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check matplotlib; } >&2 \
            || bench_log "warning: could not install matplotlib; the chart will be skipped"
    fi
    [ -x "$venv/bin/python" ] && BENCH_PY="$venv/bin/python"
    return 0
}

# bench_berth: sets BERTH_BIN (default .build/release/berth, built only when missing).
bench_berth() {
    BERTH_BIN="${BERTH_BIN:-$REPO_DIR/.build/release/berth}"
    if [ ! -x "$BERTH_BIN" ]; then
        if [ "$BERTH_BIN" = "$REPO_DIR/.build/release/berth" ]; then
            bench_log "building $BERTH_BIN (swift build -c release --product berth)"
            (cd "$REPO_DIR" && swift build -c release --product berth) >&2
        fi
        [ -x "$BERTH_BIN" ] || { bench_log "BERTH_BIN=$BERTH_BIN is not an executable"; exit 2; }
    fi
    export BERTH_BIN
}
