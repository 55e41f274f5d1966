//! Dense Gaussian blocks in single precision: for row points `r_i` and column points `w_j`
//! (`D ≤ 3` coordinates, already scaled so that the kernel is `exp(−|r − w|²)`), a shift `L`
//! and weights `ω_j`, `ξ_i`,
//!
//! ```text
//! S_i = Σ_j exp(L − |r_i − w_j|²) ω_j        (row sums)
//! T_j = Σ_i exp(L − |r_i − w_j|²) ξ_i        (column sums, optional)
//! ```
//!
//! the inner loop of the on-the-fly entropic OT passes (a block of one row cell against one
//! column cell; `L` is the block's bound, so the exponents are at most about 0).
//!
//! `exp` is the Cephes `expf` scheme: `2^k e^r`, `k = round(x/ln 2)`, Cody–Waite reduction
//! with `ln 2` split in two, `e^r = 1 + r + r² P(r)` with the degree-5 minimax `P` (relative
//! error about 1e-7 on `[−ln2/2, ln2/2]`); exponents below `−87` give 0. Everything is plain
//! arithmetic and bit operations on `[f32; 8]` lanes, so the loops auto-vectorise: 8 lanes with
//! fused multiply-adds under AVX2 + FMA ([`super::simd::dispatch`]). The sums are f32 per block
//! (a block is a few dozen columns), and callers add the blocks in f64.

use pulp::{Simd, WithSimd};

/// Lanes per chunk: column arrays are padded to a multiple of this (weight 0).
pub const LANES: usize = 8;

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `exp(x)` for `x ≤ 88`, 0 below `−87`.
#[inline(always)]
fn expf<const FMA: bool>(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    let xc = x.clamp(-87.0, 88.0);
    let t = madd::<FMA>(xc, std::f32::consts::LOG2_E, MAGIC);
    let k = t - MAGIC;
    let r = madd::<FMA>(-k, C2, madd::<FMA>(-k, C1, xc));
    let mut p: f32 = 1.987_569_1e-4;
    p = madd::<FMA>(p, r, 1.398_2e-3);
    p = madd::<FMA>(p, r, 8.333_452e-3);
    p = madd::<FMA>(p, r, 4.166_579_6e-2);
    p = madd::<FMA>(p, r, 0.166_666_65);
    p = madd::<FMA>(p, r, 0.5);
    let e = madd::<FMA>(p * r, r, r) + 1.0;
    let ki = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let scale = f32::from_bits((ki + 127).wrapping_shl(23) as u32);
    if x < -87.0 { 0.0 } else { e * scale }
}

/// One block (see the module documentation). `r[k][i]` and `w[k][j]` are the coordinates
/// (`w[k]`, `omega` and, with columns, `t` have the same length, a multiple of [`LANES`]);
/// `s[i]` receives `S_i` (overwritten), `t[j]` gets `T_j` added when `xi` is given.
pub struct Block<'a, const D: usize> {
    /// Row coordinates, `D` arrays of the rows' length.
    pub r: [&'a [f32]; D],
    /// Column coordinates, `D` arrays of the padded columns' length.
    pub w: [&'a [f32]; D],
    /// The shift `L`.
    pub shift: f32,
    /// Column weights (0 on the padding).
    pub omega: &'a [f32],
    /// Row weights for the column sums.
    pub xi: Option<&'a [f32]>,
    /// Row sums (out).
    pub s: &'a mut [f32],
    /// Column sums (added to).
    pub t: &'a mut [f32],
}

/// [`expf`] on one register of lanes.
#[inline(always)]
fn exp_simd<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    const MAGIC: f32 = 12_582_912.0;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    const P: [f32; 5] = [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5];
    let xc = simd.min_f32s(
        simd.max_f32s(x, simd.splat_f32s(-87.0)),
        simd.splat_f32s(88.0),
    );
    let t = simd.mul_add_f32s(
        xc,
        simd.splat_f32s(std::f32::consts::LOG2_E),
        simd.splat_f32s(MAGIC),
    );
    let k = simd.sub_f32s(t, simd.splat_f32s(MAGIC));
    let r = simd.negate_mul_add_f32s(k, simd.splat_f32s(C1), xc);
    let r = simd.negate_mul_add_f32s(k, simd.splat_f32s(C2), r);
    let mut p = simd.splat_f32s(1.987_569_1e-4);
    for c in P {
        p = simd.mul_add_f32s(p, r, simd.splat_f32s(c));
    }
    let e = simd.add_f32s(
        simd.mul_add_f32s(simd.mul_f32s(p, r), r, r),
        simd.splat_f32s(1.0),
    );
    // 2^k from the exponent bits: (bits(t) − bits(MAGIC) + 127) << 23.
    let bias = MAGIC.to_bits().wrapping_sub(127);
    let ki = simd.sub_u32s(simd.transmute_u32s_f32s(t), simd.splat_u32s(bias));
    let scale = simd.transmute_f32s_u32s(simd.wrapping_dyn_shl_u32s(ki, simd.splat_u32s(23)));
    let y = simd.mul_f32s(e, scale);
    simd.select_f32s(
        simd.less_than_f32s(x, simd.splat_f32s(-87.0)),
        simd.splat_f32s(0.0),
        y,
    )
}

