//! [`ProposalHandle`]: the service's hold on one proposed command, resolved
//! by the event loop when the command commits or is lost; blocking or as a
//! [`Future`], with no async runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use raft_log::{Index, Term};

use super::deadline::deadline_after;
use super::oneshot::OneShot;
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

/// What the event loop and a handle share: where the leader put the entry
/// (or why it refused it), then the outcome.
pub(crate) struct Slot {
    accepted: OneShot<Result<Proposal, ProposalError>>,
    outcome: OneShot<Result<Proposal, ProposalError>>,
}

impl Slot {
    pub(crate) fn new() -> Arc<Slot> {
        Arc::new(Slot { accepted: OneShot::new(), outcome: OneShot::new() })
    }

    /// The leader put the entry at `proposal`.
    pub(crate) fn accept(&self, proposal: Proposal) {
        self.accepted.set(Ok(proposal));
    }

    /// The outcome is known. The first outcome stands; one before the entry
    /// was accepted answers the wait for acceptance too.
    pub(crate) fn resolve(&self, outcome: Result<Proposal, ProposalError>) {
        self.accepted.set(outcome.clone());
        self.outcome.set(outcome);
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
        self.slot.accepted.wait(None).unwrap_or(Err(ProposalError::Stopped))
    }

    /// Waits for the outcome: where the entry committed.
    ///
    /// # Errors
    /// Every [`ProposalError`] but `TimedOut`.
    pub fn wait(&self) -> Result<Proposal, ProposalError> {
        self.slot.outcome.wait(None).unwrap_or(Err(ProposalError::Stopped))
    }

    /// Waits at most `timeout` for the outcome.
    ///
    /// # Errors
    /// [`ProposalError::TimedOut`] when the time runs out (the proposal may
    /// still commit), and the others as [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<Proposal, ProposalError> {
        self.slot.outcome.wait(deadline_after(timeout)).unwrap_or(Err(ProposalError::TimedOut))
    }

    /// Where the leader put the entry, if it has taken it already.
    pub fn try_accepted(&self) -> Option<Proposal> {
        self.slot.accepted.get().and_then(Result::ok)
    }

    /// The outcome, if it is known already.
    pub fn try_outcome(&self) -> Option<Result<Proposal, ProposalError>> {
        self.slot.outcome.get()
    }
}

impl Future for ProposalHandle {
    type Output = Result<Proposal, ProposalError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        self.slot.outcome.poll(context)
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("outcome", &self.outcome.get()).finish_non_exhaustive()
    }
}

impl fmt::Debug for ProposalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProposalHandle")
            .field("accepted", &self.slot.accepted.get())
            .field("outcome", &self.slot.outcome.get())
            .finish()
    }
}

#[cfg(test)]
mod tests;
