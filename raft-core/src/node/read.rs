//! [`ReadHandle`]: the service's hold on one linearizable read's index,
//! resolved by the event loop once the leader has confirmed it; blocking or
//! as a [`Future`], with no async runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use raft_log::Index;

use super::deadline::deadline_after;
use super::oneshot::OneShot;
use crate::ReadError;

/// What the event loop and a read's handle share.
pub(crate) type ReadSlot = OneShot<Result<Index, ReadError>>;

/// A read waiting for its read index (ReadIndex, thesis §6.4), from
/// [`Node::read_index`](crate::Node::read_index).
///
/// It resolves to the index the service must have applied through before
/// it reads its state: a read then is linearizable, reflecting every write
/// acknowledged before the read was asked for. Use [`wait`](Self::wait) or
/// [`wait_timeout`](Self::wait_timeout) from a thread, or `.await` it.
pub struct ReadHandle {
    slot: Arc<ReadSlot>,
}

impl ReadHandle {
    pub(crate) fn new(slot: Arc<ReadSlot>) -> ReadHandle {
        ReadHandle { slot }
    }

    /// Waits for the read index.
    ///
    /// # Errors
    /// [`ReadError::NotLeader`] when no leader is known (or the node asked
    /// does not lead), [`ReadError::LeadershipLost`] when the leader lost the
    /// lead first (try again), [`ReadError::Shutdown`] once stopped.
    pub fn wait(&self) -> Result<Index, ReadError> {
        self.slot.wait(None).unwrap_or(Err(ReadError::Shutdown))
    }

    /// Waits at most `timeout` for the read index.
    ///
    /// # Errors
    /// [`ReadError::Timeout`] when the time runs out, and the others as
    /// [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<Index, ReadError> {
        self.slot.wait(deadline_after(timeout)).unwrap_or(Err(ReadError::Timeout))
    }

    /// The outcome, if it is known already.
    pub fn try_result(&self) -> Option<Result<Index, ReadError>> {
        self.slot.get()
    }
}

impl Future for ReadHandle {
    type Output = Result<Index, ReadError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        self.slot.poll(context)
    }
}

impl fmt::Debug for ReadHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHandle").field("result", &self.slot.get()).finish()
    }
}
