#!/usr/bin/env python3
"""MaxSAT benchmark: `solve maxsat` on the shared MaxSAT data vs python-sat peers.

Ours: wall-clock limit per instance, 2 threads, seed 1; on the min2sat instances we stop at the
best known number of satisfied soft clauses (--target) and report when it was reached.
Peers (../shared/bench/maxsat_rc2.py, same machine, run right after ours): LSU anytime with the
same limit (best found), RC2 for the small instances (proven optima).

Usage: python3 bench/maxsat.py [--limit 60] [--threads 2] [--extra "--filter greedy --sweeps 2"]
                               [--no-peers]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "maxsat")
PEERS = os.path.join(ROOT, "..", "shared", "bench", "maxsat_rc2.py")
# min2sat instances: best known satisfied soft clauses (MCPG paper's "UB").
MIN2SAT = {
    "clq1-cv160c800l2g1.wcnf": 340,
    "clq1-cv160c800l2g2.wcnf": 352,
    "clq1-cv260c1040l2g1.wcnf": 458,
    "clq1-cv260c1040l2g2.wcnf": 473,
}
RANDU = ["randu1.cnf", "randu2.cnf", "randu3.cnf"]


def ours(path, limit, threads, extra, target=None):
    cmd = [os.path.join(ROOT, "target", "release", "solve"), "maxsat", path, "--time-limit", str(limit),
           "--threads", str(threads), "--seed", "1", "--json"] + extra
    if target is not None:
        cmd += ["--target", str(target)]
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return r


def peer(path, limit, anytime):
    cmd = [sys.executable, PEERS, path, "--limit", str(limit)] + (["--anytime"] if anytime else [])
    out = subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()
    cells = [c.strip() for c in out[-1].strip("|").split("|")]
    return cells[4], cells[6], cells[7]  # status, satisfied soft, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--extra", default="")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--min2sat-only", action="store_true", help="skip randu and the small set")
    a = ap.parse_args()
    extra = a.extra.split()
    print(f"| instance | soft | best known | ours satisfied soft | hard ok | ours time to best (s) | LSU {a.limit:g} s satisfied soft |")
    print("|---|---|---|---|---|---|---|")
    for name, ub in list(MIN2SAT.items()) + ([] if a.min2sat_only else [(r, None) for r in RANDU]):
        p = os.path.join(DATA, name)
        r = ours(p, a.limit, a.threads, extra, None)
        s = r["stats"]
        lsu = peer(p, a.limit, True)[1] if not a.no_peers else "-"
        print(f"| {name} | {s['soft_clauses']} | {ub if ub else '-'} | {s['satisfied_soft']} | "
              f"{'yes' if s['hard_satisfied'] else 'NO'} | {r['time_to_best']:.1f} | {lsu} |", flush=True)
    if a.min2sat_only:
        return
    print()
    print("| small instance | RC2 proven optimum (cost) | ours cost | ours time to best (s) |")
    print("|---|---|---|---|")
    opt = json.load(open(os.path.join(DATA, "small", "optimal.json")))
    for name in ["max2sat_n60_m360.cnf", "max3sat_n40_m400.cnf", "pmax2sat_n120_h360_s120.wcnf",
                 "wpmaxsat_n50_h150_s250.wcnf"]:
        r = ours(os.path.join(DATA, "small", name), 10, a.threads, extra, opt[name])
        print(f"| {name} | {opt[name]} | {r['stats']['cost']} | {r['time_to_best']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
