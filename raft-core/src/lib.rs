//! Raft consensus (the extended paper's Figure 2 and §7): leader election, log
//! replication, persistence and snapshots, behind a small [`Node`] API.
//!
//! Not here: sockets, files and wire encodings (those are the persister's and
//! the transport's), and membership changes.

mod applied;
mod config;
mod error;
mod message;
mod node;
mod progress;
mod raft;
mod ready;
mod status;

pub use crate::applied::Applied;
pub use crate::config::{
    Config, DEFAULT_ELECTION_TICKS_MAX, DEFAULT_ELECTION_TICKS_MIN, DEFAULT_HEARTBEAT_TICKS,
    DEFAULT_MAX_ENTRIES_PER_APPEND, DEFAULT_TICK_INTERVAL,
};
pub use crate::error::{ConfigError, NodeError, ProposeError};
pub(crate) use crate::message::Sent;
pub use crate::message::{
    AppendRequest, AppendResponse, Request, Response, SnapshotRequest, SnapshotResponse,
    VoteRequest, VoteResponse,
};
pub use crate::node::{ApplyReceiver, Node, NodeBuilder, Proposal};
pub use crate::status::{Role, Status};
pub use raft_log::{Index, NodeId, Term};
