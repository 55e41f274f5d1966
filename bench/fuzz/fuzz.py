#!/usr/bin/env python3
"""Hostile-user fuzzing of the `solve` binary (the longer local run of issue 19; the bounded
suite that CI runs is tests/fuzz_readers.rs and cli/tests/hostile.rs).

Every run is `prlimit --as=CAP timeout -k 2 LIMIT solve CMD FILE FLAGS --json`: mutants of small
seed files of every format (hostile numbers in every token position, truncations, line edits,
byte flips, non-UTF-8, CR-only line ends) plus the targeted reproducers of
../shared/research/fuzz_findings.md (sizes, time limits, pathological flags). A run passes when
it exits 0, 1 or 2 within the limit, and an exit-0 JSON report has no null (NaN/inf) answer.

    python3 bench/fuzz/fuzz.py [--mutants 40] [--seed 1] [--cap 2000000000] [--out FILE]

Writes a Markdown summary (bench/results/fuzz_<date>.md by default) with every failure's
command line; exit status 1 if any run failed.
"""
import argparse, datetime, json, os, random, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXE = os.path.join(ROOT, "target", "release", "solve")

# (command, file suffix, seed text, extra flags)
SEEDS = [
    ("maxcut", ".txt", "4 4\n1 2 1\n2 3 -1\n3 4 2.5\n1 4\n", ["--max-rounds", "3"]),
    ("maxsat", ".cnf", "p cnf 3 3\n1 -2 0\n2 3 0\n-1 -3 0\n", ["--max-rounds", "3"]),
    ("maxsat", ".wcnf", "3 1 -2 0\nh 2 3 0\n18 -1 0\n", ["--max-rounds", "3"]),
    ("maxsat", ".wcnf", "p wcnf 3 3 100\n100 1 2 0\n5 -1 0\n7 -2 3 0\n", ["--max-rounds", "3"]),
    ("qubo", ".bq", "3 3\n1 2 1\n1 1 -1\n2 3 0.5\n", ["--max-rounds", "3"]),
    ("ot", ".txt", "2 3\n0.5 0.5\n0.25 0.25 0.5\n0 1 2\n1 0 1\n", ["--max-iter", "2000"]),
    ("sdp", ".dat-s", "2\n2\n2 -2\n1.0 2.0\n0 1 1 1 1.0\n0 1 2 2 2.0\n1 1 1 1 1.0\n1 1 1 2 0.5\n"
     "1 2 1 1 1.0\n2 1 2 2 1.0\n2 2 2 2 1.0\n", ["--max-iter", "50"]),
    ("sdp --maxcut", ".txt", "4 4\n1 2 1\n2 3 -1\n3 4 2.5\n1 4\n", ["--max-iter", "200"]),
    ("game", ".txt", "2 3\n1 -1 0.5\n-1 1 2\n", ["--max-epochs", "50"]),
    ("game", ".mtx", "%%MatrixMarket matrix coordinate real general\n3 2 3\n1 1 1.0\n2 2 -1\n3 1 0.5\n",
     ["--max-epochs", "50"]),
    ("nlp", ".json", '{"problems":[{"name":"t","n":2,"m":1,"objective":"(1 - x1)^2 + sin(x2)",'
     '"constraints":["10*(x2 - x1^2)"],"x0":[-1.2,1.0],"f_star":0,"x_star":[1,1]}]}',
     ["--problem", "t", "--max-iter", "50"]),
    ("nlp --logreg", ".txt", "1 1:0.5 3:2\n-1 2:1\n+1 1:-1 2:1e-3\n-1 1:2 3:-1\n",
     ["--constraints", "2", "--max-iter", "50"]),
    ("mimo", ".json", '{"nt":2,"nr":2,"h":[[1,0],[0,1],[0.5,0],[1,0]],"y":[[1,1],[-1,1]],"noise_var":0.1}',
     ["--max-rounds", "3"]),
]

HOSTILE = ["1e308", "-1e308", "9223372036854775808", "18446744073709551615", "18446744073709551616",
           "4294967296", "2147483647", "100000000000", "-1", "0", "-0", "NaN", "inf", "1e400",
           "0x10", "1e-320"]

