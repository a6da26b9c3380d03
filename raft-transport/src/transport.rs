//! The [`Transport`] and [`Handler`] traits: the contract every RPC backend keeps.

use std::sync::Arc;

use raft_log::NodeId;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{CallError, TransportError};

/// What a transport can carry: any serde type that can cross threads.
pub trait Message: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> Message for T {}

/// Where the outcome of one call goes: invoked exactly once, with the reply or
/// the reason there is none.
///
/// The transport may invoke it on any of its own threads, so it must be quick
/// and must not block (sending on an unbounded channel is the usual body).
pub type ReplyCallback<Resp> = Box<dyn FnOnce(Result<Resp, CallError>) + Send + 'static>;

/// The server side: what a node does with one incoming request.
///
/// The transport calls [`handle`](Self::handle) on a thread of its own, possibly
/// for several requests at once. A handler may block on the node (including its
/// fsync) but must never wait on the network.
pub trait Handler<Req, Resp>: Send + Sync + 'static {
    /// Answers one request, or returns `None` to send no answer (the node is
    /// stopping); the caller then gets [`CallError::Unavailable`] or a timeout.
    fn handle(&self, request: Req) -> Option<Resp>;
}

impl<Req, Resp, F> Handler<Req, Resp> for F
where
    F: Fn(Req) -> Option<Resp> + Send + Sync + 'static,
{
    fn handle(&self, request: Req) -> Option<Resp> {
        self(request)
    }
}

/// One node's end of a request/response network between numbered peers.
///
/// # Contract
/// - [`call`](Self::call) returns at once and never blocks on the network. The
///   callback runs exactly once, later, with the reply or a [`CallError`]. Many
///   calls may be in flight to one peer, and replies may come back in any order.
/// - [`serve`](Self::serve) installs the handler for incoming requests. Requests
///   that arrive before it are refused.
/// - [`shutdown`](Self::shutdown) fails every pending call with
///   [`CallError::Shutdown`], stops serving and releases threads and sockets.
///   Calls made after it fail the same way. It is idempotent.
///
/// The transport owns its threads; callbacks and handlers run on them.
pub trait Transport<Req: Message, Resp: Message>: Send + Sync + 'static {
    /// This node's identity.
    fn local_id(&self) -> NodeId;

    /// Sends `request` to `to`; `on_reply` later receives the outcome.
    fn call(&self, to: NodeId, request: Req, on_reply: ReplyCallback<Resp>);

    /// Starts handing incoming requests to `handler`.
    ///
    /// # Errors
    /// [`TransportError::AlreadyServing`] if a handler is installed already;
    /// [`TransportError::Shutdown`] after shutdown; a backend's own failures.
    fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError>;

    /// Stops the transport: see the contract above.
    fn shutdown(&self);
}

impl<Req: Message, Resp: Message, T: Transport<Req, Resp> + ?Sized> Transport<Req, Resp>
    for Arc<T>
{
    fn local_id(&self) -> NodeId {
        (**self).local_id()
    }

    fn call(&self, to: NodeId, request: Req, on_reply: ReplyCallback<Resp>) {
        (**self).call(to, request, on_reply)
    }

    fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError> {
        (**self).serve(handler)
    }

    fn shutdown(&self) {
        (**self).shutdown()
    }
}
