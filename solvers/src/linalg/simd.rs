//! Run-time dispatch of small dense loops to AVX2 + FMA, without `unsafe` in this crate.
//!
//! A `Kernel` is a loop written once and compiled twice: with `FMA = true` inside
//! [`pulp::x86::V3::vectorize`] (AVX2 and FMA enabled, 4 lanes of `f64`) when the CPU has
//! them, and with `FMA = false` for any other x86-64 or architecture. A dense exp-and-sum pass
//! is memory-bound only if the arithmetic keeps up with two cores streaming memory; with the
//! SSE2 baseline it does not.

/// `a·b + c`, fused when `FMA` (only inside the AVX2+FMA dispatch: elsewhere `mul_add` would be
/// a slow library call).
#[inline(always)]
pub(crate) fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// A loop over slices compiled twice: with FMA for AVX2 machines and without.
pub(crate) trait Kernel {
    /// The result.
    type Out;
    /// The loop.
    fn run<const FMA: bool>(self) -> Self::Out;
}

/// Run `k` with the best instruction set available.
#[inline(always)]
pub(crate) fn dispatch<K: Kernel>(k: K) -> K::Out {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = pulp::x86::V3::try_new() {
        return v3.vectorize(
            #[inline(always)]
            || k.run::<true>(),
        );
    }
    k.run::<false>()
}

struct Dot<'a>(&'a [f64], &'a [f64]);

impl Kernel for Dot<'_> {
    type Out = f64;
    #[inline(always)]
    fn run<const FMA: bool>(self) -> f64 {
        let (a, b) = (self.0, self.1);
        let mut acc = [0.0f64; 8];
        let (ac, ar) = a.split_at(a.len() - a.len() % 8);
        let (bc, br) = b.split_at(ac.len());
        for (x, y) in ac.chunks_exact(8).zip(bc.chunks_exact(8)) {
            for k in 0..8 {
                acc[k] = madd::<FMA>(x[k], y[k], acc[k]);
            }
        }
        let mut s =
            ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        for (x, y) in ar.iter().zip(br) {
            s += x * y;
        }
        s
    }
}

/// `Σ a_k b_k` over the common length, in 8 interleaved partial sums (a fixed order).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let l = a.len().min(b.len());
    dispatch(Dot(&a[..l], &b[..l]))
}

struct Axpy<'a>(f64, &'a [f64], &'a mut [f64]);

impl Kernel for Axpy<'_> {
    type Out = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let alpha = self.0;
        for (y, x) in self.2.iter_mut().zip(self.1) {
            *y = madd::<FMA>(alpha, *x, *y);
        }
    }
}

/// `y ← α x + y` over the common length.
pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    dispatch(Axpy(alpha, x, y));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy() {
        let a: Vec<f64> = (0..37).map(|k| k as f64 * 0.5).collect();
        let b: Vec<f64> = (0..37).map(|k| 3.0 - k as f64).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - want).abs() <= 1e-12 * want.abs());
        let mut y = b.clone();
        axpy(2.0, &a, &mut y);
        for k in 0..37 {
            assert_eq!(y[k], b[k] + 2.0 * a[k]);
        }
    }
}
