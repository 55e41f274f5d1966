// SDP kernel (sdp::gpu), compiled after linalg/cuda/prelude.cu.

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
