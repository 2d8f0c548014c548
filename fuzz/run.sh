#!/usr/bin/env bash
# Builds the libFuzzer targets (request, response, body) with ASan and runs each for SECONDS (default 20).
# Usage: bash fuzz/run.sh [SECONDS]. Exits non-zero when a target crashes or breaks an invariant.
set -euo pipefail
SECONDS_EACH="${1:-20}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/fuzz/out"
SWIFTC="${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}"
mkdir -p "$OUT"
status=0
for target in request response body; do
    echo "== building fuzz_$target"
    "$SWIFTC" -O -sanitize=fuzzer,address -parse-as-library -module-name HTTP1Fuzz \
        "$ROOT"/Sources/HTTP1/*.swift "$ROOT/fuzz/FuzzSupport.swift" "$ROOT/fuzz/fuzz_$target.swift" \
        -o "$OUT/fuzz_$target" 2> >(grep -v "Cannot export local symbol" >&2)
    work="$OUT/corpus-$target"
    mkdir -p "$work"
    cp -n "$ROOT/fuzz/corpus/$target"/* "$work"/ 2>/dev/null || true
    echo "== running fuzz_$target for ${SECONDS_EACH}s"
    if ! "$OUT/fuzz_$target" -max_total_time="$SECONDS_EACH" -max_len=4096 -print_final_stats=0 \
            -artifact_prefix="$OUT/crash-$target-" "$work" > "$OUT/fuzz_$target.log" 2>&1; then
        echo "!! fuzz_$target failed; see $OUT/fuzz_$target.log"
        tail -30 "$OUT/fuzz_$target.log"
        status=1
    else
        grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$OUT/fuzz_$target.log" | tail -1 || true
    fi
done
exit $status
