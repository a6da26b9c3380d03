//! [`ChannelTransport`]: the in-process backend, for tests and single-process
//! clusters.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use raft_log::NodeId;

use crate::{CallError, Handler, Message, ReplyCallback, Responder, Transport, TransportError};

mod network;

pub use self::network::ChannelNetwork;
use self::network::Endpoint;

/// One node's end of a [`ChannelNetwork`]: requests and replies are handed
/// over by value, with no encoding.
///
/// It keeps the [`Transport`] contract as [`TcpTransport`](crate::TcpTransport)
/// does, so that code tested over channels behaves the same over TCP:
/// - a call to a node that is cut off, shut down or was never made fails with
///   [`CallError::Unreachable`], on a transport thread, without waiting for its
///   deadline;
/// - a call to a node that has not called [`serve`](Transport::serve) yet, or
///   whose handler refuses it or drops its responder, fails with
///   [`CallError::Unavailable`];
/// - a call whose reply does not come within
///   [`TransportConfig::call_timeout`](crate::TransportConfig::call_timeout)
///   fails with [`CallError::TimedOut`];
/// - requests from one caller reach the callee's handler in the order of the
///   calls.
///
/// # Threads
/// - The callee's handler runs on the caller's thread, inside
///   [`call`](Transport::call): that is what keeps one caller's requests in
///   order, and it costs no thread hop. (So a handler that blocks blocks its
///   caller; handlers must not.)
/// - A reply callback runs on the thread that answers the responder, when that
///   thread is not inside a `call` of this backend: the usual case, a node's
///   event loop answering after its fsync, completes the call right there.
/// - An answer given inside a `call` (a handler that answers at once, or one
///   that answers some earlier request from inside a later one), every
///   failure and every deadline are delivered by the caller's reaper thread
///   instead, so that no callback runs inside `call`.
///
/// Each transport has one thread of its own, its reaper, started by
/// [`ChannelNetwork::transport`]; shutdown joins it.
///
/// Dropping the transport shuts it down.
pub struct ChannelTransport<Req, Resp> {
    network: ChannelNetwork<Req, Resp>,
    endpoint: Arc<Endpoint<Req, Resp>>,
}

impl<Req: Message, Resp: Message> ChannelTransport<Req, Resp> {
    fn new(
        network: ChannelNetwork<Req, Resp>,
        endpoint: Arc<Endpoint<Req, Resp>>,
    ) -> ChannelTransport<Req, Resp> {
        ChannelTransport { network, endpoint }
    }

    /// The network this transport belongs to.
    pub fn network(&self) -> &ChannelNetwork<Req, Resp> {
        &self.network
    }
}

impl<Req: Message, Resp: Message> Transport<Req, Resp> for ChannelTransport<Req, Resp> {
    fn local_id(&self) -> NodeId {
        self.endpoint.id
    }

    fn call(&self, to: NodeId, request: Req, on_reply: ReplyCallback<Resp>) {
        let Some(id) = self.endpoint.pending.register(to, on_reply) else {
            return;
        };
        let Some(callee) = self.network.route(&self.endpoint, to) else {
            return self.endpoint.pending.fail(id, CallError::Unreachable(to));
        };
        let network = self.network.clone();
        let caller = Arc::clone(&self.endpoint);
        let answered_by = Arc::clone(&callee);
        let responder = Responder::new(move |reply: Option<Resp>| {
            if !network.can_reply(&caller, &answered_by) {
                return;
            }
            let outcome = reply.ok_or(CallError::Unavailable(to));
            if InsideCall::here() {
                caller.pending.complete_on_reaper(id, outcome);
            } else {
                caller.pending.complete(id, outcome);
            }
        });
        let _inside = InsideCall::enter();
        callee.dispatcher.dispatch(request, responder);
    }

    fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError> {
        self.endpoint.dispatcher.serve(handler)
    }

    fn shutdown(&self) {
        self.stop();
    }
}

thread_local! {
    /// How many [`ChannelTransport::call`]s on this thread are handing their
    /// request to a handler right now.
    static INSIDE_CALL: Cell<usize> = const { Cell::new(0) };
}

/// Marks the current thread as inside a `call` (handing a request to a
/// handler) for as long as it lives; an answer given meanwhile on this thread
/// would otherwise run its callback inside `call`.
struct InsideCall;

impl InsideCall {
    fn enter() -> InsideCall {
        INSIDE_CALL.set(INSIDE_CALL.get() + 1);
        InsideCall
    }

    /// Whether the current thread is inside a `call`.
    fn here() -> bool {
        INSIDE_CALL.get() > 0
    }
}

impl Drop for InsideCall {
    fn drop(&mut self) {
        INSIDE_CALL.set(INSIDE_CALL.get() - 1);
    }
}

impl<Req, Resp> ChannelTransport<Req, Resp> {
    /// Leaves the network (failing calls in flight to this node), stops
    /// serving, fails this node's pending calls with [`CallError::Shutdown`]
    /// and ends its reaper.
    fn stop(&self) {
        self.network.leave(&self.endpoint);
        self.endpoint.dispatcher.close();
        self.endpoint.pending.close();
    }
}

impl<Req, Resp> Drop for ChannelTransport<Req, Resp> {
    fn drop(&mut self) {
        self.stop();
    }
}

impl<Req, Resp> fmt::Debug for ChannelTransport<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelTransport").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
