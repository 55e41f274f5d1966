#!/usr/bin/env python3
"""Run the seeded runs of cli/tests/json_keys.rs with two `solve` binaries and compare every
JSON value except timings: a refactoring must give identical answers.

    python3 bench/compare_versions.py OLD_SOLVE NEW_SOLVE

Run from the repository root (the runs read data/ by relative paths)."""
import json
import re
import subprocess
import sys


def flat(v, p=""):
    out = {}
    if isinstance(v, dict):
        for k, x in v.items():
            out.update(flat(x, f"{p}.{k}" if p else k))
    else:
        out[p] = v
    return out


def main():
    old, new = sys.argv[1], sys.argv[2]
    src = open("cli/tests/json_keys.rs").read()
    src = src[src.index("const RUNS"):src.index("];")]
    runs = re.findall(r'\(\s*"(\w+)",\s*"([^"]+)",?\s*\)', src)
    skip = re.compile(r"seconds|elapsed|time_to_best|^backend")
    bad = 0
    for name, args in runs:
        res = []
        for b in (old, new):
            r = subprocess.run([b] + args.split() + ["--json", "--threads", "2"],
                               capture_output=True, text=True, check=True)
            res.append(flat(json.loads(r.stdout)))
        o, n = res
        diffs = [k for k in o if not skip.search(k) and k in n and o[k] != n[k]
                 and not (isinstance(o[k], float) and o[k] != o[k] and n[k] != n[k])]
        print(f"{name:28} " + ("identical" if not diffs else
              "differs: " + ", ".join(f"{k}: {str(o[k])[:40]} -> {str(n[k])[:40]}" for k in diffs[:6])))
        bad += bool(diffs)
    print("runs with differences:", bad)


if __name__ == "__main__":
    main()