# Targeted reproducers (fuzz_findings.md): (label, args, stdin-free file text or None, suffix)
TARGETED = [
    ("P1 gset 2^63", ["maxcut"], "9223372036854775808 0\n", ".txt"),
    ("P1 bq 2^63", ["qubo"], "9223372036854775808 1\n", ".bq"),
    ("P1 ot 2^63", ["ot"], "9223372036854775808 1\n", ".txt"),
    ("P1 game 2^63", ["game"], "9223372036854775808 1\n", ".txt"),
    ("P1 sdpa blocks", ["sdp"], "1\n9223372036854775807\n2\n", ".dat-s"),
    ("P1 sdpa block size", ["sdp"], "1\n1\n-9223372036854775808\n1\n", ".dat-s"),
    ("P1 grid", ["ot", "--source-grid", "@", "--target-grid", "@"], "grid 3 18446744073709551615\n", ".txt"),
    ("P1 libsvm index", ["nlp", "--logreg", "@"], "1 18446744073709551615:1\n", ".txt"),
    ("P2 wcnf weights", ["maxsat"], "18446744073709551615 1 0\n18446744073709551615 -1 0\n", ".wcnf"),
    ("P3 game m*n wraps", ["game"], "4294967296 4294967296\n", ".txt"),
    ("P3 MM wraps", ["game"], "%%MatrixMarket matrix coordinate real general\n4294967296 4294967296 0\n", ".mtx"),
    ("M gset 1e9", ["maxcut"], "1000000000 1\n1 2 1\n", ".txt"),
    ("M cnf 2e9", ["maxsat"], "p cnf 2000000000 1\n1 0\n", ".cnf"),
    ("M wcnf var", ["maxsat"], "1 2147483647 0\n", ".wcnf"),
    ("M grid 1e5", ["ot", "--source-grid", "@", "--target-grid", "@"], "grid 100000 100000\n", ".txt"),
    ("M sdpa m", ["sdp"], "1000000000\n1\n2\n", ".dat-s"),
    ("M game header", ["game"], "50000 50000\n", ".txt"),
    ("M libsvm 1e11", ["nlp", "--logreg", "@"], "1 99999999999:1\n", ".txt"),
    ("W2 mimo wraps", ["mimo"], '{"nt":9223372036854775808,"nr":2,"h":[],"y":[[1,0],[0,1]],"noise_var":1.0}', ".json"),
    ("W3 qubo range", ["qubo"], "2 2\n1 2 1e17\n1 1 -1\n", ".bq"),
    ("W4 maxcut 1e308", ["maxcut"], "3 2\n1 2 1e308\n2 3 1e308\n", ".txt"),
    ("W4 qubo 1e308", ["qubo"], "2 2\n1 2 1e308\n1 1 -1e308\n", ".bq"),
    ("W4 ot masses", ["ot"], "2 2\n1e308 1e308\n1e308 1e308\n0 1\n1 0\n", ".txt"),
    ("W4 ot cost", ["ot"], "2 2\n0.5 0.5\n0.5 0.5\n0 -1e308\n1 0\n", ".txt"),
    ("W4 ot zero mass", ["ot"], "2 2\n1 0\n0.5 0.5\n0 1\n1 0\n", ".txt"),
    ("W4 game 1e300", ["game"], "2 2\n1 2\n3 1e300\n", ".txt"),
    ("W4 mimo h 1e200", ["mimo"], '{"nt":1,"nr":1,"h":[[1e200,0]],"y":[[1,0]],"noise_var":0.1}', ".json"),
    ("W4 mimo zero channel", ["mimo"], '{"nt":2,"nr":1,"h":[[0,0],[0,0]],"y":[[1,0]],"noise_var":0}', ".json"),
]

# Flag cases: (label, args, wall-clock bound in seconds)
FLAGS = [
    ("P4 pde 2^32", ["nlp", "--pde-control", "4294967296"], 5),
    ("P5 time 1e19", ["maxcut", "data/maxcut/torus_4x6_pm1_s2.txt", "--time-limit", "1e19", "--max-rounds", "3"], 5),
    ("P5 time 1e20 ot", ["ot", "data/suites/ot/pc2d_sqeuclid_n50.txt", "--time-limit", "1e20"], 10),
    ("P3 generate 2^32", ["game", "--generate", "gaussian", "--size", "4294967296"], 5),
    ("M groups 1e9", ["maxcut", "data/maxcut/torus_4x6_pm1_s2.txt", "--groups", "1000000000"], 5),
    ("M posterior chains", ["mimo", "--nt", "4", "--snr", "5", "--posterior-chains", "1000000000"], 5),
    ("M mimo nt 1e5", ["mimo", "--nt", "100000", "--snr", "5"], 5),
    ("M generate 1e5", ["game", "--generate", "uniform", "--size", "100000"], 5),
    ("M pde 1e5", ["nlp", "--pde-control", "100000"], 5),
    ("M logreg 3e9", ["nlp", "--logreg-random", "3000000000"], 5),
    ("M bilevel batch", ["bilevel", "hyperclean", "--batch", "1000000000", "--time-limit", "1"], 5),
    ("M bilevel quadratic", ["bilevel", "quadratic", "--size", "1000000000"], 5),
    ("M bilevel dim", ["bilevel", "hyperclean", "--dim", "4611686018427387904"], 5),
    ("H1 accept 1e9 maxcut", ["maxcut", "data/maxcut/torus_4x6_pm1_s2.txt", "--accept-fraction", "1e9", "--time-limit", "1", "--threads", "1"], 1.1),
    ("H1 accept 1e9 qubo", ["qubo", "data/qubo/rand_n20_d50_s1.bq", "--accept-fraction", "1e9", "--time-limit", "1"], 1.1),
    ("H1 sweeps 1e9", ["maxcut", "data/maxcut/torus_4x6_pm1_s2.txt", "--sweeps", "1000000000", "--time-limit", "1"], 1.1),
    ("H1 tabu moves", ["maxcut", "data/maxcut/torus_4x6_pm1_s2.txt", "--filter", "tabu", "--moves", "1000000000000", "--patience", "1000000000000", "--time-limit", "1"], 1.1),
    ("H2 gw trials", ["sdp", "--maxcut", "data/maxcut/torus_4x6_pm1_s2.txt", "--gw-trials", "1000000000000", "--time-limit", "1"], 1.1),
    ("H4 mimo 1e10", ["mimo", "--nt", "2", "--snr", "5", "--time-limit", "1e10"], 2),
    ("threads 100000", ["maxcut", "data/maxcut/torus_4x6_pm1_s2.txt", "--threads", "100000", "--max-rounds", "2"], 20),
]

