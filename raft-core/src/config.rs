//! [`Config`]: the settings of one node, with documented defaults and limits.

use std::time::Duration;

use raft_log::NodeId;

use crate::ConfigError;

/// The settings of one Raft node.
///
/// Time in the protocol core is counted in ticks; the node driver turns one
/// tick into [`tick_interval`](Self::tick_interval) of real time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// This node's identity. It must appear in `peers`.
    pub id: NodeId,
    /// Every member of the cluster, this node included, in the same order on
    /// every node. At least one.
    pub peers: Vec<NodeId>,
    /// Real time per tick. Default: 10 ms. Minimum: 1 ms.
    pub tick_interval: Duration,
    /// Ticks between a leader's heartbeats. Default: 10 (100 ms, so at most
    /// ten heartbeats a second). Minimum: 1.
    pub heartbeat_ticks: u32,
    /// The shortest election timeout, in ticks. Each timeout is drawn uniformly
    /// from `[election_ticks_min, election_ticks_max)`. Default: 30 (300 ms).
    /// Minimum: `heartbeat_ticks + 1`.
    pub election_ticks_min: u32,
    /// The end of the election timeout range, in ticks (exclusive). Default: 60
    /// (600 ms). Minimum: `election_ticks_min + 1`.
    pub election_ticks_max: u32,
    /// The most bytes of entries one AppendEntries carries: each entry counts
    /// its data plus 24 bytes. A batch always carries at least one entry, and a
    /// command that alone exceeds this is refused at propose
    /// ([`ProposeError::TooLarge`](crate::ProposeError::TooLarge)). The node
    /// checks it against the transport's largest message when it starts.
    /// Default: 1 MiB. Minimum: 64.
    pub max_bytes_per_append: u64,
    /// The most AppendEntries with entries in flight to one follower in the
    /// replicate state (etcd's `MaxInflightMsgs`). Default: 256. Minimum: 1.
    pub max_inflight_appends: usize,
    /// The most bytes of entries in flight to one follower, counted as
    /// [`max_bytes_per_append`](Self::max_bytes_per_append) counts them; a
    /// window is full once it holds this many. Default: 64 MiB. Minimum:
    /// `max_bytes_per_append`.
    pub max_inflight_bytes: u64,
    /// The most entries of its own term a leader holds past its commit
    /// index; past it, propose says
    /// [`ProposeError::Busy`](crate::ProposeError::Busy). Entries of earlier
    /// terms do not count: they commit only under one of the leader's own.
    /// Default: 65,536. Minimum: 1.
    pub max_uncommitted_entries: u64,
    /// The most bytes of entries of its own term a leader holds past its
    /// commit index, counted as
    /// [`max_bytes_per_append`](Self::max_bytes_per_append) counts them.
    /// Default: 256 MiB. Minimum: `max_bytes_per_append`.
    pub max_uncommitted_bytes: u64,
    /// PreVote (thesis §9.6): before a real election, a node whose election
    /// timer ran out asks whether it could win, without bumping its term. A
    /// node that cannot win (partitioned away, or behind) then leaves the
    /// term alone, so it does not depose a healthy leader when it rejoins.
    /// It costs one round of requests per election. Default: `true`.
    pub pre_vote: bool,
    /// CheckQuorum with leader stickiness (thesis §6.2, §9.6): a leader that
    /// has not heard from a majority for `election_ticks_min` ticks steps
    /// down, so a leader cut off in a minority learns it is stale; and a
    /// node that heard from a live leader in the last `election_ticks_min`
    /// ticks (or leads itself) refuses RequestVote and PreVote without
    /// taking up their term. A leadership transfer sets stickiness aside.
    /// Default: `true`.
    pub check_quorum: bool,
    /// Lease-based reads (thesis §6.4.1): a leader whose heartbeat round
    /// started less than `election_ticks_min` ticks ago and was answered by
    /// a majority serves a read at once, without a round of its own. Weaker
    /// than ReadIndex: it assumes the nodes' clocks run at the same rate
    /// (a bounded drift), and a pause of the leader's process longer than
    /// the lease can make it serve a stale read. Needs `check_quorum`, whose
    /// stickiness is what keeps other nodes from electing a new leader
    /// within the lease, and `heartbeat_ticks` below
    /// `election_ticks_min - 1`, so heartbeat rounds renew the lease before
    /// it runs out. Default: `false`.
    pub lease_reads: bool,
    /// Whether a new leader appends an empty entry of its term (thesis §6.4),
    /// which commits its predecessors' entries at once and lets it serve
    /// reads without waiting for a client's write. The apply side shows it
    /// as [`Applied::Noop`](crate::Applied::Noop), so applied indices stay
    /// contiguous. Off for the MIT lab's tests, which count indices exactly.
    /// Default: `true`.
    pub noop_on_election: bool,
    /// The seed of the core's random number generator (election jitter), so a
    /// run can be replayed. Default: derived from `id`.
    pub seed: u64,
    /// A known protocol bug for the core to commit, so that a test harness
    /// can show it catches it. Test-only: it exists with the `planted-bugs`
    /// feature alone, which no normal build enables. Default: `None`.
    #[cfg(feature = "planted-bugs")]
    pub planted_bug: Option<PlantedBug>,
}

