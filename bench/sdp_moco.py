#!/usr/bin/env python3
"""MOCO against today's MaxCut SDP modes (issue 20, item 4): time and peak memory to a
certified relative gap, in one session on one machine.

Modes (all `solve sdp --maxcut G --json --threads T`, peak RSS by /usr/bin/time -v):
  factored            the default (mixing sweeps + eigen steps + Newton endgame)
  factored+momentum   MOCO's heavy ball (delta_k = 2/(k+2)) on the oracle's dual estimate
  factored+precond    the degree preconditioner on the oracle and the certificate
  sketch-cgal         --memory-efficient (SketchyCGAL)
  sketch-moco         --memory-efficient --sketch-method moco (ray search, augmented Lagrangian)
  sketch-moco+momentum, sketch-moco+precond

Usage: python3 bench/sdp_moco.py [--graphs G1 G14 G22 G32 G81] [--tols 1e-2 1e-4]
                                 [--limit 120] [--sketch-limit 60 20] [--threads 2] [--out F.jsonl]
"""
import argparse
import json
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GSET = os.path.join(ROOT, "..", "shared", "data", "gset")
LOCAL = os.path.join(ROOT, "data", "suites", "gset")
SOLVE = os.path.join(ROOT, "target", "release", "solve")

MODES = {
    "factored": [],
    "factored+momentum": ["--momentum"],
    "factored+precond": ["--precondition"],
    "sketch-cgal": ["--memory-efficient"],
    "sketch-moco": ["--memory-efficient", "--sketch-method", "moco"],
    "sketch-moco+momentum": ["--memory-efficient", "--sketch-method", "moco", "--momentum"],
    "sketch-moco+precond": ["--memory-efficient", "--sketch-method", "moco", "--precondition"],
}


def graph_path(g):
    for d in (GSET, LOCAL):
        p = os.path.join(d, g + ".txt")
        if os.path.exists(p):
            return p
    return None


def run(path, tol, extra, limit, threads):
    cmd = ["/usr/bin/time", "-v", SOLVE, "sdp", "--maxcut", path, "--tol", str(tol),
           "--threads", str(threads), "--time-limit", str(limit), "--gw-trials", "0",
           "--json", *extra]
    pr = subprocess.run(cmd, capture_output=True, text=True)
    if pr.returncode != 0:
        return dict(status="failed", stderr=pr.stderr[-300:])
    r = json.loads(pr.stdout)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", pr.stderr)
    return dict(status=r["status"], seconds=r["elapsed"], iterations=r["iterations"],
                lower=r["objective"], upper=r["bound"], gap=r["residuals"]["relative_gap"],
                rss_mib=int(rss.group(1)) / 1024 if rss else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--graphs", nargs="+", default=["G1", "G14", "G22", "G32", "G81"])
    ap.add_argument("--tols", nargs="+", type=float, default=[1e-2, 1e-4])
    ap.add_argument("--modes", nargs="+", default=list(MODES))
    ap.add_argument("--limit", type=float, default=120.0, help="factored modes, seconds")
    ap.add_argument("--sketch-limit", nargs=2, type=float, default=[60.0, 20.0],
                    help="sketch modes: seconds at the loosest and at the other tolerances")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = open(a.out, "a") if a.out else None
    rows = {}
    for g in a.graphs:
        path = graph_path(g)
        if path is None:
            print(f"skipped {g}: not in ../shared/data/gset or data/suites/gset")
            continue
        for tol in a.tols:
            for mode in a.modes:
                sketch = mode.startswith("sketch")
                limit = (a.sketch_limit[0] if tol == max(a.tols) else a.sketch_limit[1]) if sketch else a.limit
                r = run(path, tol, MODES[mode], limit, a.threads)
                r.update(graph=g, tol=tol, mode=mode, limit=limit)
                rows[(g, tol, mode)] = r
                print(json.dumps(r), flush=True)
                if out:
                    out.write(json.dumps(r) + "\n")
                    out.flush()
    # Markdown table: one row per graph and tolerance, one column per mode.
    print("\n| graph | gap | " + " | ".join(a.modes) + " |")
    print("|---|---|" + "---|" * len(a.modes))
    for g in a.graphs:
        for tol in a.tols:
            cells = []
            for mode in a.modes:
                r = rows.get((g, tol, mode))
                if r is None:
                    cells.append("-")
                elif r["status"] == "converged":
                    cells.append(f"{r['seconds']:.2f} s ({r['iterations']}, {r['rss_mib']:.0f} MiB)")
                elif r["status"] == "failed":
                    cells.append("failed")
                else:
                    cells.append(f"{r['status']} at {r['limit']:.0f} s: gap {r['gap']:.1e} ({r['rss_mib']:.0f} MiB)")
            print(f"| {g} | {tol:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
