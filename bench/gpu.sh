#!/usr/bin/env bash
# CPU vs GPU (issue 9): every offloaded kernel against its CPU twin (`solve bench-gpu`), then
# end-to-end solves with --backend cpu and --backend cuda on the same instances.
#
#   cargo build --release -p mathprog-cli --features cuda
#   bash bench/gpu.sh [SOLVE_BINARY] [DATA_DIR]
#
# SOLVE_BINARY defaults to target/release/solve; DATA_DIR (default ../shared/data/gset) must
# hold G22.txt and G55.txt. Point clouds (2-D, uniform weights) and a 50,000-vertex random
# graph are generated into bench/out/. Needs an NVIDIA GPU with its driver, cuBLAS and NVRTC.
set -euo pipefail
cd "$(dirname "$0")/.."
SOLVE=$(realpath "${1:-target/release/solve}")
DATA=$(realpath "${2:-../shared/data/gset}")
mkdir -p bench/out && cd bench/out
python3 - <<'PY'
import os, random
for n in (4000, 8000):
    for side, seed in (("src", 1), ("tgt", 2)):
        path = f"pc{n}_{side}.txt"
        if not os.path.exists(path):
            r = random.Random(seed * 100000 + n)
            with open(path, "w") as f:
                for _ in range(n):
                    f.write(f"{r.random():.17g} {r.random():.17g} 1\n")
if not os.path.exists("er50k.txt"):
    r = random.Random(7); n = 50000; edges = set()
    while len(edges) < 200000:
        u, v = r.randrange(n), r.randrange(n)
        if u != v:
            edges.add((min(u, v), max(u, v)))
    with open("er50k.txt", "w") as f:
        f.write(f"{n} {len(edges)}\n")
        for u, v in sorted(edges):
            f.write(f"{u + 1} {v + 1} 1\n")
PY
"$SOLVE" bench-gpu --scale bench --repeats 5
summary() { python3 -c '
import json, sys
for line in sys.stdin:
    if line.startswith("{"):
        r = json.loads(line); b = r.get("backend", {})
        print(f"{sys.argv[1]:<36} {b.get(\"name\"):<5} {r[\"elapsed\"]:8.3f} s  iters {r[\"iterations\"]:<6} objective {r[\"objective\"]:.12g}  {r[\"status\"]}")
' "$1"; }
for be in cpu cuda; do
  "$SOLVE" ot --source pc4000_src.txt --target pc4000_tgt.txt --scale-cost --reg 0.001 --tol 1e-8 --method sinkhorn --json --backend $be | summary "ot pc4000 sinkhorn reg 1e-3"
  "$SOLVE" ot --source pc4000_src.txt --target pc4000_tgt.txt --scale-cost --reg 0.001 --tol 1e-8 --method sns --json --backend $be | summary "ot pc4000 sns reg 1e-3"
  "$SOLVE" ot --source pc8000_src.txt --target pc8000_tgt.txt --scale-cost --reg 0.01 --tol 1e-8 --method sinkhorn --json --backend $be | summary "ot pc8000 sinkhorn reg 1e-2"
  "$SOLVE" ot --source pc8000_src.txt --target pc8000_tgt.txt --scale-cost --reg 0.001 --tol 1e-8 --method sns --json --backend $be | summary "ot pc8000 sns reg 1e-3"
  "$SOLVE" maxcut "$DATA/G22.txt" --max-rounds 30 --seed 1 --json --backend $be | summary "maxcut G22 30 rounds"
  "$SOLVE" maxcut "$DATA/G22.txt" --max-rounds 5 --groups 130 --copies 120 --seed 1 --json --backend $be | summary "maxcut G22 130x120 chains, 5 rounds"
  "$SOLVE" sdp --maxcut "$DATA/G22.txt" --json --backend $be | summary "sdp --maxcut G22"
  "$SOLVE" sdp --maxcut "$DATA/G55.txt" --json --backend $be | summary "sdp --maxcut G55"
done
# The peer: POT's Sinkhorn with torch on the same GPU (and numpy on the CPU), same point clouds.
python3 -W ignore ../pot_gpu.py || echo "POT with torch not available: pip install pot torch"
