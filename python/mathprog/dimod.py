"""``MCPGSampler``: MCPG as a ``dimod.Sampler`` (when dimod is installed), so that Ocean code
switches from ``neal.SimulatedAnnealingSampler()`` by changing one line::

    from mathprog.dimod import MCPGSampler
    sampleset = MCPGSampler().sample_ising(h, J, time_limit=1.0)

Every read is one MCPG run (seeds ``seed, seed + 1, ...``) on the BQM's Ising form written as
a MaxCut (an ancilla spin carries the fields); the energies in the sample set are dimod's,
computed from the BQM.
"""
import json

import numpy as np

try:
    import dimod as _dimod
except ImportError:  # pragma: no cover - the sampler needs dimod
    _dimod = None

from . import _native

__all__ = ["MCPGSampler"]

if _dimod is not None:

    class MCPGSampler(_dimod.Sampler):
        """Monte Carlo policy gradient (MCPG) for binary quadratic models."""

        parameters = {"num_reads": [], "time_limit": [], "max_iter": [], "seed": [],
                      "threads": [], "stall_rounds": [], "progress": []}
        properties = {"solver": "mathprog MCPG"}

        def sample(self, bqm, num_reads=1, time_limit=1.0, max_iter=None, seed=1, threads=None,
                   stall_rounds=2000, progress=None, **kwargs):
            """Sample the BQM (``num_reads`` independent MCPG runs)."""
            kwargs = self.remove_unknown_kwargs(**kwargs)
            labels = list(bqm.variables)
            n = len(labels)
            if n == 0:
                return _dimod.SampleSet.from_samples_bqm(
                    (np.empty((num_reads, 0), dtype=np.int8), labels), bqm)
            # The Ising form E = Σ h_i s_i + Σ J_ij s_i s_j is a MaxCut on n + 1 vertices:
            # an ancilla spin s_n with couplings h_i (flip all so that s_n = +1), and
            # max cut <=> min Σ w_ij s_i s_j with w = J. MCPG's MaxCut path then runs.
            spin = bqm.change_vartype(_dimod.SPIN, inplace=False)
            index = {v: k for k, v in enumerate(labels)}
            rows, cols, vals = [], [], []
            for v, bias in spin.linear.items():
                if bias != 0:
                    rows.append(index[v]), cols.append(n), vals.append(float(bias))
            for (u, v), bias in spin.quadratic.items():
                if bias != 0:
                    rows.append(index[u]), cols.append(index[v]), vals.append(float(bias))
            r = np.asarray(rows, dtype=np.int64)
            c = np.asarray(cols, dtype=np.int64)
            w = np.asarray(vals, dtype=float)
            samples = np.empty((num_reads, n), dtype=np.int8)
            for k in range(num_reads):
                rep = json.loads(_native.maxcut(n + 1, r, c, w, time_limit=time_limit,
                                                max_iter=max_iter, seed=seed + k,
                                                threads=threads, stall_rounds=stall_rounds, progress=progress))
                s = np.asarray(rep["solution"], dtype=np.int8)
                s = s[:n] * s[n]
                samples[k] = s if bqm.vartype is _dimod.SPIN else (s > 0)
            return _dimod.SampleSet.from_samples_bqm((samples, labels), bqm)

else:  # pragma: no cover

    class MCPGSampler:  # noqa: D101 - a stub that explains itself
        def __init__(self, *args, **kwargs):
            raise ImportError("MCPGSampler needs dimod: pip install dimod")
