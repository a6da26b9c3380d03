//! [`Applier`]: the thread that applies committed commands to the state
//! machine, hands each answer to its submit, and snapshots.

use std::sync::{PoisonError, Weak};

use raft_core::{Applied, ApplyReceiver, Index, Node, Term, TryRecvError};

use crate::StateMachine;
use crate::rsm::Inner;

/// How many entries the applier applies, without catching up, before it
/// considers a snapshot all the same.
const SNAPSHOT_CHECK_EVERY: usize = 64;

/// The apply loop of one [`Rsm`](crate::Rsm).
pub(crate) struct Applier<S: StateMachine> {
    pub(crate) inner: Weak<Inner<S>>,
    pub(crate) applied: ApplyReceiver,
    pub(crate) node: Node,
}

impl<S: StateMachine> Applier<S> {
    /// Runs until the node stops or the `Rsm` is dropped. It applies what
    /// has arrived, then considers a snapshot once it has caught up, or
    /// after [`SNAPSHOT_CHECK_EVERY`] entries if it never does: checking after
    /// every entry would, under load, snapshot for every entry, falling
    /// further behind with each.
    pub(crate) fn run(mut self) {
        self.apply_until_stopped();
        // Nothing more will be applied: reads waiting for more end.
        if let Some(inner) = self.inner.upgrade() {
            inner.applier_ended();
        }
    }

    fn apply_until_stopped(&mut self) {
        let mut unchecked = 0;
        let mut last_applied = None;
        loop {
            let item = match self.applied.try_recv() {
                Ok(item) => item,
                Err(TryRecvError::Empty) => {
                    if let (Some(index), Some(inner)) = (last_applied.take(), self.inner.upgrade())
                    {
                        self.maybe_snapshot(&inner, index);
                        unchecked = 0;
                    }
                    match self.applied.recv() {
                        Ok(item) => item,
                        Err(_) => return,
                    }
                }
                Err(TryRecvError::Stopped) => return,
            };
            let Some(inner) = self.inner.upgrade() else { return };
            match item {
                Applied::Command { index, term, data } => {
                    apply_command(&inner, index, term, &data);
                    inner.applied_through(index);
                    last_applied = Some(index);
                    unchecked += 1;
                    if unchecked >= SNAPSHOT_CHECK_EVERY {
                        self.maybe_snapshot(&inner, index);
                        unchecked = 0;
                        last_applied = None;
                    }
                }
                Applied::Noop { index, term } => {
                    // A leader's no-op: a submit waiting on its index lost it.
                    inner.answers().covered_through(index, term);
                    inner.applied_through(index);
                    last_applied = Some(index);
                }
                Applied::Snapshot { index, term, data } => {
                    let mut machine = inner.machine.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Err(reason) = machine.restore(&data) {
                        tracing::error!(node = %self.node.id(), %index, %reason, "a snapshot does not restore; the node stops");
                        drop(machine);
                        self.node.shutdown();
                        return;
                    }
                    drop(machine);
                    last_applied = None;
                    inner.answers().covered_through(index, term);
                    inner.applied_through(index);
                }
            }
        }
    }

    /// Snapshots the state machine through `index` once the persisted Raft
    /// state has reached the configured bound.
    fn maybe_snapshot(&self, inner: &Inner<S>, index: Index) {
        let Some(bound) = inner.config.max_raft_state else { return };
        if self.node.persisted_size() < bound {
            return;
        }
        let bytes = inner.machine.lock().unwrap_or_else(PoisonError::into_inner).snapshot();
        if let Err(error) = self.node.snapshot(index, bytes) {
            tracing::debug!(node = %self.node.id(), %index, %error, "no snapshot taken");
        }
    }
}

/// Applies the command the entry at `index` carries, and hands its answer on.
/// An entry that is not a command of this machine (it does not decode) is
/// skipped on every node alike, and a submit waiting on it is told another
/// entry took its place.
fn apply_command<S: StateMachine>(inner: &Inner<S>, index: Index, term: Term, data: &[u8]) {
    let command = match postcard::from_bytes::<S::Command>(data) {
        Ok(command) => command,
        Err(error) => {
            tracing::error!(%index, %error, "skipped an entry that is not a command of this state machine");
            inner.answers().covered_through(index, term);
            return;
        }
    };
    let output = inner.machine.lock().unwrap_or_else(PoisonError::into_inner).apply(command);
    inner.answers().applied(index, term, output);
}
