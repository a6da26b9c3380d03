//! [`Image`]: the state a persister holds, and the rules by which an
//! [`Update`] changes it, shared by every backend.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use raft_log::{Entry, Index};
use serde::Serialize;

use crate::{HardState, PersistError, PersistedState, Snapshot, Update};

/// The durable state as one value: hard state, latest snapshot and the entries
/// after it, with the running byte count [`raft_state_size`](Self::raft_state_size)
/// reports.
///
/// Every backend applies updates through [`save`](Self::save), so they agree on
/// what an update means and which updates are refused.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Image {
    hard_state: HardState,
    /// Shared between clones: a snapshot is never changed in place, only
    /// replaced, so a clone stays independent.
    snapshot: Option<Arc<Snapshot>>,
    /// Invariant: `entries[k].index == base_index() + 1 + k`.
    entries: VecDeque<Entry>,
    /// Invariant: the sum of [`encoded_len`] over `entries`.
    entry_bytes: u64,
}

impl Image {
    /// The empty state: default hard state, no snapshot, no entry.
    pub(crate) fn new() -> Image {
        Image::default()
    }

    /// The index the snapshot covers through (0 without one).
    pub(crate) fn base_index(&self) -> Index {
        self.snapshot.as_ref().map_or(Index(0), |snapshot| snapshot.index)
    }

    /// The last index the entries (or the snapshot) reach.
    pub(crate) fn last_index(&self) -> Index {
        self.entries.back().map_or(self.base_index(), |entry| entry.index)
    }

    /// The stored hard state.
    pub(crate) fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// The stored snapshot.
    pub(crate) fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_deref()
    }

    /// The stored entries, in index order, as one slice.
    pub(crate) fn contiguous_entries(&mut self) -> &[Entry] {
        self.entries.make_contiguous()
    }

    /// The encoded hard state plus the encoded entries, in bytes.
    pub(crate) fn raft_state_size(&self) -> u64 {
        encoded_len(&self.hard_state) + self.entry_bytes
    }

    /// The snapshot data's length in bytes.
    pub(crate) fn snapshot_size(&self) -> u64 {
        self.snapshot.as_ref().map_or(0, |snapshot| snapshot.data.len() as u64)
    }

    /// A copy of everything, as [`Persister::load`](crate::Persister::load)
    /// returns it.
    pub(crate) fn to_state(&self) -> PersistedState {
        PersistedState {
            hard_state: self.hard_state,
            snapshot: self.snapshot.as_deref().cloned(),
            entries: self.entries.iter().cloned().collect(),
        }
    }

    /// Checks that `update` can be applied, without changing anything.
    ///
    /// # Errors
    /// [`PersistError::SnapshotBehind`] if the update's snapshot is older than
    /// the stored one; [`PersistError::NotContiguous`] if the appended entries do
    /// not follow on from what the snapshot and truncation leave.
    pub(crate) fn check(&self, update: &Update) -> Result<(), PersistError> {
        let mut base = self.base_index();
        let mut last = self.last_index();
        if let Some(snapshot) = &update.snapshot {
            if snapshot.index < base {
                return Err(PersistError::SnapshotBehind { index: snapshot.index, current: base });
            }
            base = snapshot.index;
            last = last.max(base);
        }
        if let Some(from) = update.truncate_from {
            // Entries at or before the base are gone already: truncating there
            // leaves nothing after the base.
            let kept = Index(from.0.saturating_sub(1));
            last = last.min(kept).max(base);
        }
        for entry in &update.append {
            if last.0.checked_add(1) != Some(entry.index.0) {
                return Err(PersistError::NotContiguous { last, found: entry.index });
            }
            last = entry.index;
        }
        Ok(())
    }

    /// Applies `update` in the order [`Update`] documents: hard state,
    /// snapshot, truncation, append. The cost is proportional to the update and
    /// the entries it drops.
    ///
    /// # Errors
    /// As [`check`](Self::check); the image is unchanged then.
    pub(crate) fn save(&mut self, update: &Update) -> Result<(), PersistError> {
        self.check(update)?;
        if let Some(hard_state) = update.hard_state {
            self.hard_state = hard_state;
        }
        if let Some(snapshot) = &update.snapshot {
            while self.entries.front().is_some_and(|entry| entry.index <= snapshot.index) {
                self.pop_front();
            }
            self.snapshot = Some(Arc::new(snapshot.clone()));
            self.release_spare_capacity();
        }
        if let Some(from) = update.truncate_from {
            while self.entries.back().is_some_and(|entry| entry.index >= from) {
                self.pop_back();
            }
        }
        for entry in &update.append {
            self.entry_bytes += encoded_len(entry);
            self.entries.push_back(entry.clone());
        }
        Ok(())
    }

    fn pop_front(&mut self) {
        if let Some(entry) = self.entries.pop_front() {
            self.entry_bytes -= encoded_len(&entry);
        }
    }

    fn pop_back(&mut self) {
        if let Some(entry) = self.entries.pop_back() {
            self.entry_bytes -= encoded_len(&entry);
        }
    }

    /// Gives back memory once a compaction leaves the buffer mostly empty, so a
    /// long-running node's footprint follows its log, not its history. Shrinking
    /// only below a quarter keeps the cost amortised over the dropped entries.
    fn release_spare_capacity(&mut self) {
        if self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to_fit();
        }
    }
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A summary: the entries and the snapshot's data can be large.
        f.debug_struct("Image")
            .field("hard_state", &self.hard_state)
            .field("snapshot_index", &self.base_index())
            .field("snapshot_size", &self.snapshot_size())
            .field("last_index", &self.last_index())
            .field("entries", &self.entries.len())
            .field("raft_state_size", &self.raft_state_size())
            .finish()
    }
}

/// The length of `value` encoded with postcard, in bytes.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(value: &T) -> u64 {
    // Counting bytes cannot fail: the size flavour has no capacity limit and the
    // persisted types have no fallible serialisation.
    postcard::experimental::serialized_size(value).expect("postcard can size any persisted value")
        as u64
}

#[cfg(test)]
mod tests;
