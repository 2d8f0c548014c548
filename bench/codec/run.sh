#!/usr/bin/env bash
# Builds the codec microbenchmark in release mode and prints ns per head parse and heap allocations per parse.
# Allocations are counted with valgrind (memcheck's "total heap usage" line) at two iteration counts; the difference
# divided by the extra iterations is the steady-state count per request+response parse pair, free of startup noise.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.build/bench-codec"
SWIFTC="${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}"
mkdir -p "$OUT"
"$SWIFTC" -O -wmo -module-name HTTP1Bench "$ROOT"/Sources/HTTP1/*.swift "$ROOT/bench/codec/main.swift" "$ROOT/bench/codec/held.swift" -o "$OUT/bench"
"$OUT/bench"
if command -v valgrind > /dev/null; then
    allocs() { valgrind --tool=memcheck "$OUT/bench" alloc "$1" 2>&1 | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,; }
    a=$(allocs 1000); b=$(allocs 3000)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "heap allocations per request+response parse (steady state): %.3f\n", (b - a) / 2000 }'
else
    echo "heap allocations: valgrind not installed, not measured"
fi