/// A known protocol bug the core commits when [`Config::planted_bug`] names
/// it (test-only: with the `planted-bugs` feature alone). Each is a few lines
/// in the core, marked `Planted bug (test-only)`; a simulator that checks
/// Raft's properties must catch every one.
#[cfg(feature = "planted-bugs")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlantedBug {
    /// A node grants its vote to a second candidate in one term (breaks
    /// Raft §5.2's one vote per term).
    VoteTwiceInOneTerm,
    /// A leader commits an entry of an earlier term by counting its replicas
    /// (skips Raft §5.4.2's check that the entry is of the current term).
    CommitEarlierTermByCounting,
    /// A follower drops the matching, uncommitted entries that follow a stale
    /// AppendEntries batch (Raft §5.3 drops only conflicting entries).
    TruncateMatchingEntries,
    /// A follower's AppendEntries answers leave in
    /// [`Ready::messages`](crate::Ready::messages), before the entries they
    /// acknowledge are durable.
    AnswerBeforePersisting,
    /// A follower installs an InstallSnapshot at or below its commit index
    /// (checking only its own snapshot's index) and hands it to the service,
    /// which moves backward.
    SnapshotBelowCommitIndex,
    /// A leader sends no heartbeats to a follower in the snapshot state, whose
    /// election timer then runs out while a slow snapshot is on its way
    /// (the L1-a gap).
    NoHeartbeatDuringSnapshot,
}

#[cfg(feature = "planted-bugs")]
impl PlantedBug {
    /// Every planted bug, in declaration order.
    pub const ALL: [PlantedBug; 6] = [
        PlantedBug::VoteTwiceInOneTerm,
        PlantedBug::CommitEarlierTermByCounting,
        PlantedBug::TruncateMatchingEntries,
        PlantedBug::AnswerBeforePersisting,
        PlantedBug::SnapshotBelowCommitIndex,
        PlantedBug::NoHeartbeatDuringSnapshot,
    ];
}

/// Default real time per tick.
pub const DEFAULT_TICK_INTERVAL: Duration = Duration::from_millis(10);
/// Default ticks between heartbeats.
pub const DEFAULT_HEARTBEAT_TICKS: u32 = 10;
/// Default shortest election timeout, in ticks.
pub const DEFAULT_ELECTION_TICKS_MIN: u32 = 30;
/// Default end of the election timeout range, in ticks.
pub const DEFAULT_ELECTION_TICKS_MAX: u32 = 60;
/// Default most bytes of entries per AppendEntries.
pub const DEFAULT_MAX_BYTES_PER_APPEND: u64 = 1024 * 1024;
/// Default most AppendEntries in flight to one follower.
pub const DEFAULT_MAX_INFLIGHT_APPENDS: usize = 256;
/// Default most bytes of entries in flight to one follower.
pub const DEFAULT_MAX_INFLIGHT_BYTES: u64 = 64 * 1024 * 1024;
/// Default most uncommitted entries on a leader.
pub const DEFAULT_MAX_UNCOMMITTED_ENTRIES: u64 = 65_536;
/// Default most uncommitted bytes on a leader.
pub const DEFAULT_MAX_UNCOMMITTED_BYTES: u64 = 256 * 1024 * 1024;

