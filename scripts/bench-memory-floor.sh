#!/usr/bin/env bash
# The anomaly scorer's memory floor on W1 beside W1 itself, alternately in one run: what the scorer's state
# traffic alone costs per reading (Benchmarks/memory-floor/scorer-memory-floor.c), as a ratio to W1's cost,
# and the scorer's actual cost (`vigil-bench core --detectors`) for comparison.
# Usage: scripts/bench-memory-floor.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
VIGIL=.build/release/vigil-bench
[ -x "$VIGIL" ] || { echo "build first: swift build -c release --product vigil-bench" >&2; exit 2; }
FLOOR=$(mktemp -d)/scorer-memory-floor
trap 'rm -rf "$(dirname "$FLOOR")"' EXIT
gcc -O2 -o "$FLOOR" Benchmarks/memory-floor/scorer-memory-floor.c
field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }
echo "# W1 (10 M readings, 40,000 sensors) and the scorer's memory floor, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
for i in $(seq "$RUNS"); do
    w1=$("$VIGIL" core | field seconds)
    floor=$("$FLOOR" | field seconds)
    detectors=$("$VIGIL" core --detectors | field seconds)
    python3 -c "w,f,d=$w1,$floor,$detectors; print(f'run $i: W1 {w:.3f} s | scorer memory floor {f:.3f} s = {f/w:.2f}x W1 | W1+detectors {d:.3f} s (detectors add {(d-w)/w:.2f}x W1)')"
done
