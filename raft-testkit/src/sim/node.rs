//! [`SimNode`]: one simulated node: its core, its disk, the service above it
//! and its clock.

use raft_core::Raft;
use raft_persist::MemPersister;

use crate::sim::disk::Disk;
use crate::sim::service::Service;

/// One node's clock: the period of its ticks, and a generation that cancels
/// the ticks already scheduled when the node crashes or its clock stalls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeClock {
    /// Virtual µs between ticks: 10 ms, skewed within the profile's bound.
    pub(crate) period: u64,
    pub(crate) generation: u32,
}

/// One node of the simulated cluster.
#[derive(Debug)]
pub(crate) struct SimNode {
    /// The core of the current incarnation (of the last one while down).
    pub(crate) raft: Raft,
    pub(crate) up: bool,
    /// Counts restarts; messages and saves of an earlier incarnation are
    /// dropped.
    pub(crate) incarnation: u32,
    /// What survives a crash: only the saves that completed.
    pub(crate) persister: MemPersister,
    pub(crate) disk: Disk,
    pub(crate) service: Service,
    pub(crate) clock: NodeClock,
}
