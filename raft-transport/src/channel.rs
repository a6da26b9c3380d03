//! [`ChannelTransport`]: the in-process backend, for tests and single-process
//! clusters.

use std::fmt;
use std::sync::Arc;

use raft_log::NodeId;

use crate::{CallError, Handler, Message, ReplyCallback, Transport, TransportError};

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
///   whose handler returns `None`, fails with [`CallError::Unavailable`];
/// - a call whose reply does not come within
///   [`TransportConfig::call_timeout`](crate::TransportConfig::call_timeout)
///   fails with [`CallError::TimedOut`];
/// - handlers run on the callee's worker threads, reply callbacks on the
///   callee's worker threads (replies) or the caller's reaper thread (failures).
///
/// Threads: one reaper thread per transport, started by
/// [`ChannelNetwork::transport`], and up to
/// [`TransportConfig::handler_threads`](crate::TransportConfig::handler_threads)
/// handler threads, started as requests arrive.
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
        let answer = move |reply: Option<Resp>| {
            if network.can_reply(&caller, &answered_by) {
                caller.pending.complete(id, reply.ok_or(CallError::Unavailable(to)));
            }
        };
        if callee.dispatcher.dispatch(request, answer).is_err() {
            self.endpoint.pending.fail(id, CallError::Unavailable(to));
        }
    }

    fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError> {
        self.endpoint.dispatcher.serve(handler)
    }

    fn shutdown(&self) {
        self.stop();
    }
}

impl<Req, Resp> ChannelTransport<Req, Resp> {
    /// Leaves the network (failing calls in flight to this node), fails this
    /// node's pending calls with [`CallError::Shutdown`] and ends its threads.
    fn stop(&self) {
        self.network.leave(&self.endpoint);
        self.endpoint.pending.close();
        self.endpoint.dispatcher.close();
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
