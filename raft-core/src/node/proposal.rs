//! [`ProposalHandle`]: the service's hold on one proposed command, resolved
//! by the event loop when the command commits or is lost; blocking or as a
//! [`Future`], with no async runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use raft_log::{Index, Term};

use super::deadline::{deadline_after, time_left};
use crate::ProposeError;

/// Where a command sits in the log: the index it occupies and the term of the
/// leader that accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// The index the entry occupies.
    pub index: Index,
    /// The leader's term when it accepted the entry.
    pub term: Term,
}

/// Why a proposal did not commit, or is not known to have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposalError {
    /// The event loop refused it: leadership moved before it got there, or
    /// the leader was busy.
    #[error("the proposal was refused")]
    Refused(#[source] ProposeError),
    /// Leadership changed and another entry took its index: it will never
    /// commit.
    #[error("the proposal was lost: another entry took index {index}")]
    Lost {
        /// The index it had been given.
        index: Index,
    },
    /// A snapshot from another leader covered its index before this node saw
    /// it commit, so whether it committed is not known here. Reading the
    /// state machine is the way to tell.
    #[error("whether the proposal at index {index} committed is not known")]
    Unknown {
        /// The index it had been given.
        index: Index,
    },
    /// The node stopped before the outcome was known.
    #[error("the node stopped before the proposal's outcome was known")]
    Stopped,
    /// The wait ended before the outcome was known; the proposal may still
    /// commit.
    #[error("no outcome within the time given")]
    TimedOut,
}

/// A proposed command in flight: it resolves to where the entry committed,
/// or to why it did not.
///
/// Use [`wait`](Self::wait) or [`wait_timeout`](Self::wait_timeout) from a
/// thread, or `.await` it (it is a [`Future`], driven by any executor; the
/// crate needs no async runtime). [`accepted`](Self::accepted) waits only
/// until the leader has put the entry in its log, and says where.
///
/// Dropping the handle does not withdraw the command.
pub struct ProposalHandle {
    slot: Arc<Slot>,
}

/// What the event loop and a handle share.
pub(crate) struct Slot {
    state: Mutex<SlotState>,
    changed: Condvar,
}

#[derive(Default)]
struct SlotState {
    /// Set once the leader put the entry in its log, or refused it.
    accepted: Option<Result<Proposal, ProposalError>>,
    /// Set once the outcome is known.
    outcome: Option<Result<Proposal, ProposalError>>,
    waker: Option<Waker>,
    waiting: bool,
}

impl Slot {
    pub(crate) fn new() -> Arc<Slot> {
        Arc::new(Slot { state: Mutex::new(SlotState::default()), changed: Condvar::new() })
    }

    /// The leader put the entry at `proposal`.
    pub(crate) fn accept(&self, proposal: Proposal) {
        let mut state = self.lock();
        state.accepted = Some(Ok(proposal));
        self.notify(state);
    }

    /// The outcome is known. The first outcome stands.
    pub(crate) fn resolve(&self, outcome: Result<Proposal, ProposalError>) {
        let mut state = self.lock();
        if state.outcome.is_some() {
            return;
        }
        if state.accepted.is_none() {
            state.accepted = Some(outcome.clone());
        }
        state.outcome = Some(outcome);
        self.notify(state);
    }

    fn notify(&self, mut state: MutexGuard<'_, SlotState>) {
        let waker = state.waker.take();
        let waiting = std::mem::take(&mut state.waiting);
        drop(state);
        if waiting {
            self.changed.notify_all();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `ready` picks a value out of the state, or `deadline`.
    fn wait_for<T>(
        &self,
        deadline: Option<Instant>,
        ready: impl Fn(&SlotState) -> Option<T>,
    ) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(value) = ready(&state) {
                return Some(value);
            }
            state.waiting = true;
            state = match deadline {
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = time_left(Some(deadline), Duration::MAX);
                    if left.is_zero() {
                        return None;
                    }
                    self.changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
    }
}

impl ProposalHandle {
    pub(crate) fn new(slot: Arc<Slot>) -> ProposalHandle {
        ProposalHandle { slot }
    }

    /// Waits until the leader has put the entry in its log, and returns
    /// where; this is the lab's `Start()` answer. The entry may still be lost.
    ///
    /// # Errors
    /// [`ProposalError::Refused`] if the event loop refused it,
    /// [`ProposalError::Stopped`] if the node stopped first.
    pub fn accepted(&self) -> Result<Proposal, ProposalError> {
        self.slot
            .wait_for(None, |state| state.accepted.clone())
            .unwrap_or(Err(ProposalError::Stopped))
    }

    /// Waits for the outcome: where the entry committed.
    ///
    /// # Errors
    /// Every [`ProposalError`] but `TimedOut`.
    pub fn wait(&self) -> Result<Proposal, ProposalError> {
        self.slot
            .wait_for(None, |state| state.outcome.clone())
            .unwrap_or(Err(ProposalError::Stopped))
    }

    /// Waits at most `timeout` for the outcome.
    ///
    /// # Errors
    /// [`ProposalError::TimedOut`] when the time runs out (the proposal may
    /// still commit), and the others as [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<Proposal, ProposalError> {
        let deadline = deadline_after(timeout);
        self.slot
            .wait_for(deadline, |state| state.outcome.clone())
            .unwrap_or(Err(ProposalError::TimedOut))
    }

    /// Where the leader put the entry, if it has taken it already.
    pub fn try_accepted(&self) -> Option<Proposal> {
        self.slot.lock().accepted.clone().and_then(Result::ok)
    }

    /// The outcome, if it is known already.
    pub fn try_outcome(&self) -> Option<Result<Proposal, ProposalError>> {
        self.slot.lock().outcome.clone()
    }
}

impl Future for ProposalHandle {
    type Output = Result<Proposal, ProposalError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.lock();
        match &state.outcome {
            Some(outcome) => Poll::Ready(outcome.clone()),
            None => {
                state.waker = Some(context.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Slot").field("outcome", &state.outcome).finish_non_exhaustive()
    }
}

impl fmt::Debug for ProposalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.slot.lock();
        f.debug_struct("ProposalHandle")
            .field("accepted", &state.accepted)
            .field("outcome", &state.outcome)
            .finish()
    }
}

#[cfg(test)]
mod tests;
