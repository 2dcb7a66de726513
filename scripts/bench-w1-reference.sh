#!/usr/bin/env bash
# W1 in the same run on byte-identical data: the C reference (shared/bench) and `vigil-bench core --data`.
# Also checks Vigil's window rows against the exact reference results (ref.npz).
# Usage: scripts/bench-w1-reference.sh [records] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
RUNS=${2:-5}
BENCH=${VIGIL_SHARED:-../shared}/bench
DATA=${W1_DATA:-/tmp/vigil-w1-$N}
[ -f "$BENCH/w1-reference.c" ] || { echo "missing $BENCH/w1-reference.c (set VIGIL_SHARED)" >&2; exit 2; }
if [ ! -f "$DATA/ref.npz" ]; then
    python3 "$BENCH/w1-data.py" "$N" "$DATA"
fi
gcc -O3 -march=native -o "$DATA/w1ref" "$BENCH/w1-reference.c" -lm
VIGIL=.build/release/vigil-bench
echo "# W1 on $N readings, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
c_best=0
v_best=0
for i in $(seq "$RUNS"); do
    c=$("$DATA/w1ref" "$DATA" stream - | sed -n 's/.*"records_per_s_job":\([0-9.]*\).*/\1/p')
    v=$("$VIGIL" core --data "$DATA" --repeat 1 | sed -n 's/.*"records_per_s":\([0-9.e+]*\).*/\1/p')
    echo "run $i: c-stream ${c} rec/s, vigil ${v} rec/s"
    c_best=$(python3 -c "print(max($c_best, $c))")
    v_best=$(python3 -c "print(max($v_best, float('$v')))")
done
python3 -c "print(f'best: c-stream {$c_best/1e6:.1f} M rec/s, vigil {$v_best/1e6:.1f} M rec/s, ratio vigil/c = {$v_best/$c_best:.2f}')"
"$VIGIL" core --data "$DATA" --repeat 1 --rows-csv "$DATA/vigil-rows.csv" > /dev/null
python3 - "$DATA" <<'PY'
import sys, numpy as np
d = sys.argv[1]
ref = np.load(f"{d}/ref.npz")
rows = np.loadtxt(f"{d}/vigil-rows.csv", delimiter=",", skiprows=1)
key = lambda e, s, w: (e.astype(np.int64) * 100 + s.astype(np.int64)) * 10**13 + w.astype(np.int64)
rk = key(ref["enterprise_id"], ref["sensor_id"], ref["window_start_ms"])
vk = key(rows[:, 0], rows[:, 1], rows[:, 2])
ro, vo = np.argsort(rk), np.argsort(vk)
assert len(rk) == len(vk) and np.array_equal(rk[ro], vk[vo]), "window sets differ"
worst = 0.0
for j, name in [(3, "count"), (4, "mean"), (5, "min"), (6, "max"), (7, "std")]:
    a, b = rows[vo, j], ref[name][ro].astype(np.float64)
    err = np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
    worst = max(worst, err)
    print(f"check {name}: max relative difference {err:.2e}")
print("rows agree with ref.npz" if worst < 1e-9 else "ROWS DIFFER FROM ref.npz")
sys.exit(0 if worst < 1e-9 else 1)
PY
