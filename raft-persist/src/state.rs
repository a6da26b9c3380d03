//! The values a persister stores and loads: [`HardState`], [`Snapshot`],
//! [`Update`] and [`PersistedState`].

use raft_log::{Entry, Index, NodeId, Term};
use serde::{Deserialize, Serialize};

/// The part of a node's state that must survive a crash before it votes or
/// answers (Raft Figure 2: `currentTerm`, `votedFor`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    /// The latest term the node has seen.
    pub term: Term,
    /// The candidate it voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
}

/// A snapshot of the service's state through `index` (Raft §7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The last log index the snapshot covers.
    pub index: Index,
    /// The term of the entry at `index`.
    pub term: Term,
    /// The service's bytes, opaque to Raft.
    pub data: Vec<u8>,
}

/// One atomic change to the durable state.
///
/// [`Persister::save`](crate::Persister::save) applies the parts in this order:
/// 1. `hard_state` replaces the stored hard state;
/// 2. `snapshot` replaces the stored snapshot, and the entries at or before its
///    index are dropped (all of them when it lies past the last entry); it may
///    not be older than the stored snapshot;
/// 3. `truncate_from` drops the entries at that index and after (every entry
///    left when it is at or before the snapshot's index);
/// 4. `append` adds entries, which must follow on from what remains (the last
///    entry, or the snapshot's index when no entry remains).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// A new hard state.
    pub hard_state: Option<HardState>,
    /// A new snapshot.
    pub snapshot: Option<Snapshot>,
    /// Drop the entries from this index on.
    pub truncate_from: Option<Index>,
    /// Entries to append after the truncation.
    pub append: Vec<Entry>,
}

impl Update {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.snapshot.is_none()
            && self.truncate_from.is_none()
            && self.append.is_empty()
    }
}

/// Everything a persister holds, as [`Persister::load`](crate::Persister::load)
/// returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistedState {
    /// The latest hard state (the default before any save).
    pub hard_state: HardState,
    /// The latest snapshot, if one was ever saved.
    pub snapshot: Option<Snapshot>,
    /// The entries after the snapshot (or after index 0), in index order.
    pub entries: Vec<Entry>,
}
