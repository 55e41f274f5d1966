#!/usr/bin/env python3
"""MIMO detection benchmark: `solve mimo` on seeded N x N 4-QAM Rayleigh channels.

Runs K instances per SNR (seeds 1..K) and prints the mean bit error rate of our answer, of our
lowest-residual solution, of MMSE (computed by us on the same instances), next to the MCPG
paper's figures for 800 x 800 (Chen et al., arXiv 2307.00783, Table 7).

Usage: python3 bench/mimo.py [--n 800] [--instances 10] [--snr 2 4 6 8] [--threads 2]
                             [--extra "--posterior-chains 0"]   # the paper's group vote
"""
import argparse
import json
import os
import statistics as st
import subprocess

PAPER = {  # SNR: (MCPG, HOTML, MMSE, lower bound), 800 x 800, from the paper
    2: (0.1747, 0.1930, 0.1772, 0.1037),
    4: (0.1267, 0.1464, 0.1405, 0.0563),
    6: (0.0691, 0.0821, 0.1055, 0.0231),
    8: (0.0122, 0.0122, 0.0749, 0.0063),
}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=800)
    ap.add_argument("--instances", type=int, default=10)
    ap.add_argument("--snr", type=float, nargs="+", default=[2, 4, 6, 8])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--extra", default="")
    a = ap.parse_args()
    exe = os.path.join(ROOT, "target", "release", "solve")
    print(f"| SNR dB | ours BER | ours lowest-residual BER | MMSE BER (ours) | paper MCPG | paper HOTML | paper MMSE | mean s/instance | max s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for snr in a.snr:
        cmd = [exe, "mimo", "--nt", str(a.n), "--snr", str(snr), "--instances", str(a.instances),
               "--seed", "1", "--threads", str(a.threads), "--json"] + a.extra.split()
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        inst = r["instances"] if "instances" in r else [r]
        g = lambda k: [x["stats"].get(k, float("nan")) for x in inst]
        p = PAPER.get(int(snr), (float("nan"),) * 4)
        times = [x["elapsed"] for x in inst]
        print(f"| {snr:g} | {st.mean(g('ber')):.4f} | {st.mean(g('best_ber')):.4f} | {st.mean(g('mmse_ber')):.4f} | "
              f"{p[0]:.4f} | {p[1]:.4f} | {p[2]:.4f} | {st.mean(times):.2f} | {max(times):.2f} |", flush=True)


if __name__ == "__main__":
    main()
