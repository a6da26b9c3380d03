//! [`MemPersister`]: a persister that keeps everything in memory.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::image::Image;
use crate::{PersistError, PersistedState, Persister, Update};

/// A [`Persister`] in memory: nothing survives the process, but everything
/// survives the node, which is what a tester needs to crash and restart one.
///
/// [`Clone`] gives an independent deep copy. A tester crashes a node by handing
/// its next incarnation a copy, so saves the old incarnation makes afterwards
/// are lost, as they would be in a real crash.
///
/// Saves cost time proportional to the update (and to the entries it drops),
/// never to the whole log; [`raft_state_size`](Persister::raft_state_size) is
/// a running total, not a re-encoding.
///
/// ```
/// use std::sync::Arc;
///
/// use raft_log::{Entry, Index, NodeId, Term};
/// use raft_persist::{HardState, MemPersister, Persister, Update};
///
/// let persister = Arc::new(MemPersister::new());
/// persister.save(&Update {
///     hard_state: Some(HardState { term: Term(2), voted_for: Some(NodeId(1)) }),
///     append: vec![Entry::new(Index(1), Term(2), b"x".to_vec())],
///     ..Update::default()
/// })?;
///
/// // A crash: the next incarnation starts from a copy of what was saved.
/// let restarted = Arc::new((*persister).clone());
/// persister.save(&Update {
///     append: vec![Entry::new(Index(2), Term(2), b"lost".to_vec())],
///     ..Update::default()
/// })?;
///
/// let state = restarted.load()?;
/// assert_eq!(state.hard_state.term, Term(2));
/// assert_eq!(state.entries.len(), 1);
/// # Ok::<(), raft_persist::PersistError>(())
/// ```
#[derive(Debug, Default)]
pub struct MemPersister {
    image: Mutex<Image>,
}

impl MemPersister {
    /// An empty persister: default hard state, no snapshot, no entry.
    pub fn new() -> MemPersister {
        MemPersister::default()
    }

    fn image(&self) -> MutexGuard<'_, Image> {
        // An update is checked before any part of it is applied and applying
        // cannot fail, so a panic elsewhere never leaves the image half-changed.
        self.image.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clone for MemPersister {
    fn clone(&self) -> MemPersister {
        MemPersister { image: Mutex::new(self.image().clone()) }
    }
}

impl Persister for MemPersister {
    fn load(&self) -> Result<PersistedState, PersistError> {
        Ok(self.image().to_state())
    }

    fn save(&self, update: &Update) -> Result<(), PersistError> {
        self.image().save(update)
    }

    fn raft_state_size(&self) -> u64 {
        self.image().raft_state_size()
    }

    fn snapshot_size(&self) -> u64 {
        self.image().snapshot_size()
    }
}

#[cfg(test)]
mod tests;
