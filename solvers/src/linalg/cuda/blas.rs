//! cuBLAS: the dense matrix-vector product.

use super::GpuError;
pub use cudarc::cublas::CudaBlas;
use cudarc::cublas::{Gemv, GemvConfig, sys::cublasOperation_t};
use cudarc::driver::CudaSlice;

/// `y = K x` (`transposed`: `y = Kᵀ x`) for the row-major `n × m` matrix `k`, which cuBLAS
/// sees as the column-major `m × n` matrix `Kᵀ` (lda = m).
pub fn gemv(
    blas: &CudaBlas,
    k: &CudaSlice<f64>,
    n: usize,
    m: usize,
    transposed: bool,
    x: &CudaSlice<f64>,
    y: &mut CudaSlice<f64>,
) -> Result<(), GpuError> {
    let cfg = GemvConfig {
        trans: if transposed {
            cublasOperation_t::CUBLAS_OP_N
        } else {
            cublasOperation_t::CUBLAS_OP_T
        },
        m: m as i32,
        n: n as i32,
        alpha: 1.0,
        lda: m as i32,
        incx: 1,
        beta: 0.0,
        incy: 1,
    };
    let (xl, yl) = if transposed { (n, m) } else { (m, n) };
    assert!(
        k.len() >= n * m && x.len() >= xl && y.len() >= yl,
        "gemv sizes"
    );
    // SAFETY: k holds n·m values (column-major m × n, lda = m), x and y the lengths the
    // operation reads and writes (checked above).
    unsafe { blas.gemv(cfg, k, x, y) }.map_err(|e| format!("cuBLAS dgemv: {e}"))
}
