// CUDA C shared by every family's kernels (linalg::cuda::PRELUDE), compiled in front of each
// family's source by NVRTC with --fmad=false, so that products and sums round as on the CPU.

typedef unsigned long long u64;
// NVRTC has no <math.h>: -infinity from its bits.
#define NEG_INF __longlong_as_double(0xfff0000000000000LL)

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
