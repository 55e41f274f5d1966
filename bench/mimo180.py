#!/usr/bin/env python3
"""The MCPG authors' 4-QAM 180 x 180 MIMO set (../shared/data/mimo/4QAM180_180): our detector
on exactly their channels, symbols and noise, next to their published results.

Each instance is converted to our JSON instance format (needs numpy and scipy) and detected by
`solve mimo FILE`. Reference BERs: the authors' MCPG run (`0126s_180_4_2.json`, mean over their
instances) and the MMSE / HOTML / lower-bound files shipped with the data.

Usage: python3 bench/mimo180.py [--channels 20] [--rows 20] [--snr 2 4 6 8 10 12] [--threads 2]
"""
import argparse
import json
import os
import statistics as st
import subprocess
import tempfile

import numpy as np
import scipy.io as sio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "mimo", "4QAM180_180")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--snr", type=int, nargs="+", default=[2, 4, 6, 8, 10, 12])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--extra", default="")
    a = ap.parse_args()
    exe = os.path.join(ROOT, "target", "release", "solve")
    ref = json.load(open(os.path.join(DATA, "0126s_180_4_2.json")))
    mats = {k: sio.loadmat(os.path.join(DATA, f"BER_{k}.mat"))[f"BER_{k}"].ravel() for k in ["MMSE", "HOTML", "LB"]}
    print(f"| SNR dB | ours BER | ours MMSE BER | ours mean s | authors' MCPG BER (s) | MMSE file | HOTML file | LB file |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for snr in a.snr:
            bers, mmses, times = [], [], []
            for c in range(1, a.channels + 1):
                H = sio.loadmat(os.path.join(DATA, f"4QAM180H{c}.mat"))["save_H"].astype(np.float64)
                X = sio.loadmat(os.path.join(DATA, f"4QAM180X{c}.mat"))["save_X"].astype(np.float64)
                V = sio.loadmat(os.path.join(DATA, f"4QAM180v{c}.mat"))["save_v"].astype(np.float64)
                n = H.shape[1] // 2
                hc = H[:n, :n] + 1j * H[n:, :n]
                for r in range(a.rows):
                    x = X[r]
                    y = H @ x + np.sqrt(2 * n * 10 ** (-snr / 10)) * V[r]
                    inst = {
                        "nt": n, "nr": n,
                        "h": [[z.real, z.imag] for z in hc.ravel()],
                        "y": [[y[i], y[n + i]] for i in range(n)],
                        "noise_var": 2 * n * 10 ** (-snr / 10),
                        "x": [[x[j], x[n + j]] for j in range(n)],
                        "snr_db": snr,
                    }
                    f = os.path.join(tmp, "inst.json")
                    with open(f, "w") as fh:
                        json.dump(inst, fh)
                    out = subprocess.run([exe, "mimo", f, "--json", "--threads", str(a.threads)] + a.extra.split(),
                                         check=True, capture_output=True, text=True).stdout
                    rep = json.loads(out)
                    bers.append(rep["stats"]["ber"])
                    mmses.append(rep["stats"]["mmse_ber"])
                    times.append(rep["elapsed"])
            k = a.snr and [2, 4, 6, 8, 10, 12].index(snr)
            rr = ref.get(f"SNR{snr}", {})
            print(f"| {snr} | {st.mean(bers):.5f} | {st.mean(mmses):.5f} | {st.mean(times):.3f} | "
                  f"{rr.get('mean', float('nan')):.5f} ({rr.get('time', float('nan')):.2f}) | {mats['MMSE'][k]:.5f} | "
                  f"{mats['HOTML'][k]:.5f} | {mats['LB'][k]:.5f} |", flush=True)


if __name__ == "__main__":
    main()