impl Config {
    /// A configuration with the documented defaults.
    pub fn new(id: NodeId, peers: Vec<NodeId>) -> Config {
        Config {
            id,
            peers,
            tick_interval: DEFAULT_TICK_INTERVAL,
            heartbeat_ticks: DEFAULT_HEARTBEAT_TICKS,
            election_ticks_min: DEFAULT_ELECTION_TICKS_MIN,
            election_ticks_max: DEFAULT_ELECTION_TICKS_MAX,
            max_bytes_per_append: DEFAULT_MAX_BYTES_PER_APPEND,
            max_inflight_appends: DEFAULT_MAX_INFLIGHT_APPENDS,
            max_inflight_bytes: DEFAULT_MAX_INFLIGHT_BYTES,
            max_uncommitted_entries: DEFAULT_MAX_UNCOMMITTED_ENTRIES,
            max_uncommitted_bytes: DEFAULT_MAX_UNCOMMITTED_BYTES,
            pre_vote: true,
            check_quorum: true,
            lease_reads: false,
            noop_on_election: true,
            seed: 0x9E37_79B9_7F4A_7C15 ^ id.0,
            #[cfg(feature = "planted-bugs")]
            planted_bug: None,
        }
    }

    /// Checks every documented limit, and that the settings do not
    /// contradict each other.
    ///
    /// ```
    /// use raft_core::{Config, ConfigError, NodeId};
    ///
    /// let mut config = Config::new(NodeId(1), vec![NodeId(1), NodeId(2), NodeId(3)]);
    /// assert_eq!(config.validate(), Ok(()));
    /// config.lease_reads = true;
    /// config.check_quorum = false;
    /// assert!(matches!(config.validate(), Err(ConfigError::Contradiction(_))));
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] naming the first setting out of range, or the first
    /// contradiction.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.peers.is_empty() {
            return Err(ConfigError::NoPeers);
        }
        if !self.peers.contains(&self.id) {
            return Err(ConfigError::NotAMember(self.id));
        }
        let mut sorted = self.peers.clone();
        sorted.sort();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(ConfigError::DuplicatePeer(pair[0]));
        }
        if self.tick_interval < Duration::from_millis(1) {
            return Err(ConfigError::OutOfRange("tick_interval must be at least 1 ms"));
        }
        if self.heartbeat_ticks == 0 {
            return Err(ConfigError::OutOfRange("heartbeat_ticks must be at least 1"));
        }
        if self.election_ticks_min <= self.heartbeat_ticks {
            return Err(ConfigError::OutOfRange(
                "election_ticks_min must be greater than heartbeat_ticks",
            ));
        }
        if self.election_ticks_max <= self.election_ticks_min {
            return Err(ConfigError::OutOfRange(
                "election_ticks_max must be greater than election_ticks_min",
            ));
        }
        if self.max_bytes_per_append < 64 {
            return Err(ConfigError::OutOfRange("max_bytes_per_append must be at least 64"));
        }
        if self.max_inflight_appends == 0 {
            return Err(ConfigError::OutOfRange("max_inflight_appends must be at least 1"));
        }
        if self.max_inflight_bytes < self.max_bytes_per_append {
            return Err(ConfigError::OutOfRange(
                "max_inflight_bytes must be at least max_bytes_per_append",
            ));
        }
        if self.max_uncommitted_entries == 0 {
            return Err(ConfigError::OutOfRange("max_uncommitted_entries must be at least 1"));
        }
        if self.max_uncommitted_bytes < self.max_bytes_per_append {
            return Err(ConfigError::OutOfRange(
                "max_uncommitted_bytes must be at least max_bytes_per_append",
            ));
        }
        if self.lease_reads && !self.check_quorum {
            return Err(ConfigError::Contradiction(
                "lease_reads needs check_quorum: without leader stickiness a new leader can be elected within the lease",
            ));
        }
        if self.lease_reads && self.heartbeat_ticks + 1 >= self.election_ticks_min {
            return Err(ConfigError::Contradiction(
                "lease_reads needs heartbeat_ticks below election_ticks_min - 1: a lease lasts election_ticks_min - 1 ticks, and each heartbeat round renews it",
            ));
        }
        Ok(())
    }
}
