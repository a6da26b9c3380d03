//! A replicated state machine on Raft (the lab's `rsm` layer): a service
//! gives a deterministic [`StateMachine`]; [`Rsm::submit`] runs a command
//! through the log and returns the machine's answer once the command has
//! committed and been applied on this node.
//!
//! It knows nothing of what the commands mean, so any service can use it:
//! the sample key/value service (`kv-example`) does, and so do the lab's
//! 4A tests with a counter. It lives in a crate of its own, rather than in
//! `raft-core`, because it is a layer above the protocol that a service may
//! or may not want (it owns the apply side), and rather than in `kv-example`
//! so that other services can reuse it without the key/value code.
//!
//! What it does:
//! - submits wait on the node's proposal, then on the applier, without a
//!   thread of their own; a submit whose entry was replaced (another entry,
//!   or one of a later term, at its index) returns
//!   [`SubmitError::WrongLeader`], and one that waits longer than
//!   [`RsmConfig::submit_timeout`] returns [`SubmitError::TimedOut`];
//! - the applier snapshots the machine once the persisted Raft state passes
//!   [`RsmConfig::max_raft_state`], and restores snapshots the node delivers
//!   (at restart, or sent by a leader);
//! - [`Rsm::read`] reads the machine linearizably with no log entry: it waits
//!   for the node's read index (ReadIndex), then for the applier to reach it;
//! - [`Rsm::shutdown`] makes every waiting submit return at once.
//!
//! Not here: client retries and duplicate detection, which belong to the
//! service (the key/value service uses versions).
//!
//! # Example
//!
//! A counter on a one-node cluster:
//!
//! ```
//! use std::time::Duration;
//!
//! use raft_core::{Config, Node, NodeId};
//! use raft_persist::MemPersister;
//! use raft_rsm::{Rsm, RsmConfig, StateMachine, SubmitError};
//! use raft_transport::ChannelNetwork;
//!
//! struct Counter(u64);
//!
//! impl StateMachine for Counter {
//!     type Command = u64;
//!     type Output = u64;
//!     fn apply(&mut self, add: u64) -> u64 {
//!         self.0 += add;
//!         self.0
//!     }
//!     fn snapshot(&self) -> Vec<u8> {
//!         self.0.to_le_bytes().to_vec()
//!     }
//!     fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
//!         let bytes: [u8; 8] = bytes.try_into().map_err(|_| "not a counter".to_owned())?;
//!         self.0 = u64::from_le_bytes(bytes);
//!         Ok(())
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let network = ChannelNetwork::new();
//! let builder = Node::builder(Config::new(NodeId(1), vec![NodeId(1)]))
//!     .persister(MemPersister::new())
//!     .transport(network.transport(NodeId(1))?);
//! let counter = Rsm::start(builder, Counter(0), RsmConfig::default())?;
//! // The lone node elects itself within its election timeout.
//! let total = loop {
//!     match counter.submit(5) {
//!         Err(SubmitError::WrongLeader { .. }) => std::thread::sleep(Duration::from_millis(20)),
//!         other => break other?,
//!     }
//! };
//! assert_eq!(total, 5);
//! assert_eq!(counter.submit(2)?, 7);
//! // A linearizable read, without a log entry:
//! assert_eq!(counter.read(|machine| machine.0)?, 7);
//! assert_eq!(counter.read_local(|machine| machine.0), 7);
//! counter.shutdown();
//! assert_eq!(counter.submit(1), Err(SubmitError::Stopped));
//! # Ok(())
//! # }
//! ```

mod answers;
mod applied;
mod applier;
mod config;
mod error;
mod rsm;
mod state_machine;

pub use crate::config::RsmConfig;
pub use crate::error::{StartError, SubmitError};
pub use crate::rsm::Rsm;
pub use crate::state_machine::StateMachine;
