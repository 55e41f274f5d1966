#!/usr/bin/env python3
"""MaxCut SDP benchmark: `solve sdp --maxcut` against SCS and the Burer-Monteiro baseline of
../shared/bench/sdp_peers.py, in one session on one machine.

Ours: certified relative gap 1e-3 and 1e-4 (time, iterations, peak RSS by /usr/bin/time -v,
GW cut). Peers: BM (rank ceil(sqrt(2n)), certified by one Lanczos call) on every graph, SCS
(eps 1e-4) on the 800-vertex graphs (it is O(n^3) per iteration). With --large N also a seeded
random graph with N vertices and average degree 10 (ours only, gap 1e-2).

Usage: python3 bench/sdp_maxcut.py [--graphs G1 G11 ...] [--peers bm scs] [--limit 600]
                                   [--large 1000000] [--threads 2]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GSET = os.path.join(ROOT, "..", "shared", "data", "gset")
PEERS = os.path.join(ROOT, "..", "shared", "bench", "sdp_peers.py")
SOLVE = os.path.join(ROOT, "target", "release", "solve")


def ours(path, tol, threads, extra=()):
    cmd = ["/usr/bin/time", "-v", SOLVE, "sdp", "--maxcut", path, "--tol", str(tol),
           "--threads", str(threads), "--json", *extra]
    t0 = time.perf_counter()
    pr = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if pr.returncode != 0:
        return dict(status="failed", stderr=pr.stderr[-300:])
    r = json.loads(pr.stdout)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", pr.stderr)
    return dict(status=r["status"], lower=r["objective"], upper=r["bound"],
                gap=r["residuals"]["relative_gap"], seconds=r["elapsed"], process_s=wall,
                iterations=r["iterations"], rank=r["stats"]["rank"], gw=r["stats"]["cut_value"],
                rss_mib=int(rss.group(1)) / 1024 if rss else None)


def peers(files, solvers, limit):
    out = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    res = {}
    for solver in solvers:
        fs = files if solver != "scs" else [f for f in files if os.path.basename(f) in ("G1.txt", "G11.txt", "G14.txt")]
        if not fs:
            continue
        subprocess.run([sys.executable, PEERS, "--gset", *fs, "--solvers", solver, "--limit", str(limit),
                        "--out", out], capture_output=True, text=True)
    with open(out) as fh:
        for line in fh:
            r = json.loads(line)
            res[(r.get("instance", "").replace(".txt", ""), r.get("solver"))] = r
    os.unlink(out)
    return res


def large_graph(n, degree, seed, path):
    import numpy as np
    rng = np.random.default_rng(seed)
    m = int(n * degree / 2)
    u = rng.integers(0, n, size=int(m * 1.05))
    v = rng.integers(0, n, size=int(m * 1.05))
    keep = u != v
    a, b = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    key = np.unique(a.astype(np.int64) * n + b)[:m]
    a, b = key // n, key % n
    with open(path, "w") as fh:
        fh.write(f"{n} {len(a)}\n")
        fh.write("\n".join(f"{x + 1} {y + 1} 1" for x, y in zip(a.tolist(), b.tolist())))
        fh.write("\n")
    return len(a)


def sketch_table(a):
    """Memory-efficient mode (--memory-efficient, sketch rank 10) vs the factored default, both
    to a certified gap of 1e-2, with a time limit of --limit seconds."""
    print("| graph | sketch mode: s (iters, MiB) | [lower, upper] | GW | factored mode: s (iters, MiB) | [lower, upper] |")
    print("|---|---|---|---|---|---|")
    lim = ["--time-limit", str(a.limit)]
    for g in a.graphs:
        f = os.path.join(GSET, g + ".txt")
        sk = ours(f, 1e-2, a.threads, ["--memory-efficient", *lim])
        fa = ours(f, 1e-2, a.threads, lim)
        def cell(r):
            if r.get("status") == "failed":
                return "failed", ""
            st = "" if r["status"] == "converged" else " " + r["status"]
            return (f"{r['seconds']:.2f} ({r['iterations']}, {r['rss_mib']:.0f}){st}",
                    f"[{r['lower']:.2f}, {r['upper']:.2f}]")
        (c1, b1), (c2, b2) = cell(sk), cell(fa)
        print(f"| {g} | {c1} | {b1} | {sk.get('gw')} | {c2} | {b2} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graphs", nargs="*", default=["G1", "G11", "G14", "G22", "G55", "G67", "G81"])
    ap.add_argument("--peers", nargs="*", default=["bm", "scs"])
    ap.add_argument("--limit", type=float, default=600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--large", type=int, nargs="*", default=[])
    ap.add_argument("--sketch", action="store_true",
                    help="only the memory-efficient (Nystrom sketch) mode against the factored one, gap 1e-2")
    a = ap.parse_args()
    if a.sketch:
        sketch_table(a)
        return
    files = [os.path.join(GSET, g + ".txt") for g in a.graphs]
    rows = []
    for g, f in zip(a.graphs, files):
        rows.append((g, ours(f, 1e-3, a.threads), ours(f, 1e-4, a.threads)))
    pr = peers(files, a.peers, a.limit) if a.peers else {}
    print("| graph | ours gap 1e-3: s (iters, MiB) | ours gap 1e-4: s (iters, MiB) | ours [lower, upper] at 1e-4 | GW cut | BM: CPU s / MiB / [value, upper] | SCS (eps 1e-4): CPU s / MiB / [primal, dual] |")
    print("|---|---|---|---|---|---|---|")
    for g, r3, r4 in rows:
        def cell(r):
            if r.get("status") == "failed":
                return "failed"
            return f"{r['seconds']:.2f} ({r['iterations']}, {r['rss_mib']:.0f}){'' if r['status'] == 'converged' else ' ' + r['status']}"
        def peer(s):
            r = pr.get((g, s))
            if not r:
                return "-"
            if "cpu_s" not in r:
                return r.get("status", "?")
            lo, up = r.get("primal_obj"), r.get("dual_obj")
            v = f"[{lo:.2f}, {up:.2f}]" if lo is not None and up is not None else "?"
            return f"{r['cpu_s']:.1f} / {r.get('peak_rss_mib', 0):.0f} / {v}"
        print(f"| {g} | {cell(r3)} | {cell(r4)} | [{r4.get('lower', 0):.3f}, {r4.get('upper', 0):.3f}] | {r4.get('gw')} | {peer('bm')} | {peer('scs')} |")
    for n in a.large:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, f"rand_n{n}_d10_s1.txt")
            m = large_graph(n, 10, 1, path)
            r = ours(path, 1e-2, a.threads)
            print(f"| random n={n}, m={m} (degree 10, seed 1) | gap 1e-2: {r.get('seconds', 0):.1f} s ({r.get('iterations')}, {r.get('rss_mib', 0):.0f} MiB), {r.get('status')} | [{r.get('lower', 0):.1f}, {r.get('upper', 0):.1f}] | GW {r.get('gw')} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
