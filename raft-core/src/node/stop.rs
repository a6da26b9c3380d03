//! [`StopReason`]: why a node stopped, and the once-set record of it that the
//! node's threads share.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Why a node stopped.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StopReason {
    /// [`Node::shutdown`](crate::Node::shutdown) was called, or the last
    /// handle was dropped.
    #[error("the node was shut down")]
    Shutdown,
    /// The persister failed to save; nothing that depended on the failed save
    /// left the node.
    #[error("the persister failed")]
    PersisterFailed(#[source] Arc<raft_persist::PersistError>),
}

/// The stopped flag every part of a node checks, and the first reason given.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    stopped: Arc<AtomicBool>,
    reason: OnceLock<StopReason>,
}

impl Stop {
    /// Records `reason` unless one was recorded already, and raises the flag.
    pub(crate) fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.stopped.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    pub(crate) fn reason(&self) -> Option<StopReason> {
        self.is_stopped().then(|| self.reason.get().cloned()).flatten()
    }

    /// The flag alone, for the apply side.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stopped)
    }
}
