//! [`ApplyReceiver`]: the service's end of a node's apply side, fed in
//! batches by the event loop, which never waits for it.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::{
    Receiver, RecvTimeoutError as ChannelTimeout, TryRecvError as ChannelEmpty,
};

use super::deadline::{deadline_after, time_left};
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
    batches: Receiver<Vec<Applied>>,
    buffer: VecDeque<Applied>,
    stopped: Arc<AtomicBool>,
}

impl ApplyReceiver {
    pub(crate) fn new(batches: Receiver<Vec<Applied>>, stopped: Arc<AtomicBool>) -> ApplyReceiver {
        ApplyReceiver { batches, buffer: VecDeque::new(), stopped }
    }

    /// Waits for the next item.
    ///
    /// # Errors
    /// [`RecvError`] once the node has stopped.
    pub fn recv(&mut self) -> Result<Applied, RecvError> {
        loop {
            if let Some(item) = self.next_buffered() {
                return item.ok_or(RecvError);
            }
            match self.batches.recv() {
                Ok(batch) => self.buffer.extend(batch),
                Err(_) => return Err(RecvError),
            }
        }
    }

    /// Waits at most `timeout` for the next item.
    ///
    /// # Errors
    /// [`RecvTimeoutError::Timeout`] when the time runs out,
    /// [`RecvTimeoutError::Stopped`] once the node has stopped.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Applied, RecvTimeoutError> {
        let deadline = deadline_after(timeout);
        loop {
            if let Some(item) = self.next_buffered() {
                return item.ok_or(RecvTimeoutError::Stopped);
            }
            match self.batches.recv_timeout(time_left(deadline, timeout)) {
                Ok(batch) => self.buffer.extend(batch),
                Err(ChannelTimeout::Timeout) => return Err(RecvTimeoutError::Timeout),
                Err(ChannelTimeout::Disconnected) => return Err(RecvTimeoutError::Stopped),
            }
        }
    }

    /// The next item if one is waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when none is,
    /// [`TryRecvError::Stopped`] once the node has stopped.
    pub fn try_recv(&mut self) -> Result<Applied, TryRecvError> {
        loop {
            if let Some(item) = self.next_buffered() {
                return item.ok_or(TryRecvError::Stopped);
            }
            match self.batches.try_recv() {
                Ok(batch) => self.buffer.extend(batch),
                Err(ChannelEmpty::Empty) => return Err(TryRecvError::Empty),
                Err(ChannelEmpty::Disconnected) => return Err(TryRecvError::Stopped),
            }
        }
    }

    /// Iterates over the items as they come, until the node stops.
    pub fn iter(&mut self) -> impl Iterator<Item = Applied> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// `Some(Some(item))` from the buffer, `Some(None)` once stopped, `None`
    /// when the buffer is empty.
    fn next_buffered(&mut self) -> Option<Option<Applied>> {
        if self.stopped.load(Ordering::SeqCst) {
            self.buffer.clear();
            return Some(None);
        }
        self.buffer.pop_front().map(Some)
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
            .field("queued_batches", &self.batches.len())
            .field("stopped", &self.stopped.load(Ordering::SeqCst))
            .finish()
    }
}
