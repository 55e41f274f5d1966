#!/usr/bin/env python3
"""Merge our SDPLIB table (the markdown of bench/sdplib.py) with the peers' JSON lines
(bench/sdplib_peers.py) into one table: ours, SCS and Clarabel side by side, plus the
agreement of our value with Clarabel's where both report solved.

Usage: python3 bench/sdplib_merge.py OURS.md PEERS.jsonl [LIMIT] > table.md
"""
import json
import sys


def main():
    ours_md, peers_jl = sys.argv[1], sys.argv[2]
    rows = {}
    for line in open(ours_md):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 12 or cells[0] in ("problem", "---") or cells[0].startswith("-"):
            continue
        rows[cells[0]] = cells
    peers = {}
    for line in open(peers_jl):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            peers[(r["problem"], r["solver"])] = r

    def cell(name, solver):
        r = peers.get((name, solver))
        if r is None:
            return "–"
        if "value" not in r:
            return r["status"]
        st = r["status"]
        short = {"solved": "solved", "Solved": "solved",
                 "solved (inaccurate - reached time_limit_secs)": "time limit",
                 "solved (inaccurate - reached max_iters)": "iteration limit"}.get(st, st)
        return f"{r['value']:.7g} ({short}, {r['s']:.2f} s)"

    print("| problem | m | n | listed | ours | rel. error | status | ours s | SCS (eps 1e-6) | Clarabel | ours vs Clarabel |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    agree, compared = 0, 0
    for name in sorted(rows):
        c = rows[name]
        m, n, ours, listed, err, status, secs = c[1], c[2], c[3], c[4], c[5], c[6], c[7]
        cl = peers.get((name, "clarabel"))
        vs = "–"
        if cl and cl.get("status") == "Solved" and status == "converged":
            d = abs(float(ours) - cl["value"]) / max(1.0, abs(cl["value"]))
            vs = f"{d:.1e}"
            compared += 1
            agree += d <= 1e-5
        print(f"| {name} | {m} | {n} | {listed} | {ours} | {err} | {status} | {secs} | {cell(name, 'scs')} | "
              f"{cell(name, 'clarabel')} | {vs} |")
    print()
    print(f"Ours (converged) vs Clarabel (Solved): {agree}/{compared} agree to 1e-5 relative.")
    # Shifted geometric mean of times (shift 1 s, unsolved = the limit) over the problems that
    # any solver solves. Ours solved: converged and agreeing with the listing (or the right
    # infeasibility status); Clarabel's: Solved or an infeasibility status.
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    import math
    # SCS's: "solved" or an infeasibility status (not "solved (inaccurate ...)").
    solved_status = {"clarabel": ("Solved", "PrimalInfeasible", "DualInfeasible"),
                     "scs": ("solved", "infeasible", "unbounded")}
    times = {"ours": {}, "clarabel": {}, "scs": {}}
    for name in rows:
        c = rows[name]
        ok = (c[6] == "converged" and "✗" not in c[5]) or c[5] == "certificate"
        times["ours"][name] = float(c[7]) if ok else None
        for solver in ("clarabel", "scs"):
            r = peers.get((name, solver))
            r_ok = r is not None and r.get("status") in solved_status[solver]
            times[solver][name] = min(r["s"], limit) if r_ok else None
    ran_any = ["ours"] + [k for k in ("clarabel", "scs") if any(p[1] == k for p in peers)]
    solved_any = [n for n in rows if any(times[k][n] is not None for k in ran_any)]

    def sgm(t):
        vals = [(t[n] if t[n] is not None else limit) for n in solved_any]
        return math.exp(sum(math.log(v + 1.0) for v in vals) / max(1, len(vals))) - 1.0

    print()
    ran = [k for k in ("clarabel", "scs") if any(p[1] == k for p in peers)]
    print(f"Solved (ours: converged and agreeing with the listing, or the infeasibility status): "
          f"ours {sum(v is not None for v in times['ours'].values())}, "
          + ", ".join(f"{k} {sum(v is not None for v in times[k].values())}" for k in ran)
          + f" of {len(rows)}.")
    print(f"Shifted geometric mean of times (shift 1 s, unsolved = {limit:g} s) over the "
          f"{len(solved_any)} problems any solver solves: ours {sgm(times['ours']):.2f} s, "
          + ", ".join(f"{k} {sgm(times[k]):.2f} s" for k in ran) + ".")


if __name__ == "__main__":
    main()
