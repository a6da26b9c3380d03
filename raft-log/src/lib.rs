//! A compacted Raft log: the entries after the last snapshot, indexed through an
//! offset base.
//!
//! This crate owns the vocabulary every layer shares ([`Term`], [`Index`],
//! [`NodeId`], [`Entry`]) and the in-memory [`Log`] a node keeps. It does no IO, reads no
//! clock and spawns no thread; persisting the log is `raft-persist`'s job and the
//! rules that decide what to append are `raft-core`'s.
//!
//! ```
//! use raft_log::{Index, Log, Term};
//!
//! let mut log = Log::new();
//! for n in 0..10u8 {
//!     log.push(Term(1), vec![n]);
//! }
//! log.compact_through(Index(7))?; // a snapshot now covers 1..=7
//! assert_eq!(log.len(), 3);
//! assert_eq!(log.entries(Index(8)..Index(11))?.len(), 3);
//! assert!(log.entries(Index(5)..Index(9)).is_err());
//! # Ok::<(), raft_log::LogError>(())
//! ```

mod entry;
mod error;
mod log;
mod types;

pub use crate::entry::{Entry, EntryKind};
pub use crate::error::LogError;
pub use crate::log::Log;
pub use crate::types::{Index, NodeId, Term};
pub use bytes::Bytes;
