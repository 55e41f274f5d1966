#!/usr/bin/env python3
"""MaxCut benchmark: `solve maxcut` (MCPG) vs dwave-neal on Gset, side by side in one run.

For every graph and wall-clock limit this runs
  * ours:      target/release/solve maxcut G.txt --time-limit L --threads T --seed S --json
  * restarts:  the same binary with --sampler restarts (ablation: same filter, no policy,
               uniform random restarts), when --ablation is given
  * neal:      dwave-neal simulated annealing via ../shared/bench/maxcut_peers.py (same limit)
and prints one Markdown table: graph, n, m, best known, solver, limit, cut, gap %, time to
best, wall s, CPU s. Every cut is re-evaluated from the returned partition (ours by the CLI,
which refuses to print a cut that differs from its partition; neal by maxcut_peers.py).

It also times parsing of the largest Gset files (--parse), using the CLI's read_seconds.

Usage (from the repository root, after `cargo build --release -p mathprog-cli`):
  python3 bench/maxcut_gset.py --graphs G1 G14 G22 G55 --limits 10 60 --ablation --parse
  pip install dwave-neal   # for the peer; it is skipped with a note when missing
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
GSET = SHARED / "data" / "gset"
SOLVE = ROOT / "target" / "release" / "solve"


def run_ours(path, limit, threads, seed, extra=()):
    cmd = [str(SOLVE), "maxcut", str(path), "--time-limit", str(limit), "--threads", str(threads),
           "--seed", str(seed), "--stall-rounds", "0", "--json", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    r = json.loads(out)
    return {"cut": r["objective"], "wall_s": wall, "cpu_s": cpu, "time_to_best_s": r["time_to_best"],
            "rounds": r["iterations"], "samples": r["stats"]["samples"], "status": r["status"],
            "read_s": r["stats"]["read_seconds"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--graphs", nargs="+", default=["G1", "G14", "G22", "G55"])
    ap.add_argument("--limits", nargs="+", type=float, default=[10, 60])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-neal", action="store_true")
    ap.add_argument("--ablation", action="store_true", help="also run --sampler restarts")
    ap.add_argument("--parse", action="store_true", help="time parsing of G81 (20,000 vertices)")
    ap.add_argument("--jsonl", default=None, help="append raw results here")
    a = ap.parse_args()

    if not SOLVE.exists():
        sys.exit(f"{SOLVE} missing: run `cargo build --release -p mathprog-cli` first")
    best_known = json.load(open(GSET / "best_known.json"))
    neal_run = None
    if not a.no_neal:
        sys.path.insert(0, str(SHARED / "bench"))
        try:
            import maxcut_peers  # noqa: E402
            import neal  # noqa: F401
            neal_run = maxcut_peers
        except ImportError as e:
            print(f"(neal skipped: {e}; pip install dwave-neal)")

    print(f"commit {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()}, "
          f"threads {a.threads}, seed {a.seed}, {os.cpu_count()} CPUs")
    print("| graph | n | m | best known | solver | limit s | cut | gap % | time to best s | wall s | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in a.graphs:
        path = GSET / f"{name}.txt"
        n, m = map(int, open(path).readline().split()[:2])
        ref = best_known.get(name)
        for limit in a.limits:
            rows = [("mcpg (ours)", lambda: run_ours(path, limit, a.threads, a.seed))]
            if a.ablation:
                rows.append(("restarts (ablation)",
                             lambda: run_ours(path, limit, a.threads, a.seed, ("--sampler", "restarts"))))
            if neal_run is not None:
                def peer():
                    n2, e = neal_run.read_gset(str(path))
                    return neal_run.run_neal(str(path), n2, e, limit, a.seed)
                rows.append(("dwave-neal SA", peer))
            for label, fn in rows:
                r = fn()
                r.update({"graph": name, "solver": label, "limit": limit})
                if a.jsonl:
                    with open(a.jsonl, "a") as f:
                        f.write(json.dumps(r) + "\n")
                cut = r["cut"]
                gap = f"{100.0 * (ref - cut) / ref:.3f}" if ref else "-"
                print(f"| {name} | {n} | {m} | {ref} | {label} | {limit:g} | {cut:g} | {gap} | "
                      f"{r['time_to_best_s']:.2f} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} |", flush=True)

    if a.parse:
        print()
        print("| file | n | m | parse ms (best of 5, CLI read_seconds) |")
        print("|---|---|---|---|")
        for name in ["G81", "G77", "G72"]:
            path = GSET / f"{name}.txt"
            if not path.exists():
                continue
            n, m = map(int, open(path).readline().split()[:2])
            best = min(run_ours(path, 0, 1, 1, ("--max-rounds", "1"))["read_s"] for _ in range(5))
            print(f"| {name} | {n} | {m} | {best * 1000:.1f} |", flush=True)


if __name__ == "__main__":
    main()
