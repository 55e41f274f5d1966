// Custom CUDA kernels of mathprog, compiled at run time by NVRTC (no nvcc at build time).
// Every kernel has a CPU twin in the crate that it is tested against (see twins.rs); the
// dense Sinkhorn products use cuBLAS instead. Compiled with --fmad=false so that products and
// sums round as on the CPU.

typedef unsigned long long u64;
// NVRTC has no <math.h>: -infinity from its bits.
#define NEG_INF __longlong_as_double(0xfff0000000000000LL)

// ---------------------------------------------------------------- optimal transport
// K_ij = exp((f_i + g_j - C_ij) / reg), row-major n x m; NaN (from -inf + inf) gives 0.
// Twin: ot::sinkhorn::build_kernel.
extern "C" __global__ void ot_build_kernel(double *k, const double *cost, const double *f,
                                           const double *g, double reg, long long n,
                                           long long m) {
    long long total = n * m;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        long long i = t / m, j = t - i * m;
        double x = (f[i] + g[j] - cost[t]) / reg;
        k[t] = (x == x) ? exp(x) : 0.0;
    }
}

// Block reductions over 256 threads (fixed tree order).
__device__ double block_sum(double v, double *s) {
    s[threadIdx.x] = v;
    __syncthreads();
    for (int st = 128; st > 0; st >>= 1) {
        if (threadIdx.x < st) s[threadIdx.x] += s[threadIdx.x + st];
        __syncthreads();
    }
    double r = s[0];
    __syncthreads();
    return r;
}
__device__ double block_max(double v, double *s) {
    s[threadIdx.x] = v;
    __syncthreads();
    for (int st = 128; st > 0; st >>= 1) {
        if (threadIdx.x < st) s[threadIdx.x] = fmax(s[threadIdx.x], s[threadIdx.x + st]);
        __syncthreads();
    }
    double r = s[0];
    __syncthreads();
    return r;
}

// Exact log-domain row update, one block per row (grid-stride over rows):
// f_i = reg log a_i - reg LSE_j((g_j - C_ij)/reg), -inf where a_i = 0.
// Twin: ot::sinkhorn::log_update_rows.
extern "C" __global__ void ot_lse_rows(const double *cost, const double *g, const double *a,
                                       double reg, long long n, long long m, double *f) {
    __shared__ double s[256];
    for (long long i = blockIdx.x; i < n; i += gridDim.x) {
        const double *c = cost + i * m;
        double mx = NEG_INF;
        for (long long j = threadIdx.x; j < m; j += blockDim.x) mx = fmax(mx, g[j] - c[j]);
        mx = block_max(mx, s);
        double acc = 0.0;
        if (mx > NEG_INF)
            for (long long j = threadIdx.x; j < m; j += blockDim.x) {
                double x = (g[j] - c[j] - mx) / reg;
                acc += x > NEG_INF ? exp(x) : 0.0;
            }
        acc = block_sum(acc, s);
        if (threadIdx.x == 0) {
            double lse = mx > NEG_INF ? mx + reg * log(acc) : NEG_INF;
            f[i] = a[i] > 0.0 ? reg * log(a[i]) - lse : NEG_INF;
        }
    }
}

// Exact log-domain column update, one thread per column, rows in order (two passes: maximum,
// then shifted sum; rows with f_i = -inf skipped). Twin: ot::sinkhorn::log_update_cols.
extern "C" __global__ void ot_lse_cols(const double *cost, const double *f, const double *b,
                                       double reg, long long n, long long m, double *g) {
    long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (j >= m) return;
    double mx = NEG_INF;
    for (long long i = 0; i < n; ++i)
        if (f[i] > NEG_INF) mx = fmax(mx, f[i] - cost[i * m + j]);
    double acc = 0.0;
    if (mx > NEG_INF)
        for (long long i = 0; i < n; ++i)
            if (f[i] > NEG_INF) {
                double x = (f[i] - cost[i * m + j] - mx) / reg;
                acc += x > NEG_INF ? exp(x) : 0.0;
            }
    g[j] = (b[j] > 0.0 && mx > NEG_INF) ? reg * log(b[j]) - (mx + reg * log(acc)) : NEG_INF;
}

