//! [`RsmConfig`]: the settings of a replicated state machine.

use std::time::Duration;

/// The settings of one [`Rsm`](crate::Rsm).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsmConfig {
    /// Snapshot the state machine once the node's persisted Raft state
    /// reaches this many bytes (the lab's `maxraftstate`); `None` never
    /// snapshots (the lab's `-1`). Default: `None`.
    pub max_raft_state: Option<u64>,
    /// How long [`Rsm::submit`](crate::Rsm::submit) waits for an answer
    /// before it gives up with [`SubmitError::TimedOut`](crate::SubmitError::TimedOut).
    /// Default: 10 s.
    pub submit_timeout: Duration,
    /// How many answers to commands that no waiting submit has claimed yet
    /// are kept, oldest dropped first: a submit learns its command's index
    /// only once the leader has taken it, and the answer may come first.
    /// Default: 4,096.
    pub unclaimed_answers: usize,
}

impl Default for RsmConfig {
    fn default() -> RsmConfig {
        RsmConfig {
            max_raft_state: None,
            submit_timeout: Duration::from_secs(10),
            unclaimed_answers: 4096,
        }
    }
}
