//! Double-double kernels for the interior-point method's extended precision: the vector
//! operations under its Cholesky factorisations, triangular solves and matrix products, on
//! faer's [`fx128`] (`Quad(hi, lo)`, the unevaluated sum `hi + lo` with `|lo| ≤ ulp(hi)/2`).
//!
//! The arithmetic is Dekker's and Bailey's (Dekker, Numer. Math. 18, 1971; Hida, Li, Bailey,
//! "Algorithms for quad-double precision floating point arithmetic", ARITH 15, 2001): the exact
//! product `a·b = p + e` comes from one fused multiply-add (`e = fma(a, b, −p)`) when the CPU
//! has one, detected at run time, and from Dekker's splitting otherwise. (The `qd` crate under
//! faer calls `f64::mul_add`, which without the `fma` target feature is a software routine
//! many times slower; these kernels are compiled with the feature where it is present.)
//! Sums are Bailey's "sloppy" addition: error `O(ε²(|a| + |b|))`.
// The only unsafe code: calling the `fma`-compiled kernels after detecting the feature.
#![allow(unsafe_code)]

use faer::fx128;

/// The exact product `a·b = p + e`.
trait TwoProd {
    fn two_prod(a: f64, b: f64) -> (f64, f64);
}

/// Hardware fused multiply-add.
struct Fma;

impl TwoProd for Fma {
    #[inline(always)]
    fn two_prod(a: f64, b: f64) -> (f64, f64) {
        let p = a * b;
        (p, a.mul_add(b, -p))
    }
}

/// Dekker's splitting into 26-bit halves.
struct Split;

impl TwoProd for Split {
    #[inline(always)]
    fn two_prod(a: f64, b: f64) -> (f64, f64) {
        #[inline(always)]
        fn split(a: f64) -> (f64, f64) {
            let t = 134_217_729.0 * a; // 2^27 + 1
            let hi = t - (t - a);
            (hi, a - hi)
        }
        let p = a * b;
        let ((ah, al), (bh, bl)) = (split(a), split(b));
        (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
    }
}

#[inline(always)]
fn quick_two_sum(large: f64, small: f64) -> fx128 {
    let s = large + small;
    qd::Quad(s, small - (s - large))
}

#[inline(always)]
fn add(a: fx128, b: fx128) -> fx128 {
    let s = a.0 + b.0;
    let bb = s - a.0;
    let e = (a.0 - (s - bb)) + (b.0 - bb);
    quick_two_sum(s, e + (a.1 + b.1))
}

#[inline(always)]
fn mul<P: TwoProd>(a: fx128, b: fx128) -> fx128 {
    let (p, e) = P::two_prod(a.0, b.0);
    quick_two_sum(p, e + (a.0 * b.1 + a.1 * b.0))
}

#[inline(always)]
fn axpy_impl<P: TwoProd>(y: &mut [fx128], x: &[fx128], f: fx128) {
    for (t, &s) in y.iter_mut().zip(x) {
        *t = add(*t, mul::<P>(s, f));
    }
}

#[inline(always)]
fn dot_impl<P: TwoProd>(a: &[fx128], b: &[fx128]) -> fx128 {
    a.iter()
        .zip(b)
        .fold(qd::Quad(0.0, 0.0), |s, (&x, &y)| add(s, mul::<P>(x, y)))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn axpy_fma(y: &mut [fx128], x: &[fx128], f: fx128) {
    axpy_impl::<Fma>(y, x, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn mul_fma(a: fx128, b: fx128) -> fx128 {
    mul::<Fma>(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn dot_fma(a: &[fx128], b: &[fx128]) -> fx128 {
    dot_impl::<Fma>(a, b)
}

/// Whether the kernels may use the hardware fused multiply-add.
#[inline]
fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `y ← y + f·x` (over the shorter length).
pub(crate) fn axpy(y: &mut [fx128], x: &[fx128], f: fx128) {
    #[cfg(target_arch = "x86_64")]
    if has_fma() {
        // SAFETY: the CPU supports FMA (checked above).
        return unsafe { axpy_fma(y, x, f) };
    }
    axpy_impl::<Split>(y, x, f)
}

/// `a·b`.
pub(crate) fn prod(a: fx128, b: fx128) -> fx128 {
    #[cfg(target_arch = "x86_64")]
    if has_fma() {
        // SAFETY: the CPU supports FMA (checked above).
        return unsafe { mul_fma(a, b) };
    }
    mul::<Split>(a, b)
}

/// `aᵀb` (over the shorter length).
pub(crate) fn dot(a: &[fx128], b: &[fx128]) -> fx128 {
    #[cfg(target_arch = "x86_64")]
    if has_fma() {
        // SAFETY: the CPU supports FMA (checked above).
        return unsafe { dot_fma(a, b) };
    }
    dot_impl::<Split>(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: f64) -> fx128 {
        fx128::from(v)
    }

    /// Both product paths agree with qd's arithmetic to double-double accuracy, and carry
    /// digits that f64 loses: (1 + 2⁻⁴⁰)² − 1 − 2⁻³⁹ = 2⁻⁸⁰.
    #[test]
    fn products_are_double_double_exact() {
        let a = q(1.0) + q(2f64.powi(-40));
        for p in [mul::<Split>(a, a), mul::<Fma>(a, a)] {
            let r = p - q(1.0) - q(2f64.powi(-39));
            assert!((r.0 - 2f64.powi(-80)).abs() <= 2f64.powi(-100), "{r:?}");
        }
        let x: Vec<fx128> = (1..20)
            .map(|i| q(1.0 / i as f64) + q(1e-20 * i as f64))
            .collect();
        let y: Vec<fx128> = (1..20).map(|i| q((i as f64).sqrt())).collect();
        let reference = x.iter().zip(&y).fold(q(0.0), |s, (&a, &b)| s + a * b);
        let d = dot(&x, &y) - reference;
        assert!(d.0.abs() <= 1e-28 * reference.0.abs(), "{d:?}");
        let mut z = y.clone();
        axpy(&mut z, &x, q(-3.0));
        for k in 0..x.len() {
            let e = z[k] - (y[k] - q(3.0) * x[k]);
            assert!(e.0.abs() <= 1e-28, "{e:?}");
        }
    }
}
