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
/// The transport invokes it on one of its own threads, never inside
/// [`Transport::call`] and never on the caller's thread, so the caller may hold
/// locks while calling that the callback also takes. It shares those threads
/// with other calls' replies, so it must be quick and must not block: sending
/// on an unbounded channel is the usual body. A callback that panics is
/// contained (logged, and the transport goes on).
pub type ReplyCallback<Resp> = Box<dyn FnOnce(Result<Resp, CallError>) + Send + 'static>;

/// The server side: what a node does with one incoming request.
///
/// # Contract
/// - The transport calls [`handle`](Self::handle) on a thread of its own, one of
///   a pool of handler threads, so several requests may be handled at once and
///   in any order; nothing is ordered between requests, even from one caller.
/// - A handler may block on the node (for its event loop, for an fsync), but
///   must never wait on the network, in particular not on a reply to a call of
///   its own: the pool is bounded, and requests queue while it is busy.
/// - What it returns is sent back to the caller; if the caller's deadline has
///   passed or the caller is gone, the reply is dropped.
/// - A handler may still be running when its transport shuts down: shutdown
///   does not wait for it, and drops its answer (see [`Transport::shutdown`]).
pub trait Handler<Req, Resp>: Send + Sync + 'static {
    /// Answers one request, or returns `None` to send no answer (the node is
    /// stopping); the caller then gets [`CallError::Unavailable`]. A handler
    /// that panics counts as `None`.
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
///
/// **Threads.** The transport owns every thread it runs code on: handlers run
/// on its handler threads, callbacks on its reader, worker or reaper threads.
/// Nothing it does blocks the caller of [`call`](Self::call).
///
/// **Calls.** [`call`](Self::call) returns at once, never waiting on the
/// network, a connection attempt or a handler. Its callback runs exactly once,
/// later, on a transport thread, with either the reply or a [`CallError`]:
/// - [`CallError::Unreachable`]: the peer is unknown, down, cut off, refused
///   the connection, or the connection broke while the call was in flight (in
///   which case the peer may or may not have handled the request). Reported as
///   soon as it is known, not at the deadline.
/// - [`CallError::TimedOut`]: no outcome within the transport's per-call
///   deadline, counted from `call`. A reply that comes later is dropped.
/// - [`CallError::Unavailable`]: the peer is not serving yet, or its handler
///   returned `None`.
/// - [`CallError::Shutdown`]: this transport was shut down before the outcome.
/// - [`CallError::Undecodable`], [`CallError::Unsendable`],
///   [`CallError::Rejected`]: encoding problems, for backends that encode.
///
/// A call is handled at most once by the peer; it is never retried.
///
/// **Ordering.** None. Many calls may be in flight to one peer, they may be
/// handled concurrently and their replies may come back in any order, so a
/// caller that needs order must number its requests itself.
///
/// **Serving.** [`serve`](Self::serve) installs the handler for incoming
/// requests, once. Requests that arrive before it get no answer (the caller
/// sees [`CallError::Unavailable`]).
///
/// **Shutdown.** [`shutdown`](Self::shutdown) stops serving, closes the
/// transport's sockets or leaves its network (so peers' calls to it fail with
/// [`CallError::Unreachable`]), and fails every pending call with
/// [`CallError::Shutdown`]; a reply that comes later is dropped, so no callback
/// runs twice. Calls made after it fail with [`CallError::Shutdown`] too (their
/// callback runs on a short-lived thread of its own), and `serve` returns
/// [`TransportError::Shutdown`]. It is idempotent. When it returns, every
/// thread of the transport has ended except these:
/// - a handler thread in the middle of [`Handler::handle`] finishes that call,
///   drops the answer and ends; shutdown does not wait for it, so a handler
///   blocked on the node cannot deadlock the node's own shutdown;
/// - the thread shutdown was called from, if it is one of the transport's own
///   (a callback or handler that shut its transport down), ends when that
///   callback or handler returns.
///
/// A backend may document further waits (a connection attempt in progress).
pub trait Transport<Req: Message, Resp: Message>: Send + Sync + 'static {
    /// This node's identity.
    fn local_id(&self) -> NodeId;

    /// Sends `request` to `to`; `on_reply` later receives the outcome, exactly
    /// once, on a transport thread (see the contract above). Never blocks.
    fn call(&self, to: NodeId, request: Req, on_reply: ReplyCallback<Resp>);

    /// Starts handing incoming requests to `handler`.
    ///
    /// # Errors
    /// [`TransportError::AlreadyServing`] if a handler is installed already;
    /// [`TransportError::Shutdown`] after shutdown; a backend's own failures.
    fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError>;

    /// The largest encoded request this transport can carry, in bytes (of the
    /// request's postcard encoding), or `None` if it has no limit. A larger
    /// request fails with [`CallError::Unsendable`]. Callers that batch, such
    /// as a leader filling an AppendEntries, size their requests by it.
    ///
    /// The default is `None`.
    fn max_message_size(&self) -> Option<u64> {
        None
    }

    /// Stops the transport: fails pending calls with [`CallError::Shutdown`],
    /// stops serving, releases sockets and threads. See the contract above for
    /// what is left running when it returns. Idempotent.
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

    fn max_message_size(&self) -> Option<u64> {
        (**self).max_message_size()
    }

    fn shutdown(&self) {
        (**self).shutdown()
    }
}
