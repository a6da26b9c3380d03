//! [`Log`]: the entries after the last snapshot, stored as a tail with an offset.

use std::ops::Range;

use bytes::Bytes;

use crate::{Entry, Index, LogError, Term};

/// The replicated log as one node holds it: the entries after a base point.
///
/// The base is the index and term of the last entry a snapshot covers (index 0,
/// term 0 before any snapshot). Entry `i` lives at position `i - base - 1` of the
/// tail, so lookups are O(1) and a compaction frees the entries it drops.
///
/// Every request outside the log returns a [`LogError`] or `None`, never panics,
/// and leaves the log unchanged.
///
/// ```
/// use raft_log::{Entry, Index, Log, Term};
///
/// let mut log = Log::new();
/// log.append(vec![Entry::new(Index(1), Term(1), b"x".to_vec())])?;
/// log.push(Term(2), b"y".to_vec());
/// assert_eq!(log.last_index(), Index(2));
/// assert_eq!(log.term(Index(2)), Some(Term(2)));
///
/// log.compact_through(Index(1))?;
/// assert_eq!(log.base_index(), Index(1));
/// assert_eq!(log.term(Index(1)), Some(Term(1)));
/// assert!(log.entry(Index(1)).is_none());
/// # Ok::<(), raft_log::LogError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    /// The index of the last entry covered by the snapshot.
    base_index: Index,
    /// The term of the entry at `base_index`.
    base_term: Term,
    /// Invariant: `entries[k].index == base_index + 1 + k`, and terms never
    /// decrease, from `base_term` on.
    entries: Vec<Entry>,
}

impl Log {
    /// An empty log with base (0, 0).
    pub fn new() -> Log {
        Log::default()
    }

    /// An empty log whose base is a snapshot point, as a node restarts from one.
    pub fn with_base(index: Index, term: Term) -> Log {
        Log { base_index: index, base_term: term, entries: Vec::new() }
    }

    /// Restores a log from a base point and the entries after it.
    ///
    /// # Errors
    /// As [`append`](Self::append): [`LogError::NotContiguous`] if the entries do
    /// not start right after the base or skip an index,
    /// [`LogError::DecreasingTerm`] if a term falls below the one before it.
    pub fn from_parts(index: Index, term: Term, entries: Vec<Entry>) -> Result<Log, LogError> {
        let mut log = Log::with_base(index, term);
        log.append(entries)?;
        Ok(log)
    }

    /// The index of the last entry covered by the snapshot (0 before any).
    pub fn base_index(&self) -> Index {
        self.base_index
    }

    /// The term of the entry at [`base_index`](Self::base_index).
    pub fn base_term(&self) -> Term {
        self.base_term
    }

    /// The first index held in the tail (`base_index + 1`), whether or not an
    /// entry is there yet.
    pub fn first_index(&self) -> Index {
        self.base_index.next()
    }

    /// The index of the last entry, or the base when the tail is empty.
    pub fn last_index(&self) -> Index {
        Index(self.base_index.0 + self.entries.len() as u64)
    }

