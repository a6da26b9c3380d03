//! The [`Persister`] trait: the contract every durable-state backend keeps.

use std::sync::Arc;

use crate::{PersistError, PersistedState, Update};

/// The durable home of a Raft node's hard state, log tail and latest snapshot.
///
/// A node calls [`save`](Self::save) before any message that depends on the
/// change leaves it ("persist before you speak"), so a returned `Ok` is a
/// promise: a crash at any later moment cannot lose the update. An error means
/// the update may not be durable; the node stops rather than speak on it.
///
/// Methods take `&self`: a backend synchronises internally, so a node and an
/// observer (a tester reading [`raft_state_size`](Self::raft_state_size)) can
/// share one persister behind an [`Arc`].
pub trait Persister: Send + Sync + 'static {
    /// Reads back everything saved so far.
    ///
    /// # Errors
    /// A backend's own failures: for files, [`PersistError::Io`] and
    /// [`PersistError::Corrupt`] (a checksum failure before the last record).
    fn load(&self) -> Result<PersistedState, PersistError>;

    /// Applies `update` atomically and durably, in the order [`Update`]
    /// documents. A crash during the call leaves either the old state or the
    /// new one. The cost is proportional to the update, not to the log.
    ///
    /// # Errors
    /// Nothing is saved when one of these is returned:
    /// [`PersistError::NotContiguous`] if the appended entries do not follow on
    /// from what remains; [`PersistError::SnapshotBehind`] if the snapshot is
    /// older than the stored one.
    ///
    /// A backend's own failures, after which the update may or may not be
    /// durable: for files, [`PersistError::Io`], [`PersistError::Poisoned`] once
    /// a write has failed, [`PersistError::RecordTooLarge`] (nothing saved).
    fn save(&self, update: &Update) -> Result<(), PersistError>;

    /// The bytes the hard state and the log tail take, as the lab's
    /// `RaftStateSize()` counts them: what a service watches to decide when to
    /// snapshot.
    fn raft_state_size(&self) -> u64;

    /// The bytes of the latest snapshot's data (0 without one).
    fn snapshot_size(&self) -> u64;
}

impl<P: Persister + ?Sized> Persister for Arc<P> {
    fn load(&self) -> Result<PersistedState, PersistError> {
        (**self).load()
    }

    fn save(&self, update: &Update) -> Result<(), PersistError> {
        (**self).save(update)
    }

    fn raft_state_size(&self) -> u64 {
        (**self).raft_state_size()
    }

    fn snapshot_size(&self) -> u64 {
        (**self).snapshot_size()
    }
}

impl<P: Persister + ?Sized> Persister for Box<P> {
    fn load(&self) -> Result<PersistedState, PersistError> {
        (**self).load()
    }

    fn save(&self, update: &Update) -> Result<(), PersistError> {
        (**self).save(update)
    }

    fn raft_state_size(&self) -> u64 {
        (**self).raft_state_size()
    }

    fn snapshot_size(&self) -> u64 {
        (**self).snapshot_size()
    }
}
