//! The durable home of a Raft node's state: the [`Persister`] trait, with a
//! memory backend and a crash-safe file backend.
//!
//! Not here: Raft's rules (when to save what is `raft-core`'s business) and
//! networking.

mod error;
mod persister;
mod state;

pub use crate::error::PersistError;
pub use crate::persister::Persister;
pub use crate::state::{HardState, PersistedState, Snapshot, Update};
