//! [`Rsm`]: a node, the state machine it replicates, and the thread that
//! applies committed commands to it.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, bounded};
use raft_core::{Index, Node, NodeBuilder, ProposalError, ProposeError, ReadError};

use crate::answers::{AnswerSlot, Answers, Claim};
use crate::applied::{AppliedIndex, Reached};
use crate::applier::Applier;
use crate::{RsmConfig, StartError, StateMachine, SubmitError};

/// A replicated state machine: a Raft [`Node`] and the service state it
/// keeps in step on every node (the lab's `rsm`).
///
/// [`submit`](Self::submit) proposes a command and waits until it has
/// committed and been applied here, then returns the state machine's answer.
/// [`read`](Self::read) reads the state machine linearizably without writing
/// to the log (ReadIndex); [`read_local`](Self::read_local) reads whatever
/// this node has applied.
/// A thread of the `Rsm`'s own applies every committed command in log order,
/// restores snapshots, and snapshots the state machine once the persisted
/// Raft state reaches [`RsmConfig::max_raft_state`]. Submits cost no thread of
/// their own: any number may wait at once.
///
/// Clones share the state machine. Dropping the last clone shuts it down.
pub struct Rsm<S: StateMachine> {
    inner: Arc<Inner<S>>,
}

pub(crate) struct Inner<S: StateMachine> {
    pub(crate) node: Node,
    pub(crate) config: RsmConfig,
    pub(crate) machine: Mutex<S>,
    pub(crate) answers: Mutex<Answers<S::Output>>,
    /// The last index applied to `machine` (command, no-op or snapshot).
    applied: AppliedIndex,
    applier: Mutex<Option<JoinHandle<()>>>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts the node `builder` describes and replicates `machine` over it.
    /// A node restarting from a snapshot restores it first, then replays the
    /// log after it.
    ///
    /// # Errors
    /// [`StartError::Node`] if the node does not start, [`StartError::Spawn`]
    /// if the applier thread does not.
    pub fn start(
        builder: NodeBuilder,
        machine: S,
        config: RsmConfig,
    ) -> Result<Rsm<S>, StartError> {
        let (node, applied) = builder.start().map_err(StartError::Node)?;
        let inner = Arc::new(Inner {
            node: node.clone(),
            answers: Mutex::new(Answers::new(config.unclaimed_answers)),
            config,
            machine: Mutex::new(machine),
            applied: AppliedIndex::default(),
            applier: Mutex::new(None),
        });
        let applier = Applier { inner: Arc::downgrade(&inner), applied, node: node.clone() };
        let thread = std::thread::Builder::new()
            .name(format!("raft-rsm-{}", node.id()))
            .spawn(move || applier.run())
            .map_err(|error| {
                node.shutdown();
                StartError::Spawn(error)
            })?;
        *inner.applier.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread);
        Ok(Rsm { inner })
    }

    /// Runs `command` through Raft: returns the state machine's answer once
    /// the command has committed and been applied on this node. The caller's
    /// thread waits; no other thread is made for it.
    ///
    /// # Errors
    /// [`SubmitError::WrongLeader`] when this node does not lead or loses the
    /// lead before the command commits; [`SubmitError::TimedOut`] after
    /// [`RsmConfig::submit_timeout`] (the command may still apply);
    /// [`SubmitError::Busy`], [`SubmitError::TooLarge`],
    /// [`SubmitError::Encode`]; [`SubmitError::Stopped`] once shut down (at
    /// once, for a submit already waiting).
    pub fn submit(&self, command: S::Command) -> Result<S::Output, SubmitError> {
        let bytes = postcard::to_stdvec(&command)
            .map_err(|error| SubmitError::Encode(error.to_string()))?;
        let node = &self.inner.node;
        let wrong_leader = || SubmitError::WrongLeader { leader_hint: node.status().leader };
        let handle = node.propose(bytes).map_err(propose_refused)?;
        // The handle resolves once the entry commits here, or is lost to
        // another (truncated away, or another entry committed at its index).
        // A leader deposed meanwhile may hold the entry a long time without
        // either (the new leader has nothing at that index yet): the submit
        // gives up as soon as the node's term moves on or it stops leading.
        let started = deadline_after(self.inner.config.submit_timeout);
        let proposal = loop {
            let slice = time_left(started).min(LEADERSHIP_CHECK_INTERVAL);
            match handle.wait_timeout(slice) {
                Ok(proposal) => break proposal,
                Err(ProposalError::Stopped) => return Err(SubmitError::Stopped),
                Err(ProposalError::TimedOut) => {
                    if time_left(started).is_zero() {
                        return Err(SubmitError::TimedOut);
                    }
                    let (term, leading) = node.state();
                    let accepted_in = handle.try_accepted().map(|proposal| proposal.term);
                    if !leading || accepted_in.is_some_and(|accepted| term > accepted) {
                        return Err(wrong_leader());
                    }
                }
                Err(_) => return Err(wrong_leader()),
            }
        };
        let (sender, receiver) = bounded(1);
        match self.answers().wait_for(proposal.index, proposal.term, sender) {
            Claim::Ready(answer) => return answer.map_err(|_| wrong_leader()),
            Claim::Stopped => return Err(SubmitError::Stopped),
            Claim::Registered => {}
        }
        match receiver.recv_timeout(time_left(started)) {
            Ok(answer) => answer.map_err(|_| wrong_leader()),
            Err(RecvTimeoutError::Disconnected) => Err(SubmitError::Stopped),
            Err(RecvTimeoutError::Timeout) => {
                self.answers().forget(proposal.index);
                Err(SubmitError::TimedOut)
            }
        }
    }

    /// [`submit`](Self::submit) as a future, for services on an async
    /// runtime: it holds no thread while it waits (the node's
    /// [`ProposalHandle`](raft_core::ProposalHandle) and the applier wake
    /// it). It has no deadline of its own, and does not watch the node's
    /// leadership: a leader deposed before the command commits may hold it a
    /// long time, so wrap it in the runtime's timeout (and, to give up
    /// sooner, race it with a watch on [`Node::state`]).
    ///
    /// # Errors
    /// As [`submit`](Self::submit), but for the timeout.
    pub async fn submit_async(&self, command: S::Command) -> Result<S::Output, SubmitError> {
        let bytes = postcard::to_stdvec(&command)
            .map_err(|error| SubmitError::Encode(error.to_string()))?;
        let node = &self.inner.node;
        let wrong_leader = || SubmitError::WrongLeader { leader_hint: node.status().leader };
        let handle = node.propose(bytes).map_err(propose_refused)?;
        let proposal = match handle.await {
            Ok(proposal) => proposal,
            Err(ProposalError::Stopped) => return Err(SubmitError::Stopped),
            Err(_) => return Err(wrong_leader()),
        };
        let slot = AnswerSlot::new();
        match self.answers().wait_for(proposal.index, proposal.term, Arc::clone(&slot)) {
            Claim::Ready(answer) => return answer.map_err(|_| wrong_leader()),
            Claim::Stopped => return Err(SubmitError::Stopped),
            Claim::Registered => {}
        }
        let mut guard =
            WaitGuard { answers: &self.inner.answers, index: proposal.index, armed: true };
        let answer = std::future::poll_fn(|context| slot.poll(context)).await;
        guard.armed = false;
        match answer {
            Some(answer) => answer.map_err(|_| wrong_leader()),
            None => Err(SubmitError::Stopped),
        }
    }

    /// Reads the state machine linearizably, without writing to the log: asks
    /// the node for a read index (ReadIndex, thesis §6.4; forwarded to the
    /// leader from a follower), waits until this node has applied through
    /// it, then runs `read`. What it sees reflects every command acknowledged
    /// before the call. Waits at most [`RsmConfig::submit_timeout`].
    ///
    /// # Errors
    /// [`SubmitError::WrongLeader`] when no leader is known, or leadership
    /// changed before the read was confirmed (try again, perhaps elsewhere);
    /// [`SubmitError::TimedOut`]; [`SubmitError::Stopped`] once shut down.
    pub fn read<R>(&self, read: impl FnOnce(&S) -> R) -> Result<R, SubmitError> {
        let node = &self.inner.node;
        let started = deadline_after(self.inner.config.submit_timeout);
        let index = node
            .read_index()
            .wait_timeout(time_left(started))
            .map_err(|error| read_refused(node, error))?;
        match self.inner.applied.wait(index, started) {
            Reached::Yes => Ok(self.read_local(read)),
            Reached::Stopped => Err(SubmitError::Stopped),
            Reached::TimedOut => Err(SubmitError::TimedOut),
        }
    }

    /// [`read`](Self::read) as a future, for services on an async runtime:
    /// it holds no thread while it waits (the node's
    /// [`ReadHandle`](raft_core::ReadHandle) and the applier wake it). It has
    /// no deadline of its own: wrap it in the runtime's timeout.
    ///
    /// # Errors
    /// As [`read`](Self::read), but for the timeout.
    pub async fn read_async<R>(&self, read: impl FnOnce(&S) -> R) -> Result<R, SubmitError> {
        let node = &self.inner.node;
        let index = node.read_index().await.map_err(|error| read_refused(node, error))?;
        let applied = &self.inner.applied;
        match std::future::poll_fn(|context| applied.poll(index, context)).await {
            Reached::Yes => Ok(self.read_local(read)),
            Reached::Stopped | Reached::TimedOut => Err(SubmitError::Stopped),
        }
    }

    /// Reads the local state machine, as applied on this node so far. Not
    /// linearizable: a follower's state may lag the leader's.
    pub fn read_local<R>(&self, read: impl FnOnce(&S) -> R) -> R {
        read(&self.inner.machine.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &RsmConfig {
        &self.inner.config
    }

    /// The node underneath.
    pub fn node(&self) -> &Node {
        &self.inner.node
    }

    /// Stops the node and the applier; every submit waiting returns
    /// [`SubmitError::Stopped`]. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }

    fn answers(&self) -> MutexGuard<'_, Answers<S::Output>> {
        self.inner.answers()
    }
}

