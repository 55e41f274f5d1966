// Optimal-transport kernels (ot::gpu), compiled after linalg/cuda/prelude.cu (u64, NEG_INF,
// block_sum, block_max, dot_partials). Every kernel has a CPU twin in ot/ (see ot/gpu.rs).

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