// The plan P_ij = exp(l_ij) (0 where l_ij <= -60), l_ij = (f_i + g_j - C_ij)/reg, never
// stored. Rows (one block per row): rs_i = sum_j P_ij, tc_i = sum_j C_ij P_ij,
// ent_i = sum_{P_ij > 0} P_ij (l_ij - 1). Twin: ot::evaluate.
extern "C" __global__ void ot_plan_rows(const double *cost, const double *f, const double *g,
                                        double reg, long long n, long long m, double *rs,
                                        double *tc, double *ent) {
    __shared__ double s[256];
    for (long long i = blockIdx.x; i < n; i += gridDim.x) {
        const double *c = cost + i * m;
        double r = 0.0, t = 0.0, e = 0.0;
        for (long long j = threadIdx.x; j < m; j += blockDim.x) {
            double l = (f[i] + g[j] - c[j]) / reg;
            double v = l > -60.0 ? exp(l) : 0.0;
            r += v;
            t += c[j] * v;
            e += v > 0.0 ? v * (l - 1.0) : 0.0;
        }
        r = block_sum(r, s);
        t = block_sum(t, s);
        e = block_sum(e, s);
        if (threadIdx.x == 0) {
            rs[i] = r;
            tc[i] = t;
            ent[i] = e;
        }
    }
}

// Column sums of the plan, one thread per column, rows in order. Twin: ot::evaluate.
extern "C" __global__ void ot_plan_cols(const double *cost, const double *f, const double *g,
                                        double reg, long long n, long long m, double *cs) {
    long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (j >= m) return;
    double acc = 0.0;
    for (long long i = 0; i < n; ++i) {
        double l = (f[i] + g[j] - cost[i * m + j]) / reg;
        acc += l > -60.0 ? exp(l) : 0.0;
    }
    cs[j] = acc;
}

// One Sinkhorn half-step: s_new_i = w_i / d_i (0 where w_i = 0), and per block of a fixed grid
// of 256-thread blocks the partial sums of the violation |s_i d_i - w_i| of the old scaling,
// of the entries that are bad (not finite, or 0 where w_i > 0) and of those outside
// [e^-tau, e^tau] (partials[b], partials[B + b], partials[2B + b]). Twin: ot::sinkhorn::scale_step.
extern "C" __global__ void sinkhorn_scale(const double *w, const double *d, const double *s,
                                          double *s_new, long long len, double tau,
                                          double *partials) {
    __shared__ double sv[256], sb[256], sg[256];
    double viol = 0.0, bad = 0.0, big = 0.0;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < len;
         t += (long long)gridDim.x * blockDim.x) {
        double wi = w[t], di = d[t];
        viol += fabs(s[t] * di - wi);
        double sn = wi > 0.0 ? wi / di : 0.0;
        s_new[t] = sn;
        bad += (isfinite(sn) && (wi == 0.0 || sn > 0.0)) ? 0.0 : 1.0;
        big += (sn > 0.0 && fabs(log(sn)) > tau) ? 1.0 : 0.0;
    }
    sv[threadIdx.x] = viol;
    sb[threadIdx.x] = bad;
    sg[threadIdx.x] = big;
    __syncthreads();
    for (int st = 128; st > 0; st >>= 1) {
        if (threadIdx.x < st) {
            sv[threadIdx.x] += sv[threadIdx.x + st];
            sb[threadIdx.x] += sb[threadIdx.x + st];
            sg[threadIdx.x] += sg[threadIdx.x + st];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = sv[0];
        partials[gridDim.x + blockIdx.x] = sb[0];
        partials[2 * gridDim.x + blockIdx.x] = sg[0];
    }
}