/// What a refused proposal means to the caller.
fn propose_refused(error: ProposeError) -> SubmitError {
    match error {
        ProposeError::NotLeader { leader_hint } => SubmitError::WrongLeader { leader_hint },
        ProposeError::TooLarge { size, limit } => SubmitError::TooLarge { size, limit },
        ProposeError::Busy => SubmitError::Busy,
        // Handing the lead over: the next leader takes commands.
        ProposeError::Transferring { to } => SubmitError::WrongLeader { leader_hint: Some(to) },
        _ => SubmitError::Stopped,
    }
}

/// Forgets a registered wait for an answer unless told the answer came: an
/// async submit dropped early (by its caller's timeout) leaves nothing behind.
struct WaitGuard<'a, O> {
    answers: &'a Mutex<Answers<O>>,
    index: Index,
    armed: bool,
}

impl<O> Drop for WaitGuard<'_, O> {
    fn drop(&mut self) {
        if self.armed {
            self.answers.lock().unwrap_or_else(PoisonError::into_inner).forget(self.index);
        }
    }
}

/// What a refused read index means to the caller.
fn read_refused(node: &Node, error: ReadError) -> SubmitError {
    match error {
        ReadError::NotLeader { leader_hint } => SubmitError::WrongLeader { leader_hint },
        ReadError::Timeout => SubmitError::TimedOut,
        ReadError::Shutdown => SubmitError::Stopped,
        _ => SubmitError::WrongLeader { leader_hint: node.status().leader },
    }
}

/// How often a waiting submit checks that its node still leads in the term
/// it took the command in.
const LEADERSHIP_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// When a wait of `timeout` from now ends.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// The time left until `deadline` (all the time there is without one).
fn time_left(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::MAX, |deadline| deadline.saturating_duration_since(Instant::now()))
}

impl<S: StateMachine> Inner<S> {
    pub(crate) fn answers(&self) -> MutexGuard<'_, Answers<S::Output>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The applier has applied everything through `index`: wake the reads
    /// waiting for it.
    pub(crate) fn applied_through(&self, index: Index) {
        self.applied.advance(index);
    }

    /// The applier applies nothing more (the node stopped): reads waiting
    /// for a later index end.
    pub(crate) fn applier_ended(&self) {
        self.applied.stop();
    }

    fn shutdown(&self) {
        self.node.shutdown();
        self.answers().stop();
        self.applied.stop();
        let applier = self.applier.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = applier
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl<S: StateMachine> Drop for Inner<S> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl<S: StateMachine> Clone for Rsm<S> {
    fn clone(&self) -> Rsm<S> {
        Rsm { inner: Arc::clone(&self.inner) }
    }
}

impl<S: StateMachine> fmt::Debug for Rsm<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rsm")
            .field("node", &self.inner.node)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
