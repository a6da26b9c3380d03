//! [`Bitset`]: the set of operations a search has linearized so far, the key
//! of its memo cache.

/// A fixed-size set of small integers (operation numbers within a partition)
/// with a fingerprint kept up to date in constant time.
///
/// The fingerprint is Zobrist's: the exclusive or of a fixed pseudo-random
/// word per member, updated as members come and go, so the memo cache can
/// hash a set without reading every word.
///
/// Invariant: bits at or past the capacity given to [`new`](Bitset::new) are
/// never set, and `fingerprint` is the exclusive or of [`member_word`] over
/// the members; so two sets with the same members have the same words and
/// the same fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bitset {
    fingerprint: u64,
    words: Box<[u64]>,
}

impl Bitset {
    /// An empty set able to hold `0..capacity`.
    pub(crate) fn new(capacity: usize) -> Bitset {
        Bitset { fingerprint: 0, words: vec![0; capacity.div_ceil(64)].into_boxed_slice() }
    }

    /// A hash of the members, equal for equal sets.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The members as words of 64 bits, bit `i` in word `i / 64`.
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    /// Adds `bit`, if it is not already a member.
    ///
    /// # Panics
    /// If `bit` is not below the capacity (a broken internal invariant).
    pub(crate) fn insert(&mut self, bit: usize) {
        let mask = 1 << (bit % 64);
        let word = &mut self.words[bit / 64];
        if *word & mask == 0 {
            *word |= mask;
            self.fingerprint ^= member_word(bit);
        }
    }

    /// Removes `bit`, if it is a member.
    ///
    /// # Panics
    /// If `bit` is not below the capacity (a broken internal invariant).
    pub(crate) fn remove(&mut self, bit: usize) {
        let mask = 1 << (bit % 64);
        let word = &mut self.words[bit / 64];
        if *word & mask != 0 {
            *word &= !mask;
            self.fingerprint ^= member_word(bit);
        }
    }
}

/// The pseudo-random word that stands for `bit` in a fingerprint
/// (SplitMix64's output function).
fn member_word(bit: usize) -> u64 {
    let mut z = (bit as u64).wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