// y = (M_s + mu I) x for the sparsified SNS Hessian: rows of the plan (ptr/idx/val) for the
// first n entries, its transpose (tptr/tidx/tval) for the last m. Twin: ot::sns::apply.
extern "C" __global__ void sns_apply(const long long *ptr, const unsigned *idx,
                                     const double *val, const long long *tptr,
                                     const unsigned *tidx, const double *tval, const double *r,
                                     const double *c, double mu, const double *x, double *y,
                                     long long n, long long m) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t < n) {
        double acc = (r[t] + mu) * x[t];
        for (long long q = ptr[t]; q < ptr[t + 1]; ++q) acc += val[q] * x[n + idx[q]];
        y[t] = acc;
    } else if (t < n + m) {
        long long j = t - n;
        double acc = (c[j] + mu) * x[t];
        for (long long q = tptr[j]; q < tptr[j + 1]; ++q) acc += tval[q] * x[tidx[q]];
        y[t] = acc;
    }
}

// ---------------------------------------------------------------- vector kernels (CG)
// Partial sums of a.b: block b of a fixed grid reduces the grid-stride subset it owns in a
// fixed tree order, so the result does not depend on scheduling; the host adds the partials
// in block order. blockDim.x must be 256.
extern "C" __global__ void dot_partials(const double *a, const double *b, long long len,
                                        double *partials) {
    __shared__ double s[256];
    double acc = 0.0;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < len;
         t += (long long)gridDim.x * blockDim.x)
        acc += a[t] * b[t];
    s[threadIdx.x] = acc;
    __syncthreads();
    for (int w = 128; w > 0; w >>= 1) {
        if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) partials[blockIdx.x] = s[0];
}

// Jacobi step of PCG: z = res / d with d_k = r_k + mu (k < n), c_{k-n} + mu (k >= n).
extern "C" __global__ void pcg_precondition(const double *res, const double *r, const double *c,
                                            double mu, double *z, long long n, long long m) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t < n + m) z[t] = res[t] / ((t < n ? r[t] : c[t - n]) + mu);
}

// x += alpha p, res -= alpha q.
extern "C" __global__ void pcg_step(double *x, double *res, const double *p, const double *q,
                                    double alpha, long long len) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t < len) {
        x[t] += alpha * p[t];
        res[t] -= alpha * q[t];
    }
}

// p = z + beta p.
extern "C" __global__ void pcg_direction(double *p, const double *z, double beta, long long len) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t < len) p[t] = z[t] + beta * p[t];
}

// ---------------------------------------------------------------- SDP
// out = (L/4 - Diag(y)) x + shift x, L the weighted Laplacian (CSR adjacency + degrees).
// Twin: mathprog_problems::sdp::MaxCutSdp::apply_shifted.
extern "C" __global__ void maxcut_sdp_apply(const long long *ptr, const unsigned *idx,
                                            const double *w, const double *deg, const double *y,
                                            double shift, const double *x, double *out,
                                            long long n) {
    long long v = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (v < n) {
        double acc = 0.0;
        for (long long k = ptr[v]; k < ptr[v + 1]; ++k) acc += w[k] * x[idx[k]];
        out[v] = 0.25 * (deg[v] * x[v] - acc) - y[v] * x[v] + shift * x[v];
    }
}

