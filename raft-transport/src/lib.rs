//! Request/response RPC between numbered peers: the [`Transport`] trait, with an
//! in-process channel backend and a TCP backend.
//!
//! Not here: anything about Raft. A transport carries pairs of serde types.

mod error;
mod transport;

pub use crate::error::{CallError, TransportError};
pub use crate::transport::{Handler, Message, ReplyCallback, Transport};
pub use raft_log::NodeId;
