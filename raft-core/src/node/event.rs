//! [`Event`]: everything that wakes a node's event loop.

use std::sync::Arc;

use bytes::Bytes;
use crossbeam_channel::Sender;
use raft_log::{Index, NodeId};
use raft_transport::{CallError, Responder};

use super::proposal::Slot;
use super::read::ReadSlot;
use crate::{NodeError, Request, Response, Sent, TransferError};

/// One input to the event loop.
#[derive(Debug)]
pub(crate) enum Event {
    /// A peer's request; the answer goes to `answer` once it is durable.
    Request { request: Request, answer: Responder<Response> },
    /// The outcome of a request this node sent to `from`.
    Response { from: NodeId, sent: Sent, result: Result<Response, CallError> },
    /// The service proposes commands, each with the slot its handle watches.
    Propose(Vec<(Bytes, Arc<Slot>)>),
    /// The service took a snapshot through `index`.
    Snapshot { index: Index, data: Vec<u8>, reply: Sender<Result<(), NodeError>> },
    /// The service asks for read indices, each with the slot its handle
    /// watches.
    Read(Vec<Arc<ReadSlot>>),
    /// The service asks to hand the lead to `to`.
    Transfer { to: NodeId, reply: Sender<Result<(), TransferError>> },
}