// ---------------------------------------------------------------- binary (MCPG)
// xoshiro256++ (Blackman & Vigna), the generator of the CPU chains (rand_xoshiro).
__device__ __forceinline__ u64 rotl(u64 x, int k) { return (x << k) | (x >> (64 - k)); }
__device__ __forceinline__ u64 xoshiro_next(u64 *s) {
    u64 result = rotl(s[0] + s[3], 23) + s[0];
    u64 t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

// Local fields of G spin vectors: hs[g n + v] = field_v + sum_k w_k x_{idx_k}, one thread per
// (g, v). Twin: init_state of MaxCut and Qubo (the sum first, then the field).
extern "C" __global__ void ising_fields(const long long *ptr, const unsigned *idx,
                                        const double *w, const double *field, long long n,
                                        const signed char *xs, long long groups, double *hs) {
    long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (t >= groups * n) return;
    long long g = t / n, v = t - g * n;
    const signed char *x = xs + g * n;
    double acc = 0.0;
    for (long long k = ptr[v]; k < ptr[v + 1]; ++k) acc += w[k] * (double)x[idx[k]];
    hs[t] = field[v] + acc;
}

// One thread per chain (chain c belongs to group c / copies): Metropolis on the mean-field
// policy mu from the group's start (spins xs, local fields hs, energy es) until accept_target
// flips are accepted or max_steps proposals are made. kind 0: MaxCut (delta = -x_v h_v),
// kind 1: QUBO/Ising (delta = -2 x_v h_v); a flip adds 2 x_v(new) w_vu to h_u. Each chain
// reads and writes its xoshiro256++ state (4 words). Twin: the chain loop of
// binary::mcpg::run_group, with the same random stream, so the end states are identical.
extern "C" __global__ void mcpg_chains(int kind, const long long *ptr, const unsigned *idx,
                                       const double *w, long long n, const double *mu,
                                       long long pivot, const signed char *xs, const double *hs,
                                       const double *es, long long copies, long long chains,
                                       u64 *rng, signed char *x_out, double *h_work,
                                       double *e_out, u64 *accepted_out, u64 accept_target,
                                       u64 max_steps) {
    long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (c >= chains) return;
    long long g = c / copies;
    signed char *x = x_out + c * n;
    double *h = h_work + c * n;
    for (long long v = 0; v < n; ++v) {
        x[v] = xs[g * n + v];
        h[v] = hs[g * n + v];
    }
    double e = es[g];
    u64 s[4] = {rng[4 * c], rng[4 * c + 1], rng[4 * c + 2], rng[4 * c + 3]};
    int sign = pivot >= 0 ? x[pivot] : 1;
    u64 accepted = 0, steps = 0;
    while (accepted < accept_target && steps < max_steps) {
        steps += 1;
        long long v = (long long)__umul64hi(xoshiro_next(s), (u64)n);
        double m = mu[v];
        double p_cur = (x[v] * sign > 0) ? m : 1.0 - m;
        double ratio = (1.0 - p_cur) / p_cur;
        bool accept = ratio >= 1.0;
        if (!accept) {
            double u = (double)(xoshiro_next(s) >> 11) * (1.0 / 9007199254740992.0);
            accept = u < ratio;
        }
        if (accept) {
            double xv = (double)x[v];
            e += kind == 0 ? -(xv * h[v]) : -2.0 * xv * h[v];
            signed char nw = -x[v];
            x[v] = nw;
            double twice = 2.0 * (double)nw;
            for (long long k = ptr[v]; k < ptr[v + 1]; ++k) h[idx[k]] += twice * w[k];
            accepted += 1;
        }
    }
    e_out[c] = e;
    accepted_out[c] = accepted;
    rng[4 * c] = s[0];
    rng[4 * c + 1] = s[1];
    rng[4 * c + 2] = s[2];
    rng[4 * c + 3] = s[3];
}

// Energies of a batch of spin vectors, one block of 256 threads per vector.
// kind 0 (MaxCut): E = -(1/2) sum_v sum_{k: x_idx != x_v} w_k (minus the cut);
// kind 1 (QUBO/Ising): E = const + sum_v field_v x_v + sum_v sum_{k: idx_k > v} w_k x_v x_idx.
// Twin: BinaryObjective::energy of MaxCut and Qubo.
extern "C" __global__ void ising_energies(int kind, const long long *ptr, const unsigned *idx,
                                          const double *w, const double *field, double constant,
                                          long long n, const signed char *xs, long long batch,
                                          double *out) {
    __shared__ double s[256];
    long long b = blockIdx.x;
    if (b >= batch) return;
    const signed char *x = xs + b * n;
    double acc = 0.0;
    for (long long v = threadIdx.x; v < n; v += blockDim.x) {
        double xv = (double)x[v];
        if (kind == 0) {
            for (long long k = ptr[v]; k < ptr[v + 1]; ++k)
                if (x[idx[k]] != x[v]) acc += w[k];
        } else {
            acc += field[v] * xv;
            for (long long k = ptr[v]; k < ptr[v + 1]; ++k)
                if ((long long)idx[k] > v) acc += w[k] * xv * (double)x[idx[k]];
        }
    }
    s[threadIdx.x] = acc;
    __syncthreads();
    for (int st = 128; st > 0; st >>= 1) {
        if (threadIdx.x < st) s[threadIdx.x] += s[threadIdx.x + st];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[b] = kind == 0 ? -s[0] / 2.0 : constant + s[0];
}