    /// The term of the last entry, or the base term when the tail is empty.
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(self.base_term, |entry| entry.term)
    }

    /// The number of entries held in the tail.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the tail holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The log length as the lab's fast backtracking reports it (XLen): the
    /// index one past the last entry.
    pub fn next_index(&self) -> Index {
        self.last_index().next()
    }

    /// The term of the entry at `index`: the base term at the base, `None`
    /// before the base or past the end.
    pub fn term(&self, index: Index) -> Option<Term> {
        if index == self.base_index {
            return Some(self.base_term);
        }
        self.entry(index).map(|entry| entry.term)
    }

    /// The entry at `index`, if the tail holds it.
    pub fn entry(&self, index: Index) -> Option<&Entry> {
        self.position(index).and_then(|position| self.entries.get(position))
    }

    /// The entries in the half-open range `[range.start, range.end)`.
    ///
    /// # Errors
    /// The first that applies, in this order:
    /// [`LogError::InvertedRange`] if its start is after its end,
    /// [`LogError::Compacted`] if the range starts at or before the base (an
    /// empty range included),
    /// [`LogError::Unavailable`] (naming `range.end - 1`) if it ends past
    /// `last_index + 1`.
    pub fn entries(&self, range: Range<Index>) -> Result<&[Entry], LogError> {
        let Range { start, end } = range;
        if start > end {
            return Err(LogError::InvertedRange { start, end });
        }
        if start <= self.base_index {
            return Err(LogError::Compacted { index: start, base: self.base_index });
        }
        if end > self.next_index() {
            return Err(LogError::Unavailable { index: Index(end.0 - 1), last: self.last_index() });
        }
        let from = (start.0 - self.base_index.0 - 1) as usize;
        let to = (end.0 - self.base_index.0 - 1) as usize;
        Ok(&self.entries[from..to])
    }

    /// The entries from `start` to the end of the log.
    ///
    /// # Errors
    /// As [`entries`](Self::entries).
    pub fn entries_from(&self, start: Index) -> Result<&[Entry], LogError> {
        self.entries(start..self.next_index())
    }

    /// Appends entries that follow on from the last one.
    ///
    /// # Errors
    /// Nothing is appended when one of these is returned, for the first entry
    /// that breaks a rule:
    /// [`LogError::NotContiguous`] if the first entry's index is not
    /// `last_index + 1` or the indices skip;
    /// [`LogError::DecreasingTerm`] if an entry's term is below the term before
    /// it ([`last_term`](Self::last_term) for the first).
    pub fn append(&mut self, entries: Vec<Entry>) -> Result<(), LogError> {
        let (mut last, mut previous) = (self.last_index(), self.last_term());
        for entry in &entries {
            if entry.index != last.next() {
                return Err(LogError::NotContiguous { last, found: entry.index });
            }
            if entry.term < previous {
                return Err(LogError::DecreasingTerm {
                    index: entry.index,
                    term: entry.term,
                    previous,
                });
            }
            (last, previous) = (entry.index, entry.term);
        }
        self.entries.extend(entries);
        Ok(())
    }

    /// Appends one new command in `term` at the end, as a leader does, and
    /// returns its index.
    ///
    /// `term` must be at least [`last_term`](Self::last_term), as a leader's
    /// current term always is; the term lookups assume terms never decrease.
    pub fn push(&mut self, term: Term, data: impl Into<Bytes>) -> Index {
        let index = self.next_index();
        self.entries.push(Entry::new(index, term, data));
        index
    }

    /// Appends a no-op entry in `term` at the end, and returns its index: what
    /// a new leader appends to commit its predecessors' entries. `term` must
    /// be at least [`last_term`](Self::last_term), as for
    /// [`push`](Self::push).
    pub fn push_noop(&mut self, term: Term) -> Index {
        let index = self.next_index();
        self.entries.push(Entry::noop(index, term));
        index
    }

    /// Removes the entries from `index` to the end: a conflicting suffix
    /// (Raft §5.3). Truncating past the end does nothing.
    ///
    /// # Errors
    /// [`LogError::Compacted`] if `index` is at or before the base: committed
    /// entries a snapshot covers can never conflict.
    pub fn truncate_from(&mut self, index: Index) -> Result<(), LogError> {
        if index <= self.base_index {
            return Err(LogError::Compacted { index, base: self.base_index });
        }
        let keep = (index.0 - self.base_index.0 - 1) as usize;
        if keep < self.entries.len() {
            self.entries.truncate(keep);
        }
        Ok(())
    }

    /// Discards the entries through `index`, which becomes the new base, and
    /// releases their memory (Raft §7). Compacting at or before the base does
    /// nothing.
    ///
    /// # Errors
    /// [`LogError::Unavailable`] if `index` is past the last entry; use
    /// [`reset`](Self::reset) for a snapshot point beyond the log.
    pub fn compact_through(&mut self, index: Index) -> Result<(), LogError> {
        if index <= self.base_index {
            return Ok(());
        }
        let Some(term) = self.term(index) else {
            return Err(LogError::Unavailable { index, last: self.last_index() });
        };
        let drop = (index.0 - self.base_index.0) as usize;
        // A fresh vector, so the allocation that held the dropped prefix is freed
        // rather than kept as spare capacity.
        self.entries = self.entries.split_off(drop);
        self.base_index = index;
        self.base_term = term;
        Ok(())
    }

    /// Discards every entry and moves the base to a snapshot point, as a
    /// follower does when it installs a snapshot its log does not reach or
    /// contradicts (Raft §7).
    pub fn reset(&mut self, index: Index, term: Term) {
        self.entries = Vec::new();
        self.base_index = index;
        self.base_term = term;
    }

    /// The first index in the tail whose entry has `term`, if any: the lab's
    /// XIndex for a conflicting term.
    pub fn first_index_of_term(&self, term: Term) -> Option<Index> {
        let position = self.entries.partition_point(|entry| entry.term < term);
        self.entries.get(position).filter(|entry| entry.term == term).map(|entry| entry.index)
    }

    /// The last index whose entry has `term`, the base included, if any: where a
    /// leader resumes when a follower reports a conflict in that term.
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        let position = self.entries.partition_point(|entry| entry.term <= term);
        if position > 0 && self.entries[position - 1].term == term {
            return Some(self.entries[position - 1].index);
        }
        (self.base_term == term && position == 0).then_some(self.base_index)
    }

    /// The fast-backtracking hint a follower sends when the leader's
    /// `prev_index` does not match: the conflicting term (XTerm) and the first
    /// index of that term in the tail (XIndex), or `None` when the log has no
    /// entry at `prev_index` (the leader then uses [`next_index`](Self::next_index), XLen).
    pub fn conflict_at(&self, prev_index: Index) -> Option<(Term, Index)> {
        let term = self.entry(prev_index)?.term;
        let first = self.first_index_of_term(term).unwrap_or(prev_index);
        Some((term, first))
    }

    /// The memory the tail's buffer holds, in entries: for tests and metrics.
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    fn position(&self, index: Index) -> Option<usize> {
        let offset = index.0.checked_sub(self.base_index.0)?.checked_sub(1)?;
        usize::try_from(offset).ok()
    }
}

#[cfg(test)]
mod tests;
