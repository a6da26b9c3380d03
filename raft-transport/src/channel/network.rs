//! [`ChannelNetwork`]: the in-process hub that connects [`ChannelTransport`]s and
//! can cut nodes off.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use raft_log::NodeId;

use crate::channel::ChannelTransport;
use crate::dispatch::Dispatcher;
use crate::pending::PendingCalls;
use crate::threads::lock;
use crate::{Message, TransportConfig, TransportError};

/// An in-process network between numbered nodes: each node gets its
/// [`ChannelTransport`] from it with [`transport`](Self::transport), and tests
/// can take nodes off it and bring them back with
/// [`disconnect`](Self::disconnect) and [`connect`](Self::connect).
///
/// A node is reachable from another when both are connected and both have a
/// live transport. A call that cannot reach its peer fails at once with
/// [`CallError::Unreachable`](crate::CallError::Unreachable); a call already in
/// flight when either end is cut off or shut down fails the same way, and its
/// reply, should the handler still answer, is dropped.
///
/// Clones share the network.
pub struct ChannelNetwork<Req, Resp> {
    inner: Arc<Inner<Req, Resp>>,
}

struct Inner<Req, Resp> {
    config: TransportConfig,
    state: Mutex<State<Req, Resp>>,
}

struct State<Req, Resp> {
    /// The live transport of each node, the latest one made for its id.
    endpoints: HashMap<NodeId, Arc<Endpoint<Req, Resp>>>,
    /// Nodes cut off by [`ChannelNetwork::disconnect`]; independent of whether
    /// they have a transport, so a restarted node stays cut off.
    disconnected: HashSet<NodeId>,
}

/// One node's place on the network: what its transport and the network share.
pub(crate) struct Endpoint<Req, Resp> {
    pub(crate) id: NodeId,
    pub(crate) dispatcher: Dispatcher<Req, Resp>,
    pub(crate) pending: PendingCalls<Resp>,
}

impl<Req: Message, Resp: Message> ChannelNetwork<Req, Resp> {
    /// A network whose transports use [`TransportConfig::default`]: calls time
    /// out after 1 s.
    #[must_use]
    pub fn new() -> ChannelNetwork<Req, Resp> {
        ChannelNetwork::from_valid_config(TransportConfig::default())
    }

    /// A network whose transports use `config`.
    ///
    /// # Errors
    /// [`TransportError::InvalidConfig`] if `config` is out of range.
    pub fn with_config(
        config: TransportConfig,
    ) -> Result<ChannelNetwork<Req, Resp>, TransportError> {
        config.validate()?;
        Ok(ChannelNetwork::from_valid_config(config))
    }

    fn from_valid_config(config: TransportConfig) -> ChannelNetwork<Req, Resp> {
        let state = State { endpoints: HashMap::new(), disconnected: HashSet::new() };
        ChannelNetwork { inner: Arc::new(Inner { config, state: Mutex::new(state) }) }
    }

    /// The settings every transport of this network uses.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// Makes node `id`'s transport. It can call at once; it answers calls once
    /// it [serves](crate::Transport::serve) (before that, callers get
    /// [`CallError::Unavailable`](crate::CallError::Unavailable)).
    ///
    /// A node restarts by shutting its old transport down and making a new one
    /// with the same id. Should the old one still be live, it is replaced: it
    /// can no longer reach or be reached, and calls in flight to or from it
    /// fail with [`CallError::Unreachable`](crate::CallError::Unreachable).
    ///
    /// # Errors
    /// [`TransportError::Io`] if the transport's thread cannot be started.
    pub fn transport(&self, id: NodeId) -> Result<ChannelTransport<Req, Resp>, TransportError> {
        let pending = PendingCalls::start(
            format!("raft-channel-{id}-reaper"),
            self.inner.config.call_timeout,
        )
        .map_err(|source| TransportError::Io {
            op: format!("starting node {id}'s reaper thread"),
            source,
        })?;
        let endpoint = Arc::new(Endpoint { id, dispatcher: Dispatcher::new(), pending });
        let replaced = self.lock().endpoints.insert(id, Arc::clone(&endpoint));
        if let Some(old) = replaced {
            old.pending.fail_unreachable(|_| true);
            self.fail_calls_to(id);
        }
        Ok(ChannelTransport::new(self.clone(), endpoint))
    }