# Time-limit checks (`--time-limit 2`, default threads): wall clock of the whole command must be
# within 5 % of the limit; files under ../shared are skipped when it is absent.
SHARED = os.path.join(ROOT, "..", "shared", "data")
TIMED = [
    ["maxcut", f"{SHARED}/gset/G22.txt"],
    ["maxcut", f"{SHARED}/gset/G81.txt", "--bound"],
    ["maxcut", f"{SHARED}/gset/G22.txt", "--filter", "tabu"],
    ["maxsat", f"{SHARED}/maxsat/clq1-cv260c1040l2g1.wcnf"],
    ["qubo", "data/qubo/rand_n20_d50_s1.bq", "--accept-fraction", "1e9"],
    ["sdp", f"{SHARED}/sdplib/thetaG11.dat-s"],
    ["sdp", f"{SHARED}/sdplib/thetaG11.dat-s", "--memory-efficient"],
    ["sdp", "--maxcut", f"{SHARED}/gset/G81.txt"],
    ["game", "--generate", "uniform", "--size", "2000"],
    ["game", "--generate", "gaussian", "--size", "2000", "--method", "vr-inexact"],
    ["bilevel", "hyperclean", "--size", "20000"],
    ["nlp", "--pde-control", "128"],
    ["mimo", "--nt", "800", "--snr", "6", "--max-rounds", "100000"],
    ["ot", "--source-grid", "data/ot/mix_12x12_k2_s1.txt", "--target-grid", "data/ot/mix_16x16_k3_s2.txt",
     "--reg", "1e-5"],
]


def timed_rows(limit=2.0):
    rows = []
    for args in TIMED:
        if any(a.startswith(SHARED) and not os.path.exists(a) for a in args):
            rows.append(f"| `{' '.join(args)}` | skipped (needs ../shared) | | |")
            continue
        t = time.time()
        p = subprocess.run([EXE] + args + ["--time-limit", str(limit), "-q"], cwd=ROOT, capture_output=True)
        wall = time.time() - t
        status = next((l.split(None, 1)[1] for l in p.stdout.decode().splitlines() if l.startswith("status")), "?")
        ok = "yes" if wall <= limit * 1.05 or status.strip() not in ("time limit", "?") else "**no**"
        short = " ".join(a.replace(SHARED, "../shared/data") for a in args)
        rows.append(f"| `{short}` | {wall:.2f} s | {status.strip()} | {ok} |")
    return rows


def mutate(text, rng):
    kind = rng.randrange(6)
    if kind <= 1:
        spans = [(i, j) for i, j in token_spans(text)]
        if spans:
            i, j = rng.choice(spans)
            return (text[:i] + rng.choice(HOSTILE) + text[j:]).encode()
    if kind == 2:
        return text.encode()[: rng.randrange(len(text) + 1)]
    if kind == 3:
        lines = text.split("\n")
        k = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[k]
        else:
            lines.insert(k, lines[k])
        return "\n".join(lines).encode()
    if kind == 4:
        b = bytearray(text.encode())
        k = rng.randrange(len(b))
        b[k] ^= 1 << rng.randrange(8)
        return bytes(b)
    return rng.choice([text.replace("\n", "\r"), text.replace(" ", "\xa0"), text + "\xff\xfe garbage"]).encode(
        "utf-8", "surrogateescape")


