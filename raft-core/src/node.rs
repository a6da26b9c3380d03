//! [`Node`]: the driver that runs the protocol core on threads, over a
//! persister and a transport, and its [`NodeBuilder`].

mod applier;
mod driver;
mod event;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::{Sender, bounded, unbounded};
use raft_log::{Index, NodeId, Term};
use raft_persist::Persister;
use raft_transport::{Handler, Responder, Transport};

use self::driver::Driver;
use self::event::Event;
use crate::raft::Raft;
use crate::{Applied, Config, NodeError, ProposeError, Request, Response, Role, Status};

/// The receiving end of a node's apply channel.
///
/// The channel is a rendezvous: each item waits until the service takes it.
/// Items the node commits meanwhile wait in the node's applier queue, which is
/// unbounded, so a service that stops reading while the cluster keeps
/// committing makes that queue grow. The channel closes when the node shuts
/// down.
pub type ApplyReceiver = crossbeam_channel::Receiver<Applied>;

/// Where a proposal will sit if it commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The index the entry occupies.
    pub index: Index,
    /// The leader's term when it accepted the entry.
    pub term: Term,
}

/// A handle on a running Raft node. Clones share the node; when the last one
/// is dropped, the node shuts down.
///
/// The node runs two threads of its own: the event loop, which owns the
/// protocol core, the persister and the sending side of the transport, and
/// the applier, which hands committed entries to the service. Every method
/// here is safe to call from any thread, including the one that reads the
/// apply channel.
#[derive(Clone, Debug)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    id: NodeId,
    events: Sender<Event>,
    status: Arc<Mutex<Status>>,
    stopped: Arc<AtomicBool>,
    /// Dropped at shutdown, which wakes both threads.
    stop: Mutex<Option<Sender<()>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    persister: Arc<dyn Persister>,
    transport: Arc<dyn Transport<Request, Response>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Builds and starts a [`Node`].
