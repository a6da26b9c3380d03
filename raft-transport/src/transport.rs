//! The [`Transport`] and [`Handler`] traits: the contract every RPC backend keeps.

use std::sync::Arc;

use raft_log::NodeId;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{CallError, Responder, TransportError};

/// What a transport can carry: any serde type that can cross threads.
pub trait Message: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> Message for T {}

/// Where the outcome of one call goes: invoked exactly once, with the reply or
/// the reason there is none.
///
/// It runs on one of the transport's own threads or, for an in-process
/// backend, on the thread that answered the peer's [`Responder`]; never inside
/// [`Transport::call`], so the caller may hold locks while calling that the
/// callback also takes. It shares those threads with other calls' replies and
/// with the peers' own work, so it must be quick and must not block: sending
/// on an unbounded channel is the usual body. A callback that panics is
/// contained (logged, and the transport goes on).
pub type ReplyCallback<Resp> = Box<dyn FnOnce(Result<Resp, CallError>) + Send + 'static>;

/// The server side: what a node does with one incoming request.
///
/// # Contract
/// - **Threads.** The transport calls [`handle`](Self::handle) on the thread
///   that received the request: a TCP connection's reader, a simulated
///   network's thread, or, in process, the calling node's own thread inside
///   its [`Transport::call`]. Requests from one caller come one after another,
///   in the order its calls were made (see the [`Transport`] contract's
///   ordering); requests from different callers may be handled at once.
/// - **It must not block**: no waiting on the node, the disk or the network
///   (least of all on a reply to a call of its own). While it runs, the next
///   request from the same caller waits, and in process the caller itself
///   waits. Work that takes time is queued, with the responder, to a thread
///   that does it (a node's event loop, say), and answered from there.
/// - **It answers exactly once**, through its [`Responder`]:
///   [`respond`](Responder::respond) with the reply, or
///   [`refuse`](Responder::refuse) to send none (the node is stopping); the
///   caller then gets [`CallError::Unavailable`], as it does when the
///   responder is dropped unanswered. It may answer inside `handle` or later,
///   from any thread.
/// - An answer is dropped if the caller's deadline has passed, the caller is
///   gone, or either transport has shut down; shutdown does not wait for
///   responders still held (see [`Transport::shutdown`]).
/// - A handler that panics is logged, and its request refused: the responder
///   is dropped with the rest of the handler's state, unless the handler
///   handed it on first.
///
/// A closure `Fn(Req) -> Option<Resp>` is a handler that answers at once
/// (`None` refuses). One that answers later:
///
/// ```
/// use std::sync::Arc;
/// use std::thread;
///
/// use crossbeam_channel::{Sender, unbounded};
/// use raft_transport::{ChannelNetwork, Handler, NodeId, Responder, Transport};
///
/// /// Queues each request to a worker thread, which answers it.
/// struct Queued(Sender<(u64, Responder<u64>)>);
///
/// impl Handler<u64, u64> for Queued {
///     fn handle(&self, request: u64, responder: Responder<u64>) {
///         // A worker that is gone drops the responder: the caller gets no answer.
///         let _ = self.0.send((request, responder));
///     }
/// }
///
/// let (queue, work) = unbounded::<(u64, Responder<u64>)>();
/// thread::spawn(move || {
///     for (n, responder) in work {
///         responder.respond(n * n);
///     }
/// });
///
/// let network = ChannelNetwork::<u64, u64>::new();
/// let one = network.transport(NodeId(1))?;
/// let two = network.transport(NodeId(2))?;
/// two.serve(Arc::new(Queued(queue)))?;
///
/// let (tx, rx) = std::sync::mpsc::channel();
/// one.call(NodeId(2), 12, Box::new(move |reply| tx.send(reply).unwrap()));
/// assert_eq!(rx.recv()?, Ok(144));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Handler<Req, Resp>: Send + Sync + 'static {
    /// Must not block (no waiting on the node, the disk or the network): queue
    /// the work and answer through `responder` later, or answer at once.
    fn handle(&self, request: Req, responder: Responder<Resp>);
}

impl<Req, Resp, F> Handler<Req, Resp> for F
where
    F: Fn(Req) -> Option<Resp> + Send + Sync + 'static,
    Resp: Send + 'static,
{
    /// Answers at once with what the closure returns: `Some` responds, `None`
    /// refuses.
    fn handle(&self, request: Req, responder: Responder<Resp>) {
        match self(request) {
            Some(reply) => responder.respond(reply),
            None => responder.refuse(),
        }
    }
}

/// One node's end of a request/response network between numbered peers.
///
/// # Contract
///
/// **Threads.** Handlers run on the thread that received the request (see
/// [`Handler`]); reply callbacks on the transport's own threads or, in
/// process, on the thread that answered the peer's responder (see
/// [`ReplyCallback`]). Nothing the transport does blocks the caller of
/// [`call`](Self::call).
///
/// **Calls.** [`call`](Self::call) returns at once, never waiting on the
/// network, a connection attempt or a handler's answer (an in-process backend
/// runs the peer's handler inside it, which is why handlers must not block).
/// Its callback runs exactly once, later, never inside `call`, with either the
/// reply or a [`CallError`]:
/// - [`CallError::Unreachable`]: the peer is unknown, down, cut off, refused
///   the connection, or the connection broke while the call was in flight (in
///   which case the peer may or may not have handled the request). Reported as
///   soon as it is known, not at the deadline.
/// - [`CallError::TimedOut`]: no outcome within the transport's per-call
///   deadline, counted from `call`. A reply that comes later is dropped.
/// - [`CallError::Unavailable`]: the peer is not serving yet, or its handler
///   refused the request or dropped its responder unanswered.
/// - [`CallError::Shutdown`]: this transport was shut down before the outcome.
/// - [`CallError::Undecodable`], [`CallError::Unsendable`],
///   [`CallError::Rejected`]: encoding problems, for backends that encode.
///
/// A call is handled at most once by the peer; it is never retried.
///
/// **Ordering.** The real backends ([`ChannelTransport`](crate::ChannelTransport),
/// [`TcpTransport`](crate::TcpTransport)) hand the requests from one caller to
/// the peer's handler in the order `call` was made: when one `call` returns
/// before the next begins, the peer handles the first request before the
/// second. Over TCP this holds within one connection; a request caught in a
/// broken connection fails with [`CallError::Unreachable`] and may be handled
/// after later ones. Nothing else is ordered: many calls may be in flight to
/// one peer and their replies may come back in any order (a handler may answer
/// a later request first), requests from different callers interleave, and a
/// simulated network may delay, drop and reorder requests. A caller that needs
/// more order than this must number its requests itself.
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
/// [`TransportError::Shutdown`]. It is idempotent. It does not wait for
/// responders its handler still holds: they may still be answered, and their
/// answers go nowhere, so a request waiting on the node cannot hold up the
/// node's own shutdown. When it returns, every thread of the transport has
/// ended except the thread shutdown was called from, if it is one of the
/// transport's own (a callback or handler that shut its transport down),
/// which ends when that callback or handler returns.
///
/// A backend may document further waits (a connection attempt in progress, a
/// `handle` call in progress on one of its threads).
pub trait Transport<Req: Message, Resp: Message>: Send + Sync + 'static {
    /// This node's identity.
    fn local_id(&self) -> NodeId;

    /// Sends `request` to `to`; `on_reply` later receives the outcome, exactly
    /// once, never inside this call (see the contract above). Never blocks.
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