def token_spans(text):
    out, start = [], None
    for i, c in enumerate(text + " "):
        num = c.isalnum() or c in ".-+"
        if num and start is None:
            start = i
        elif not num and start is not None:
            if any(ch.isdigit() for ch in text[start:i]):
                out.append((start, i))
            start = None
    return out


def run(args, cap, limit):
    cmd = ["prlimit", f"--as={cap}", "timeout", "-k", "2", str(limit), EXE] + args
    t = time.time()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True)
    return p.returncode, time.time() - t, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def verdict(rc, out, err, wall, bound):
    if rc in (124, 137):
        return "hang"
    if rc == 101 or "panicked" in err:
        return "panic"
    if rc == 134 or "memory allocation" in err:
        return "abort"
    if rc not in (0, 1, 2):
        return f"exit {rc}"
    if bound is not None and wall > bound:
        return f"slow ({wall:.2f} s > {bound} s)"
    if rc == 0 and out.strip().startswith("{"):
        try:
            d = json.loads(out)
        except ValueError:
            return "bad json"
        if d.get("objective") is None and "objective" in d:
            return "null objective"
    return "ok"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mutants", type=int, default=40, help="mutants per seed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cap", type=int, default=2_000_000_000, help="address-space cap (bytes)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", f"fuzz_{datetime.date.today()}.md"))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rows, failures = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for cmd, suffix, text, flags in SEEDS:
            for k in range(a.mutants + 1):
                data = text.encode() if k == 0 else mutate(text, rng)
                cases.append((cmd, suffix, data, flags, None))
        for label, args, text, suffix in TARGETED:
            cases.append((label, suffix, text.encode(), args, "targeted"))
        for n, (cmd, suffix, data, flags, kind) in enumerate(cases):
            path = os.path.join(tmp, f"f{n}{suffix}")
            with open(path, "wb") as f:
                f.write(data)
            if kind == "targeted":
                args = [path if x == "@" else x for x in flags]
                if "@" not in flags:
                    args = args + [path]
                args += ["--threads", "1", "--time-limit", "1", "--json"]
                group = "targeted"
            else:
                args = cmd.split() + [path] + flags + ["--threads", "1", "--time-limit", "1", "--json"]
                group = cmd
            rc, wall, out, err = run(args, a.cap, 20)
            v = verdict(rc, out, err, wall, None)
            rows.setdefault(group, {}).setdefault(v if v == "ok" else "fail", 0)
            rows[group][v if v == "ok" else "fail"] += 1
            rows[group].setdefault("exits", {}).setdefault(rc, 0)
            rows[group]["exits"][rc] += 1
            if v != "ok":
                failures.append((group, v, " ".join(args), data[:200], err[-300:]))
        for label, args, bound in FLAGS:
            rc, wall, out, err = run(args + ["--json"], a.cap, 20)
            v = verdict(rc, out, err, wall, bound)
            rows.setdefault("flags", {}).setdefault(v if v == "ok" else "fail", 0)
            rows["flags"][v if v == "ok" else "fail"] += 1
            rows["flags"].setdefault("exits", {}).setdefault(rc, 0)
            rows["flags"]["exits"][rc] += 1
            if v != "ok":
                failures.append(("flags", f"{label}: {v}", " ".join(args), b"", err[-300:]))
    total = sum(r.get("ok", 0) + r.get("fail", 0) for r in rows.values())
    lines = [f"# Fuzz run of `solve` ({datetime.date.today()}, `bench/fuzz/fuzz.py --mutants {a.mutants} --seed {a.seed}`)",
             "", f"{total} runs, each under `prlimit --as={a.cap}` and a 20 s timeout, `--threads 1 --time-limit 1`. "
             "Pass: exit 0, 1 or 2 in time, and no null objective with exit 0; flag cases also within their "
             "wall-clock bound.", "",
             "| group | runs | pass | fail | exit codes |", "|---|---|---|---|---|"]
    for g, r in rows.items():
        ex = ", ".join(f"{k}: {v}" for k, v in sorted(r["exits"].items()))
        lines.append(f"| {g} | {r.get('ok', 0) + r.get('fail', 0)} | {r.get('ok', 0)} | {r.get('fail', 0)} | {ex} |")
    lines += ["", f"## Failures ({len(failures)})", ""]
    for g, v, cmd, data, err in failures:
        lines.append(f"- **{g}: {v}** `{cmd}` input `{data!r}`: `{err.strip()[-200:]}`")
    if not failures:
        lines.append("None.")
    lines += ["", "## Time limits (`--time-limit 2`, default threads, wall clock of the whole command)", "",
              "| command | wall | status | within 5 % (or finished early) |", "|---|---|---|---|"]
    lines += timed_rows()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:len(rows) + 8]))
    print(f"failures: {len(failures)} (details in {a.out})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
