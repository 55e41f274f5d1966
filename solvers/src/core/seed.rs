//! Reproducible random streams: one user seed, independent streams per (round, chain).
//!
//! Each stream is a Xoshiro256++ generator seeded from a SplitMix64 hash of the seed and the
//! stream coordinates, so a chain's randomness does not depend on which thread runs it.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator used for every stream.
pub type RngStream = Xoshiro256PlusPlus;

#[inline]
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The four state words of a stream (xoshiro256++), e.g. to run it on a GPU.
pub fn rng_words(r: &RngStream) -> [u64; 4] {
    let b = r.state();
    std::array::from_fn(|k| u64::from_le_bytes(b[8 * k..8 * k + 8].try_into().unwrap_or_default()))
}

/// The stream with state words `w` (the inverse of [`rng_words`]).
pub fn rng_from_words(w: &[u64]) -> RngStream {
    let mut b = [0u8; 32];
    for (k, x) in w.iter().take(4).enumerate() {
        b[8 * k..8 * k + 8].copy_from_slice(&x.to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(b)
}

/// A uniform draw from `[0, 1)` with 53 random bits.
#[inline]
pub fn uniform01<R: rand::Rng>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The random stream number `(a, b)` of the run with seed `seed` (e.g. `a` = round,
/// `b` = chain). Distinct coordinates give statistically independent streams.
pub fn stream_rng(seed: u64, a: u64, b: u64) -> RngStream {
    let h = splitmix64(seed ^ splitmix64(a.wrapping_add(0x51_7CC1_B727_220A) ^ splitmix64(b)));
    Xoshiro256PlusPlus::seed_from_u64(h)
}
