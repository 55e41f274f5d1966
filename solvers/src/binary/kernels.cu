// MCPG kernels (binary::gpu), compiled after linalg/cuda/prelude.cu (u64, block_sum).

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
