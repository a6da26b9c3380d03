//! [`Event`]: everything that wakes a node's event loop.

use crossbeam_channel::Sender;
use raft_log::{Index, NodeId};
use raft_transport::{CallError, Responder};

use crate::{NodeError, Proposal, ProposeError, Request, Response, Sent};

/// One input to the event loop. Replies go back through `reply`, once the
/// effects they depend on are durable.
#[derive(Debug)]
pub(crate) enum Event {
    /// A peer's request; the answer goes to `reply`.
    Request { request: Request, reply: Responder<Response> },
    /// The outcome of a request this node sent to `from`.
    Response { from: NodeId, sent: Sent, result: Result<Response, CallError> },
    /// The service proposes a command.
    Propose { data: Vec<u8>, reply: Sender<Result<Proposal, ProposeError>> },
    /// The service took a snapshot through `index`.
    Snapshot { index: Index, data: Vec<u8>, reply: Sender<Result<(), NodeError>> },
}
