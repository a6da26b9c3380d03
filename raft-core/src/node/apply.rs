//! [`ApplyReceiver`]: the service's end of a node's apply side, fed in
//! batches by the event loop, which never waits for it.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::deadline::deadline_after;
use super::mailbox::{Mailbox, Taken};
use crate::Applied;

/// The node has stopped: nothing more will be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the node has stopped")]
pub struct RecvError;

/// Why [`ApplyReceiver::recv_timeout`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvTimeoutError {
    /// Nothing was committed within the time given.
    #[error("nothing to apply within the time given")]
    Timeout,
    /// The node has stopped.
    #[error("the node has stopped")]
    Stopped,
}

/// Why [`ApplyReceiver::try_recv`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// Nothing is waiting to be applied.
    #[error("nothing to apply yet")]
    Empty,
    /// The node has stopped.
    #[error("the node has stopped")]
    Stopped,
}

/// The service's end of a node's apply side: committed commands and
/// installed snapshots, one [`Applied`] at a time, in index order, without
/// gaps or repeats within one run of the node.
///
/// The event loop hands over whole batches and never waits for the service:
/// items the service has not taken yet wait in an unbounded queue, so a
/// service that stops reading while the cluster keeps committing makes that
/// queue grow. The service may call back into the node (for
/// [`Node::snapshot`](crate::Node::snapshot)) from the thread that reads.
///
/// Once the node stops (by [`Node::shutdown`](crate::Node::shutdown) or on a
/// failure), nothing more is delivered, not even items already queued: every
/// call returns its "stopped" error. Iterating ends there too.
pub struct ApplyReceiver {
    queue: Arc<Mailbox<Applied>>,
    buffer: VecDeque<Applied>,
    stopped: Arc<AtomicBool>,
}

impl ApplyReceiver {
    pub(crate) fn new(queue: Arc<Mailbox<Applied>>, stopped: Arc<AtomicBool>) -> ApplyReceiver {
        ApplyReceiver { queue, buffer: VecDeque::new(), stopped }
    }

    /// Waits for the next item.
    ///
    /// # Errors
    /// [`RecvError`] once the node has stopped.
    pub fn recv(&mut self) -> Result<Applied, RecvError> {
        self.take_next(None).map_err(|_| RecvError)
    }

    /// Waits at most `timeout` for the next item.
    ///
    /// # Errors
    /// [`RecvTimeoutError::Timeout`] when the time runs out,
    /// [`RecvTimeoutError::Stopped`] once the node has stopped.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Applied, RecvTimeoutError> {
        match deadline_after(timeout) {
            Some(deadline) => self.take_next(Some(deadline)),
            None => self.take_next(None),
        }
    }

    /// The next item if one is waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when none is,
    /// [`TryRecvError::Stopped`] once the node has stopped.
    pub fn try_recv(&mut self) -> Result<Applied, TryRecvError> {
        let now = deadline_after(Duration::ZERO);
        match self.take_next(now) {
            Ok(item) => Ok(item),
            Err(RecvTimeoutError::Timeout) => Err(TryRecvError::Empty),
            Err(RecvTimeoutError::Stopped) => Err(TryRecvError::Stopped),
        }
    }

    /// Iterates over the items as they come, until the node stops.
    pub fn iter(&mut self) -> impl Iterator<Item = Applied> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// The next item, waiting until `deadline` (`None`: for as long as it
    /// takes).
    fn take_next(
        &mut self,
        deadline: Option<std::time::Instant>,
    ) -> Result<Applied, RecvTimeoutError> {
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                self.buffer.clear();
                return Err(RecvTimeoutError::Stopped);
            }
            if let Some(item) = self.buffer.pop_front() {
                return Ok(item);
            }
            let taken = self.queue.take_all(&mut self.buffer, deadline);
            if self.buffer.is_empty() {
                return Err(match taken {
                    Taken::Closed => RecvTimeoutError::Stopped,
                    Taken::Items => RecvTimeoutError::Timeout,
                });
            }
        }
    }
}

impl Iterator for ApplyReceiver {
    type Item = Applied;

    fn next(&mut self) -> Option<Applied> {
        self.recv().ok()
    }
}

impl fmt::Debug for ApplyReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyReceiver")
            .field("buffered", &self.buffer.len())
            .field("queue", &self.queue)
            .field("stopped", &self.stopped.load(Ordering::SeqCst))
            .finish()
    }
}
