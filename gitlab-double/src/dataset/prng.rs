//! A tiny deterministic pseudo-random generator (SplitMix64).
//!
//! The demo dataset and the fault injector must produce the same sequence on every start and every
//! platform, so they use this instead of a seeded `rand` generator whose algorithm may change
//! between releases.

/// SplitMix64: 64 bits of state, good statistical quality for test data, trivially reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A uniform value in `0..n` (`n > 0`; returns 0 when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift; the tiny bias is irrelevant for test data.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// `len` lowercase hexadecimal characters.
    pub fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(len);
        let mut bits = 0u64;
        let mut left = 0;
        for _ in 0..len {
            if left == 0 {
                bits = self.next_u64();
                left = 16;
            }
            out.push(char::from(DIGITS[(bits & 0xf) as usize]));
            bits >>= 4;
            left -= 1;
        }
        out
    }

    /// A `sha256:`-prefixed random digest.
    pub fn digest(&mut self) -> String {
        format!("sha256:{}", self.hex(64))
    }

    /// A value spread log-uniformly between `lo` and `hi` (both > 0): many small, some huge.
    pub fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo_f, hi_f) = ((lo.max(1)) as f64, (hi.max(lo.max(1))) as f64);
        let x = lo_f.ln() + self.unit() * (hi_f.ln() - lo_f.ln());
        x.exp().round() as u64
    }
}

/// The SplitMix64 output function; also used on its own as a stateless hash of a counter.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(SplitMix64::new(8).next_u64(), SplitMix64::new(7).next_u64());
    }

    #[test]
    fn bounded_helpers_stay_in_bounds() {
        let mut r = SplitMix64::new(1);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
            let v = r.range(5, 9);
            assert!((5..=9).contains(&v));
            let f = r.unit();
            assert!((0.0..1.0).contains(&f));
            let l = r.log_uniform(1000, 2000);
            assert!((1000..=2000).contains(&l));
        }
        assert_eq!(r.hex(64).len(), 64);
    }
}
