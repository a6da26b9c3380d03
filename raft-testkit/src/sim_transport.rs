//! [`SimTransport`]: a `raft-transport` backend that carries one node's RPCs over the simulated [`Network`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use raft_log::NodeId;
use raft_transport::{
    CallError, Handler, Message, ReplyCallback, Responder, Transport, TransportError,
};

use crate::network::{Network, Service};

/// One node's [`Transport`] over a [`Network`], as a lab Raft sees its peers
/// through labrpc ends.
///
/// - A call to peer `p` encodes the request with postcard (those bytes are what
///   [`Network::total_bytes`] counts) and sends it through this node's end
///   towards `p`. A lost call (labrpc's `false`) reports
///   [`CallError::Unreachable`]; a reply that does not decode,
///   [`CallError::Undecodable`]; a peer without an end, `Unreachable` too.
///   Every call ends, because the network ends every call, so there is no
///   per-call deadline.
/// - [`serve`](Transport::serve) registers this node's server name on the
///   network ([`Network::add_server`]): a new server object, so its count starts
///   at 0 and earlier incarnations are dead. The handler runs on the network's
///   handler thread, which then waits for the responder's answer, as a labrpc
///   handler returns its reply; a refused or dropped responder, and a request
///   that does not decode, get no answer.
/// - [`shutdown`](Transport::shutdown) fails pending calls with
///   [`CallError::Shutdown`] (each callback still runs once only: a reply that
///   comes later is dropped), fails later calls the same way, and makes the
///   server give no answer. The server stays registered; killing it on the
///   network is the tester's business ([`Network::delete_server`]).
///
/// Callbacks run on the network's threads, never inside
/// [`call`](Transport::call).
pub struct SimTransport {
    network: Network,
    local: NodeId,
    server: String,
    /// This node's end towards each peer.
    ends: HashMap<NodeId, String>,
    shared: Arc<Shared>,
}

/// What the transport and the callbacks it hands to the network share.
struct Shared {
    state: Mutex<State>,
}

/// The decoding half of a pending call: turns the network's outcome into the
/// caller's reply and runs its callback.
type Pending = Box<dyn FnOnce(Result<Vec<u8>, CallError>) + Send + 'static>;

struct State {
    shut_down: bool,
    /// The byte-level handler while serving; `None` before `serve` and after
    /// `shutdown`.
    service: Option<Service>,
    served: bool,
    /// Calls whose outcome has not reached the caller, by call number.
    /// Invariant: empty once `shut_down`.
    pending: HashMap<u64, Pending>,
    next_call: u64,
}

impl SimTransport {
    /// The transport of node `local`, whose server name on `network` is `server`
    /// and whose end towards each peer is named in `ends`. The ends must exist
    /// already (made with [`Network::make_end`] and connected by the tester).
    #[must_use]
    pub fn new(
        network: &Network,
        local: NodeId,
        server: &str,
        ends: Vec<(NodeId, String)>,
    ) -> SimTransport {
        SimTransport {
            network: network.clone(),
            local,
            server: server.to_owned(),
            ends: ends.into_iter().collect(),
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    shut_down: false,
                    service: None,
                    served: false,
                    pending: HashMap::new(),
                    next_call: 0,
                }),
            }),
        }
    }

    /// Runs `on_reply` with `error` on a network thread.
    fn fail_soon<Resp: Message>(&self, on_reply: ReplyCallback<Resp>, error: CallError) {
        self.network.defer(move || on_reply(Err(error)));
    }
}

impl<Req: Message, Resp: Message> Transport<Req, Resp> for SimTransport {
    fn local_id(&self) -> NodeId {
        self.local
    }

    fn call(&self, to: NodeId, request: Req, on_reply: ReplyCallback<Resp>) {
        if self.shared.lock().shut_down {
            return self.fail_soon(on_reply, CallError::Shutdown);
        }
        let Some(end) = self.ends.get(&to) else {
            return self.fail_soon(on_reply, CallError::Unreachable(to));
        };
        let bytes = match postcard::to_stdvec(&request) {
            Ok(bytes) => bytes,
            Err(error) => {
                let reason = error.to_string();
                return self.fail_soon(on_reply, CallError::Unsendable { peer: to, reason });
            }
        };
        let decode: Pending = Box::new(move |outcome| {
            on_reply(outcome.and_then(|reply| {
                postcard::from_bytes::<Resp>(&reply)
                    .map_err(|error| CallError::Undecodable { peer: to, reason: error.to_string() })
            }));
        });

        let id = {
            let mut state = self.shared.lock();
            if state.shut_down {
                drop(state);
                self.network.defer(move || decode(Err(CallError::Shutdown)));
                return;
            }
            let id = state.next_call;
            state.next_call += 1;
            state.pending.insert(id, decode);
            id
        };
        let shared = Arc::clone(&self.shared);
        self.network.call(
            end,
            bytes,
            Box::new(move |reply| {
                // Absent: shutdown has answered this call already.
                let pending = shared.lock().pending.remove(&id);
                if let Some(pending) = pending {
                    pending(reply.ok_or(CallError::Unreachable(to)));
                }
            }),
        );
    }

    fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError> {
        let typed = Service::new(move |request| {
            let request = postcard::from_bytes::<Req>(&request).ok()?;
            let (answer, answered) = crossbeam_channel::bounded(1);
            handler.handle(
                request,
                Responder::new(move |reply: Option<Resp>| {
                    let _ = answer.send(reply);
                }),
            );
            let reply = answered.recv().ok().flatten()?;
            postcard::to_stdvec(&reply).ok()
        });
        {
            let mut state = self.shared.lock();
            if state.shut_down {
                return Err(TransportError::Shutdown);
            }
            if state.served {
                return Err(TransportError::AlreadyServing);
            }
            state.served = true;
            state.service = Some(typed);
        }
        let shared = Arc::clone(&self.shared);
        self.network.add_server(
            &self.server,
            Service::new(move |request| {
                // Cloned out so the handler runs without the lock.
                let service = shared.lock().service.clone()?;
                service.handle(request)
            }),
        );
        Ok(())
    }

    fn shutdown(&self) {
        let pending = {
            let mut state = self.shared.lock();
            state.shut_down = true;
            state.service = None;
            std::mem::take(&mut state.pending)
        };
        if pending.is_empty() {
            return;
        }
        tracing::debug!(node = %self.local, calls = pending.len(), "failing pending calls at shutdown");
        self.network.defer(move || {
            for decode in pending.into_values() {
                decode(Err(CallError::Shutdown));
            }
        });
    }
}

impl fmt::Debug for SimTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("SimTransport")
            .field("local", &self.local)
            .field("server", &self.server)
            .field("ends", &self.ends)
            .field("serving", &state.service.is_some())
            .field("shut_down", &state.shut_down)
            .field("pending", &state.pending.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Callbacks and handlers run outside the lock, so a poisoned lock still
        // holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
