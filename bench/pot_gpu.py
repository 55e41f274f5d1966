# Peer for bench/gpu.sh: run in bench/out/ (point clouds written by bench/gpu.sh) with POT and torch installed.
# POT (0.9.7) Sinkhorn on the same point clouds: numpy on the CPU and torch float64 on the GPU,
# timed for exactly the iteration counts our solver needed to reach an L1 violation of 1e-8.
import sys, time
import numpy as np, torch, ot

def load(p):
    return np.loadtxt(p)[:, :2]

for n, reg, iters in [(4000, 1e-3, 2333), (8000, 1e-2, 234)]:
    xs, xt = load(f"pc{n}_src.txt"), load(f"pc{n}_tgt.txt")
    M = ot.dist(xs, xt)
    M /= M.max()
    a = np.full(n, 1.0 / n)
    b = np.full(n, 1.0 / n)
    for dev in ["cuda", "cpu"]:
        if dev == "cuda":
            torch.zeros(1, device="cuda")
            torch.cuda.synchronize()
            t_up = time.perf_counter()
            aa, bb, MM = (torch.tensor(x, dtype=torch.float64, device="cuda") for x in (a, b, M))
            torch.cuda.synchronize()
            t_up = time.perf_counter() - t_up
            sync = torch.cuda.synchronize
        else:
            if n > 4000:
                continue
            aa, bb, MM = a, b, M
            sync = lambda: None
        ot.sinkhorn(aa, bb, MM, reg, method="sinkhorn", numItermax=5, stopThr=0.0)  # warm-up
        sync()
        t = time.perf_counter()
        P = ot.sinkhorn(aa, bb, MM, reg, method="sinkhorn", numItermax=iters, stopThr=0.0)
        sync()
        el = time.perf_counter() - t
        if dev == "cuda":
            P = P.cpu().numpy()
        viol = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
        cost = (P * M).sum()
        ent = -(P[P > 0] * (np.log(P[P > 0]) - 1)).sum()
        print(f"POT {dev:<4} upload_M={t_up:.3f}s n={n} reg={reg} iters={iters} time={el:.3f}s viol_l1={viol:.2e} <C,P>={cost:.12g} obj={cost - reg * ent:.12g}", flush=True)