/// One register of entries `exp(L − |r − w_j|²)`.
#[inline(always)]
fn entry<S: Simd, const D: usize>(
    simd: S,
    r: &[S::f32s; D],
    w: &[&[S::f32s]; D],
    j: usize,
    shift: S::f32s,
) -> S::f32s {
    let mut z = shift;
    for k in 0..D {
        let dk = simd.sub_f32s(r[k], w[k][j]);
        z = simd.negate_mul_add_f32s(dk, dk, z);
    }
    exp_simd(simd, z)
}

impl<const D: usize> WithSimd for Block<'_, D> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let nc = self.omega.len();
        let (om, rest) = S::as_simd_f32s(self.omega);
        assert!(rest.is_empty(), "columns padded to the lanes");
        let w: [&[S::f32s]; D] = std::array::from_fn(|k| S::as_simd_f32s(&self.w[k][..nc]).0);
        let (tv, _) = S::as_mut_simd_f32s(&mut self.t[..nc]);
        let shift = simd.splat_f32s(self.shift);
        for (i, si) in self.s.iter_mut().enumerate() {
            let r: [S::f32s; D] = std::array::from_fn(|k| simd.splat_f32s(self.r[k][i]));
            let mut acc = simd.splat_f32s(0.0);
            match self.xi {
                Some(x) => {
                    let xv = simd.splat_f32s(x[i]);
                    for (j, (o, t)) in om.iter().zip(tv.iter_mut()).enumerate() {
                        let e = entry(simd, &r, &w, j, shift);
                        acc = simd.mul_add_f32s(e, *o, acc);
                        *t = simd.mul_add_f32s(e, xv, *t);
                    }
                }
                None => {
                    for (j, o) in om.iter().enumerate() {
                        acc = simd.mul_add_f32s(entry(simd, &r, &w, j, shift), *o, acc);
                    }
                }
            }
            *si = simd.reduce_sum_f32s(acc);
        }
    }
}

/// Run one block with the best instruction set available.
pub fn block<const D: usize>(b: Block<'_, D>) {
    pulp::Arch::new().dispatch(b);
}

/// `exp(x)` in single precision with the block's conventions (for tests).
pub fn exp32(x: f32) -> f32 {
    expf::<false>(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp32_is_accurate_to_a_few_ulp_and_flushes_below_minus_87() {
        let mut worst = 0.0f64;
        for k in 0..=200_000 {
            let x = -87.0 + 175.0 * k as f64 / 200_000.0;
            let (got, want) = (exp32(x as f32) as f64, (x as f32 as f64).exp());
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 4e-7, "{worst}");
        assert_eq!(exp32(-87.5), 0.0);
        assert_eq!(exp32(0.0), 1.0);
    }

    #[test]
    fn blocks_match_double_precision_sums() {
        let (nr, nc) = (13, 24);
        let coord = |s: u64| ((s.wrapping_mul(2_654_435_761) % 1000) as f32) / 300.0 - 1.5;
        let r: Vec<Vec<f32>> = (0..2)
            .map(|k| (0..nr).map(|i| coord(7 * i as u64 + k)).collect())
            .collect();
        let w: Vec<Vec<f32>> = (0..2)
            .map(|k| (0..nc).map(|j| coord(11 * j as u64 + 3 + k)).collect())
            .collect();
        let omega: Vec<f32> = (0..nc)
            .map(|j| if j < 21 { 0.5 + j as f32 / 40.0 } else { 0.0 })
            .collect();
        let xi: Vec<f32> = (0..nr).map(|i| 1.0 + i as f32 / 10.0).collect();
        let (mut s, mut t) = (vec![0.0f32; nr], vec![0.0f32; nc]);
        block::<2>(Block {
            r: [&r[0], &r[1]],
            w: [&w[0], &w[1]],
            shift: 0.7,
            omega: &omega,
            xi: Some(&xi),
            s: &mut s,
            t: &mut t,
        });
        let e = |i: usize, j: usize| {
            let d2: f64 = (0..2)
                .map(|k| (r[k][i] as f64 - w[k][j] as f64).powi(2))
                .sum();
            (0.7 - d2).exp()
        };
        for (i, si) in s.iter().enumerate() {
            let want: f64 = (0..nc).map(|j| e(i, j) * omega[j] as f64).sum();
            assert!((*si as f64 - want).abs() <= 1e-6 * want, "{i}");
        }
        for (j, tj) in t.iter().enumerate() {
            let want: f64 = (0..nr).map(|i| e(i, j) * xi[i] as f64).sum();
            assert!((*tj as f64 - want).abs() <= 1e-6 * want, "{j}");
        }
    }
}