    /// Cuts node `id` off: calls to and from it fail with
    /// [`CallError::Unreachable`](crate::CallError::Unreachable), including those
    /// in flight, until [`connect`](Self::connect). Applies to any transport
    /// the node has now or gets later.
    pub fn disconnect(&self, id: NodeId) {
        if !self.lock().disconnected.insert(id) {
            return;
        }
        for endpoint in self.endpoints() {
            if endpoint.id == id {
                endpoint.pending.fail_unreachable(|_| true);
            } else {
                endpoint.pending.fail_unreachable(|peer| peer == id);
            }
        }
    }

    /// Brings node `id` back after [`disconnect`](Self::disconnect); calls made
    /// from now on reach it again. Calls that failed stay failed.
    pub fn connect(&self, id: NodeId) {
        self.lock().disconnected.remove(&id);
    }

    /// Whether node `id` is connected (it has not been cut off). Says nothing
    /// about whether it has a live transport.
    pub fn is_connected(&self, id: NodeId) -> bool {
        !self.lock().disconnected.contains(&id)
    }

    /// The transport a call from `from` to `to` goes to, if `to` is reachable
    /// from `from` now.
    pub(crate) fn route(
        &self,
        from: &Arc<Endpoint<Req, Resp>>,
        to: NodeId,
    ) -> Option<Arc<Endpoint<Req, Resp>>> {
        let state = self.lock();
        let target = state.endpoints.get(&to)?;
        state.reachable(from, target).then(|| Arc::clone(target))
    }

    /// Whether a reply from `callee` may still reach `caller`.
    pub(crate) fn can_reply(
        &self,
        caller: &Arc<Endpoint<Req, Resp>>,
        callee: &Arc<Endpoint<Req, Resp>>,
    ) -> bool {
        self.lock().reachable(caller, callee)
    }
}

impl<Req, Resp> ChannelNetwork<Req, Resp> {
    /// Takes `endpoint` off the network (its transport is shutting down) and
    /// fails the calls other nodes have in flight to it. Does nothing if it was
    /// replaced or has left already.
    pub(crate) fn leave(&self, endpoint: &Arc<Endpoint<Req, Resp>>) {
        let left = {
            let mut state = self.lock();
            let current =
                state.endpoints.get(&endpoint.id).is_some_and(|live| Arc::ptr_eq(live, endpoint));
            if current {
                state.endpoints.remove(&endpoint.id);
            }
            current
        };
        if left {
            self.fail_calls_to(endpoint.id);
        }
    }

    /// Fails every call in flight to node `id` with `Unreachable`.
    fn fail_calls_to(&self, id: NodeId) {
        for endpoint in self.endpoints() {
            endpoint.pending.fail_unreachable(|peer| peer == id);
        }
    }

    fn endpoints(&self) -> Vec<Arc<Endpoint<Req, Resp>>> {
        self.lock().endpoints.values().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, State<Req, Resp>> {
        lock(&self.inner.state)
    }
}

impl<Req, Resp> State<Req, Resp> {
    /// Both ends connected and both the live transports of their ids.
    fn reachable(&self, a: &Arc<Endpoint<Req, Resp>>, b: &Arc<Endpoint<Req, Resp>>) -> bool {
        let live = |end: &Arc<Endpoint<Req, Resp>>| {
            !self.disconnected.contains(&end.id)
                && self.endpoints.get(&end.id).is_some_and(|current| Arc::ptr_eq(current, end))
        };
        live(a) && live(b)
    }
}

impl<Req: Message, Resp: Message> Default for ChannelNetwork<Req, Resp> {
    fn default() -> ChannelNetwork<Req, Resp> {
        ChannelNetwork::new()
    }
}

impl<Req, Resp> Clone for ChannelNetwork<Req, Resp> {
    fn clone(&self) -> ChannelNetwork<Req, Resp> {
        ChannelNetwork { inner: Arc::clone(&self.inner) }
    }
}

impl<Req, Resp> fmt::Debug for ChannelNetwork<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner.state);
        let mut nodes: Vec<NodeId> = state.endpoints.keys().copied().collect();
        nodes.sort();
        let mut disconnected: Vec<NodeId> = state.disconnected.iter().copied().collect();
        disconnected.sort();
        f.debug_struct("ChannelNetwork")
            .field("config", &self.inner.config)
            .field("nodes", &nodes)
            .field("disconnected", &disconnected)
            .finish()
    }
}

impl<Req, Resp> fmt::Debug for Endpoint<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("dispatcher", &self.dispatcher)
            .field("pending", &self.pending)
            .finish()
    }
}
