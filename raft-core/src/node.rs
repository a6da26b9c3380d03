//! [`Node`]: the batteries-included driver that runs the protocol core on a
//! thread, over a persister and a transport, and its [`NodeBuilder`].

mod apply;
mod deadline;
mod driver;
mod event;
mod mailbox;
mod oneshot;
mod proposal;
mod read;
mod stop;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use bytes::Bytes;
use crossbeam_channel::bounded;
use raft_log::{NodeId, Term};
use raft_persist::Persister;
use raft_transport::{Handler, Responder, Transport};

pub use self::apply::{ApplyReceiver, RecvError, RecvTimeoutError, TryRecvError};
use self::driver::{Driver, Published};
use self::event::Event;
use self::mailbox::Mailbox;
use self::proposal::Slot;
pub use self::proposal::{Proposal, ProposalError, ProposalHandle};
pub use self::read::ReadHandle;
use self::read::ReadSlot;
use self::stop::Stop;
pub use self::stop::StopReason;
use crate::raft::charged_bytes;
use crate::{
    Config, NodeError, ProposeError, Raft, ReadError, Request, Response, Role, Status,
    TransferError,
};

/// A handle on a running Raft node. Clones share the node; when the last one
/// is dropped, the node shuts down.
///
/// The node runs one thread of its own, the event loop, which owns the
/// protocol core ([`Raft`]), the persister and the sending side of the
/// transport. Every method here is safe to call from any thread, including
/// the one that reads the [`ApplyReceiver`], and none waits on the network or
/// the disk except [`snapshot`](Self::snapshot), which waits for the loop.
#[derive(Clone, Debug)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    id: NodeId,
    max_bytes_per_append: u64,
    /// The event loop's queue; closed at shutdown, which wakes the loop.
    events: Arc<Mailbox<Event>>,
    published: Arc<Published>,
    stop: Arc<Stop>,
    thread: Mutex<Option<JoinHandle<()>>>,
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

    /// Proposes a command. Returns at once with a handle that resolves once
    /// the command commits (or is lost); the command reaches the apply side
    /// once committed. Commands proposed while the loop is busy go to the
    /// followers together, in one AppendEntries each.
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`] (with the leader this node knows of) unless
    /// this node leads, [`ProposeError::TooLarge`] for a command over
    /// [`Config::max_bytes_per_append`], [`ProposeError::Busy`] when the
    /// leader holds as many uncommitted entries as it may,
    /// [`ProposeError::Shutdown`] once stopped. Leadership can move after the
    /// check; the handle then resolves to [`ProposalError::Refused`].
    pub fn propose(&self, data: impl Into<Bytes>) -> Result<ProposalHandle, ProposeError> {
        let data = data.into();
        self.inner.check_proposal(&data)?;
        let slot = Slot::new();
        self.inner.send(Event::Propose(vec![(data, Arc::clone(&slot))]))?;
        Ok(ProposalHandle::new(slot))
    }

    /// Proposes several commands at once, in order, with one handle each.
    ///
    /// # Errors
    /// As [`propose`](Self::propose), for the first command that fails the
    /// checks; then none is proposed.
    pub fn propose_batch<I>(&self, commands: I) -> Result<Vec<ProposalHandle>, ProposeError>
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
    {
        let mut batch = Vec::new();
        let mut handles = Vec::new();
        for data in commands {
            let data = data.into();
            self.inner.check_proposal(&data)?;
            let slot = Slot::new();
            handles.push(ProposalHandle::new(Arc::clone(&slot)));
            batch.push((data, slot));
        }
        if !batch.is_empty() {
            self.inner.send(Event::Propose(batch))?;
        }
        Ok(handles)
    }

    /// The current term and whether this node believes it is the leader.
    pub fn state(&self) -> (Term, bool) {
        let status = self.status();
        (status.term, status.role == Role::Leader)
    }

    /// A fuller view of the node's state, as of the end of the event loop's
    /// last turn. A stopped node reports itself a follower that knows no
    /// leader.
    pub fn status(&self) -> Status {
        let mut status =
            self.inner.published.status.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if self.inner.stop.is_stopped() {
            status.role = Role::Follower;
            status.leader = None;
            status.progress.clear();
        }
        status
    }

    /// Tells the node that the service's `data` holds everything through
    /// `index`, so the log up to there can be discarded (Raft §7). A snapshot
    /// at or before the node's current one is ignored. Safe to call from the
    /// thread that reads the apply side.
    ///
    /// # Errors
    /// [`NodeError::SnapshotPastApplied`] if `index` was not yet handed to
    /// the apply side, [`NodeError::Shutdown`] once stopped.
    pub fn snapshot(&self, index: raft_log::Index, data: Vec<u8>) -> Result<(), NodeError> {
        if self.inner.stop.is_stopped() {
            return Err(NodeError::Shutdown);
        }
        let (reply, answer) = bounded(1);
        if !self.inner.events.push(Event::Snapshot { index, data, reply }) {
            return Err(NodeError::Shutdown);
        }
        answer.recv().unwrap_or(Err(NodeError::Shutdown))
    }

    /// Asks for a linearizable read's index (ReadIndex, thesis §6.4) without
    /// writing to the log: once the service has applied through the index
    /// the handle resolves to, its state reflects every write acknowledged
    /// before this call. On a follower the read is forwarded to the leader.
    /// Never blocks; the handle resolves to an error once the node stops.
    /// See [`Raft::read_index`] for when the leader confirms it.
    pub fn read_index(&self) -> ReadHandle {
        self.read_index_batch(1).pop().expect("one handle for one read")
    }

    /// Asks for `count` read indices at once; reads that reach the leader
    /// together share one heartbeat round.
    pub fn read_index_batch(&self, count: usize) -> Vec<ReadHandle> {
        let slots: Vec<Arc<ReadSlot>> = (0..count).map(|_| Arc::new(ReadSlot::new())).collect();
        let handles = slots.iter().map(|slot| ReadHandle::new(Arc::clone(slot))).collect();
        if self.inner.stop.is_stopped() || !self.inner.events.push(Event::Read(slots.clone())) {
            for slot in slots {
                slot.set(Err(ReadError::Shutdown));
            }
        }
        handles
    }

    /// Hands the lead to `to` (thesis §3.10); see
    /// [`Raft::transfer_leadership`]. Returns once the event loop has taken
    /// the request in; watch [`Status::transfer`] and [`Status::leader`] for
    /// how it ends.
    ///
    /// # Errors
    /// [`TransferError::NotLeader`], [`TransferError::UnknownPeer`], or
    /// [`TransferError::Shutdown`] once stopped.
    pub fn transfer_leadership(&self, to: NodeId) -> Result<(), TransferError> {
        if self.inner.stop.is_stopped() {
            return Err(TransferError::Shutdown);
        }
        let (reply, answer) = bounded(1);
        if !self.inner.events.push(Event::Transfer { to, reply }) {
            return Err(TransferError::Shutdown);
        }
        answer.recv().unwrap_or(Err(TransferError::Shutdown))
    }

    /// The bytes the persisted raft state takes (the lab's `PersistBytes()`).
    pub fn persisted_size(&self) -> u64 {
        self.inner.persister.raft_state_size()
    }

    /// Whether the node has stopped (by [`shutdown`](Self::shutdown) or on a
    /// failure).
    pub fn is_stopped(&self) -> bool {
        self.inner.stop.is_stopped()
    }

    /// Why the node stopped; `None` while it runs.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.inner.stop.reason()
    }

    /// Stops the node: after it returns, the node sends nothing, applies
    /// nothing and persists nothing, the apply side delivers nothing more,
    /// and every unresolved proposal resolves to [`ProposalError::Stopped`].
    /// Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }
}

impl Inner {
    /// The checks a proposal passes before it goes to the loop.
    fn check_proposal(&self, data: &[u8]) -> Result<(), ProposeError> {
        if self.stop.is_stopped() {
            return Err(ProposeError::Shutdown);
        }
        let size = charged_bytes(data);
        if size > self.max_bytes_per_append {
            return Err(ProposeError::TooLarge { size, limit: self.max_bytes_per_append });
        }
        if !self.published.leading.load(Ordering::SeqCst) {
            let status = self.published.status.lock().unwrap_or_else(PoisonError::into_inner);
            return Err(ProposeError::NotLeader { leader_hint: status.leader });
        }
        if self.published.busy.load(Ordering::SeqCst) {
            return Err(ProposeError::Busy);
        }
        Ok(())
    }

    fn send(&self, event: Event) -> Result<(), ProposeError> {
        if self.events.push(event) { Ok(()) } else { Err(ProposeError::Shutdown) }
    }

    fn shutdown(&self) {
        self.stop.stop(StopReason::Shutdown);
        self.events.close();
        self.transport.shutdown();
        // Joined under the lock, so a concurrent caller returns only once the
        // thread is gone too.
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = thread.take()
            && handle.thread().id() != std::thread::current().id()
        {
            let _ = handle.join();
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

    /// Loads the persisted state, starts the event loop and serves the
    /// transport. Returns the node and its apply side. If the persister holds
    /// a snapshot, it is the first item applied.
    ///
    /// # Errors
    /// [`NodeError::Config`], [`NodeError::Missing`], [`NodeError::Persist`],
    /// [`NodeError::InconsistentState`], [`NodeError::Spawn`],
    /// [`NodeError::Transport`].
    pub fn start(self) -> Result<(Node, ApplyReceiver), NodeError> {
        let persister = self.persister.ok_or(NodeError::Missing("persister"))?;
        let transport = self.transport.ok_or(NodeError::Missing("transport"))?;
        check_fits(&self.config, transport.max_message_size())?;
        let state = persister.load().map_err(NodeError::Persist)?;
        let id = self.config.id;
        let tick_interval = self.config.tick_interval;
        let max_bytes_per_append = self.config.max_bytes_per_append;
        let raft = Raft::new(self.config, state)?;

        let published = Arc::new(Published {
            status: Mutex::new(raft.status()),
            leading: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        });
        let stop = Arc::new(Stop::default());
        let events = Arc::new(Mailbox::new());
        let applied = Arc::new(Mailbox::new());

        let driver = Driver {
            raft,
            persister: Arc::clone(&persister),
            transport: Arc::clone(&transport),
            events: Arc::clone(&events),
            stop: Arc::clone(&stop),
            applied: Arc::clone(&applied),
            published: Arc::clone(&published),
            tick_interval,
            answers: HashMap::new(),
            next_request: 0,
            proposals: VecDeque::new(),
            reads: HashMap::new(),
            next_read: 0,
            unsendable: 0,
        };
        let thread = std::thread::Builder::new()
            .name(format!("raft-node-{id}"))
            .spawn(move || driver.run())
            .map_err(NodeError::Spawn)?;

        let inner = Arc::new(Inner {
            id,
            max_bytes_per_append,
            events: Arc::clone(&events),
            published,
            stop: Arc::clone(&stop),
            thread: Mutex::new(Some(thread)),
            persister,
            transport: Arc::clone(&transport),
        });
        let receiver = ApplyReceiver::new(applied, stop.flag());
        let handler = RequestHandler { events, stop };
        transport.serve(Arc::new(handler)).map_err(NodeError::Transport)?;
        Ok((Node { inner }, receiver))
    }
}

/// Checks that the largest AppendEntries the node may send fits in the
/// transport's largest message: `max_bytes_per_append` of entries, plus the
/// request's own fields.
fn check_fits(config: &Config, max_message_size: Option<u64>) -> Result<(), NodeError> {
    /// An AppendEntries' fields besides its entries, encoded, with room to spare.
    const APPEND_OVERHEAD_BYTES: u64 = 64;
    match max_message_size {
        Some(max_message_size)
            if config.max_bytes_per_append + APPEND_OVERHEAD_BYTES > max_message_size =>
        {
            Err(NodeError::AppendTooLargeForTransport {
                max_bytes_per_append: config.max_bytes_per_append,
                max_message_size,
            })
        }
        _ => Ok(()),
    }
}

/// The transport's way into the event loop: each request is queued with the
/// means to answer it, which the loop uses once the state the answer depends
/// on is durable.
struct RequestHandler {
    events: Arc<Mailbox<Event>>,
    stop: Arc<Stop>,
}

impl Handler<Request, Response> for RequestHandler {
    fn handle(&self, request: Request, responder: Responder<Response>) {
        if self.stop.is_stopped() {
            return responder.refuse();
        }
        // A loop that has ended drops the event, and the responder refuses.
        self.events.push(Event::Request { request, answer: responder });
    }
}