pub struct NodeBuilder {
    config: Config,
    persister: Option<Arc<dyn Persister>>,
    transport: Option<Arc<dyn Transport<Request, Response>>>,
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Node {
    /// Starts building a node with `config`.
    pub fn builder(config: Config) -> NodeBuilder {
        NodeBuilder { config, persister: None, transport: None }
    }

    /// This node's identity.
    pub fn id(&self) -> NodeId {
        self.inner.id
    }

    /// Proposes a command. Returns as soon as the leader has stored it, with
    /// where the entry will sit if it commits; the entry reaches the apply
    /// channel once committed. An accepted proposal may still be lost if the
    /// leader loses its place before the entry commits.
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`] on a follower or candidate,
    /// [`ProposeError::Shutdown`] after shutdown.
    pub fn propose(&self, data: impl Into<Vec<u8>>) -> Result<Proposal, ProposeError> {
        if self.inner.is_stopped() {
            return Err(ProposeError::Shutdown);
        }
        let (reply, answer) = bounded(1);
        self.inner
            .events
            .send(Event::Propose { data: data.into(), reply })
            .map_err(|_| ProposeError::Shutdown)?;
        answer.recv().unwrap_or(Err(ProposeError::Shutdown))
    }

    /// The current term and whether this node believes it is the leader.
    pub fn state(&self) -> (Term, bool) {
        let status = self.status();
        (status.term, status.role == Role::Leader)
    }

    /// A fuller view of the node's state, as of its last durable step. A
    /// stopped node reports itself a follower that knows no leader.
    pub fn status(&self) -> Status {
        let mut status = self.inner.status.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if self.inner.is_stopped() {
            status.role = Role::Follower;
            status.leader = None;
        }
        status
    }

    /// Tells the node that the service's `data` holds everything through
    /// `index`, so the log up to there can be discarded (Raft §7). A snapshot
    /// at or before the node's current one is ignored. Safe to call from the
    /// thread that reads the apply channel.
    ///
    /// # Errors
    /// [`NodeError::SnapshotPastApplied`] if `index` was not yet applied,
    /// [`NodeError::Shutdown`] after shutdown.
    pub fn snapshot(&self, index: Index, data: Vec<u8>) -> Result<(), NodeError> {
        if self.inner.is_stopped() {
            return Err(NodeError::Shutdown);
        }
        let (reply, answer) = bounded(1);
        self.inner
            .events
            .send(Event::Snapshot { index, data, reply })
            .map_err(|_| NodeError::Shutdown)?;
        answer.recv().unwrap_or(Err(NodeError::Shutdown))
    }

    /// The bytes the persisted raft state takes (the lab's `PersistBytes()`).
    pub fn persisted_size(&self) -> u64 {
        self.inner.persister.raft_state_size()
    }

    /// Whether the node has stopped (by [`shutdown`](Self::shutdown) or
    /// because its persister failed).
    pub fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }

    /// Stops the node: after it returns, the node sends nothing, applies
    /// nothing and persists nothing, and the apply channel is closed.
    /// Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }
}

impl Inner {
    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn shutdown(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        drop(self.stop.lock().unwrap_or_else(PoisonError::into_inner).take());
        self.transport.shutdown();
        // Joined under the lock, so a concurrent caller returns only once the
        // threads are gone too.
        let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        let current = std::thread::current().id();
        for thread in threads.drain(..) {
            if thread.thread().id() != current {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl NodeBuilder {
    /// The persister holding this node's durable state.
    pub fn persister(mut self, persister: impl Persister) -> NodeBuilder {
        self.persister = Some(Arc::new(persister));
        self
    }

    /// The transport connecting this node to its peers.
    pub fn transport(mut self, transport: impl Transport<Request, Response>) -> NodeBuilder {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Loads the persisted state, starts the node's threads and serves the
    /// transport. Returns the node and its apply channel. If the persister
    /// holds a snapshot, it is the first item on the channel.
    ///
    /// # Errors
    /// [`NodeError::Config`], [`NodeError::Missing`], [`NodeError::Persist`],
    /// [`NodeError::InconsistentState`], [`NodeError::Spawn`],
    /// [`NodeError::Transport`].
    pub fn start(self) -> Result<(Node, ApplyReceiver), NodeError> {
        let persister = self.persister.ok_or(NodeError::Missing("persister"))?;
        let transport = self.transport.ok_or(NodeError::Missing("transport"))?;
        let state = persister.load().map_err(NodeError::Persist)?;
        let id = self.config.id;
        let tick_interval = self.config.tick_interval;
        let raft = Raft::new(self.config, state)?;

        let status = Arc::new(Mutex::new(raft.status()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (events_sender, events) = unbounded();
        let (stop_sender, stop) = bounded::<()>(0);
        let (queue_sender, queue) = unbounded();
        let (service_sender, service) = bounded(0);

        let driver = Driver {
            raft,
            persister: Arc::clone(&persister),
            transport: Arc::clone(&transport),
            events_sender: events_sender.clone(),
            events,
            stop: stop.clone(),
            stopped: Arc::clone(&stopped),
            applied: queue_sender,
            status: Arc::clone(&status),
            tick_interval,
        };
        let driver_thread = std::thread::Builder::new()
            .name(format!("raft-node-{id}"))
            .spawn(move || driver.run())
            .map_err(NodeError::Spawn)?;
        let applier_thread = std::thread::Builder::new()
            .name(format!("raft-apply-{id}"))
            .spawn(move || applier::run(queue, service_sender, stop))
            .map_err(NodeError::Spawn)?;

        let inner = Arc::new(Inner {
            id,
            events: events_sender.clone(),
            status,
            stopped: Arc::clone(&stopped),
            stop: Mutex::new(Some(stop_sender)),
            threads: Mutex::new(vec![driver_thread, applier_thread]),
            persister,
            transport: Arc::clone(&transport),
        });
        let handler = RequestHandler { events: events_sender, stopped };
        transport.serve(Arc::new(handler)).map_err(NodeError::Transport)?;
        Ok((Node { inner }, service))
    }
}

/// The transport's way into the event loop: each request is queued there with
/// its responder, which the loop answers once the state it depends on is
/// durable.
struct RequestHandler {
    events: Sender<Event>,
    stopped: Arc<AtomicBool>,
}

impl Handler<Request, Response> for RequestHandler {
    fn handle(&self, request: Request, responder: Responder<Response>) {
        if self.stopped.load(Ordering::SeqCst) {
            return responder.refuse();
        }
        // A loop that has ended drops the event, and the responder refuses.
        let _ = self.events.send(Event::Request { request, reply: responder });
    }
}
