//! [`Cache`]: Lowe's memo of the (linearized set, state) pairs a search has
//! already reached, so that it explores none twice.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::linearizability::bitset::Bitset;

/// Marks the end of a chain of entries.
const NO_ENTRY: usize = usize::MAX;

/// The pairs reached so far, in arenas: entry `i`'s set is the `i`-th run of
/// `words_per_set` words in `sets`, its state `states[i]`. A search can
/// record millions of entries before its deadline, so entries cost no
/// allocation of their own (beyond what a state holds) and are freed at once.
///
/// Invariant: `sets.len() == words_per_set * states.len()` and
/// `next.len() == states.len()`; every entry is on exactly one chain, the one
/// that `first` starts at the entry's key (see [`key`]).
#[derive(Debug)]
pub(crate) struct Cache<S> {
    words_per_set: usize,
    sets: Vec<u64>,
    states: Vec<S>,
    first: HashMap<u64, usize>,
    next: Vec<usize>,
}

impl<S: Clone + Eq + Hash> Cache<S> {
    /// An empty cache for sets made by `Bitset::new(capacity)`.
    pub(crate) fn new(capacity: usize) -> Cache<S> {
        Cache {
            words_per_set: Bitset::new(capacity).words().len(),
            sets: Vec::new(),
            states: Vec::new(),
            first: HashMap::new(),
            next: Vec::new(),
        }
    }

    /// Records `(set, state)`; false if it was already recorded.
    ///
    /// `set` must have the capacity the cache was made for.
    pub(crate) fn insert(&mut self, set: &Bitset, state: &S) -> bool {
        debug_assert_eq!(set.words().len(), self.words_per_set);
        let key = key(set, state);
        let mut last = NO_ENTRY;
        let mut entry = self.first.get(&key).copied().unwrap_or(NO_ENTRY);
        while entry != NO_ENTRY {
            let words = &self.sets[entry * self.words_per_set..(entry + 1) * self.words_per_set];
            if words == set.words() && self.states[entry] == *state {
                return false;
            }
            last = entry;
            entry = self.next[entry];
        }

        let new = self.states.len();
        self.sets.extend_from_slice(set.words());
        self.states.push(state.clone());
        self.next.push(NO_ENTRY);
        if last == NO_ENTRY {
            self.first.insert(key, new);
        } else {
            self.next[last] = new;
        }
        true
    }

    /// How many pairs are recorded.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }
}

/// The hash map key of a pair: the set's fingerprint mixed with the state's
/// hash, so that the many states one set can meet fall on separate chains.
fn key<S: Hash>(set: &Bitset, state: &S) -> u64 {
    let mut hasher = DefaultHasher::new();
    state.hash(&mut hasher);
    set.fingerprint() ^ hasher.finish()
}

#[cfg(test)]
mod tests;
