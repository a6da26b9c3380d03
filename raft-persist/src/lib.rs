//! The durable home of a Raft node's state: the [`Persister`] trait, with a
//! memory backend and a crash-safe file backend.
//!
//! A node saves its hard state (term and vote), its log tail and its latest
//! snapshot through [`Persister::save`], one atomic [`Update`] at a time, and
//! reads them back with [`Persister::load`] when it restarts.
//!
//! - [`MemPersister`] keeps everything in memory; a clone is an independent
//!   copy, which is how a tester simulates a crash.
//! - [`FilePersister`] keeps everything in one directory: an append-only,
//!   checksummed log and the latest snapshot, written so that a crash at any
//!   moment leaves the last saved state readable.
//!
//! Not here: Raft's rules (when to save what is `raft-core`'s business) and
//! networking.
//!
//! ```
//! use raft_log::{Entry, Index, NodeId, Term};
//! use raft_persist::{HardState, MemPersister, Persister, Snapshot, Update};
//!
//! let persister = MemPersister::new();
//! persister.save(&Update {
//!     hard_state: Some(HardState { term: Term(1), voted_for: Some(NodeId(0)) }),
//!     append: (1..=3).map(|i| Entry::new(Index(i), Term(1), vec![i as u8])).collect(),
//!     ..Update::default()
//! })?;
//! // The service snapshots through index 2: the entries it covers are dropped.
//! persister.save(&Update {
//!     snapshot: Some(Snapshot { index: Index(2), term: Term(1), data: b"state".to_vec() }),
//!     ..Update::default()
//! })?;
//!
//! let state = persister.load()?;
//! assert_eq!(state.entries.len(), 1);
//! assert_eq!(state.entries[0].index, Index(3));
//! assert_eq!(persister.snapshot_size(), 5);
//! # Ok::<(), raft_persist::PersistError>(())
//! ```

mod error;
mod file;
mod image;
mod mem;
mod persister;
mod state;

pub use crate::error::PersistError;
pub use crate::file::{FilePersister, FilePersisterBuilder, SyncMode};
pub use crate::mem::MemPersister;
pub use crate::persister::Persister;
pub use crate::state::{HardState, PersistedState, Snapshot, Update};
