//! [`SimulationConfig`]: what a simulation runs (cluster size, fault mix,
//! how long), everything a replay needs besides the seed.

use std::time::Duration;

#[cfg(feature = "planted-bugs")]
use raft_core::PlantedBug;

use crate::sim::{FaultMix, SimulationError};

/// The default length of the fault phase.
pub const DEFAULT_FAULT_DURATION: Duration = Duration::from_secs(10);
/// The default bound on convergence once the faults stop.
pub const DEFAULT_HEALING_BOUND: Duration = Duration::from_secs(30);
/// The most nodes a simulation runs.
pub const MAX_NODES: usize = 9;

/// What one simulation runs. With a seed it determines the run, bit for bit.
///
/// The seed draws the rest from the [`faults`](Self::faults) mix: the
/// network's latency, loss and duplication, the disks' speeds, the fault
/// schedule, the client's rates of writes and reads, how often services
/// snapshot, the core's batch and window bounds, and (unless the settings
/// below fix them) which of the core's extensions run: PreVote, CheckQuorum,
/// the leader's no-op, lease reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulationConfig {
    /// Nodes in the cluster. 3, 5 and 7 are the sizes tested; 1 to
    /// [`MAX_NODES`] run. Default: 3.
    pub nodes: usize,
    /// The faults injected. Default: [`FaultMix::Chaos`].
    pub faults: FaultMix,
    /// How long faults are injected, in virtual time, before everything is
    /// healed. Default: [`DEFAULT_FAULT_DURATION`] (10 s). Minimum: one tick
    /// (10 ms).
    pub fault_duration: Duration,
    /// How long the healed cluster has, in virtual time, to elect a leader and
    /// bring every node up to its commit index (the liveness check).
    /// Default: [`DEFAULT_HEALING_BOUND`] (30 s). Minimum: 1 s.
    pub healing_bound: Duration,
    /// Overrides every core's
    /// [`max_bytes_per_append`](raft_core::Config::max_bytes_per_append)
    /// (at least 64, which fits every command the client makes). Default: `None` (the
    /// seed draws 64, 512 bytes or the core's default).
    pub max_bytes_per_append: Option<u64>,
    /// Overrides every core's
    /// [`max_inflight_appends`](raft_core::Config::max_inflight_appends).
    /// Default: `None` (the seed draws 1, 4 or the core's default, 256).
    pub max_inflight_appends: Option<usize>,
    /// Overrides every core's
    /// [`max_uncommitted_entries`](raft_core::Config::max_uncommitted_entries),
    /// the leader's backpressure bound. Default: `None` (the core's default,
    /// 65,536, which a run never reaches).
    pub max_uncommitted_entries: Option<u64>,
    /// Every core's [`pre_vote`](raft_core::Config::pre_vote), or `None`
    /// for the seed to draw it (on for three seeds in four, the same on every
    /// node). Default: `None`. PreVote hides some liveness bugs (a node cut
    /// off from its leader cannot disrupt), so a hunt for those turns it off.
    pub pre_vote: Option<bool>,
    /// Every core's [`check_quorum`](raft_core::Config::check_quorum) (and
    /// leader stickiness), or `None` for the seed to draw it (on for three
    /// seeds in four, and whenever lease reads are on). Default: `None`.
    pub check_quorum: Option<bool>,
    /// Every core's
    /// [`noop_on_election`](raft_core::Config::noop_on_election), or `None`
    /// for the seed to draw it (on for three seeds in four). Default: `None`.
    pub noop_on_election: Option<bool>,
    /// Every core's [`lease_reads`](raft_core::Config::lease_reads), or
    /// `None` for the seed to draw it (on for half the seeds that run
    /// CheckQuorum). Default: `Some(false)`: the lease assumes clocks that
    /// run at one rate, and the clock faults here break that assumption
    /// (`SIMULATOR.md`, "Lease reads"), so lease reads fail under them. On
    /// needs CheckQuorum on or drawn.
    pub lease_reads: Option<bool>,
    /// A known bug for every node's core to commit (test-only: with the
    /// `planted-bugs` feature). Default: `None`.
    #[cfg(feature = "planted-bugs")]
    pub planted_bug: Option<PlantedBug>,
}

impl SimulationConfig {
    /// `nodes` nodes under `faults`, with the other settings at their
    /// defaults.
    pub fn new(nodes: usize, faults: FaultMix) -> SimulationConfig {
        SimulationConfig {
            nodes,
            faults,
            fault_duration: DEFAULT_FAULT_DURATION,
            healing_bound: DEFAULT_HEALING_BOUND,
            max_bytes_per_append: None,
            max_inflight_appends: None,
            max_uncommitted_entries: None,
            pre_vote: None,
            check_quorum: None,
            noop_on_election: None,
            lease_reads: Some(false),
            #[cfg(feature = "planted-bugs")]
            planted_bug: None,
        }
    }

    /// Checks every documented limit.
    ///
    /// # Errors
    /// [`SimulationError::InvalidConfig`] naming the first setting out of
    /// range.
    pub fn validate(&self) -> Result<(), SimulationError> {
        if self.nodes == 0 || self.nodes > MAX_NODES {
            return Err(SimulationError::InvalidConfig("nodes must be from 1 to 9"));
        }
        if self.fault_duration < Duration::from_millis(10) {
            return Err(SimulationError::InvalidConfig("fault_duration must be at least 10 ms"));
        }
        if self.max_bytes_per_append.is_some_and(|bytes| bytes < 64) {
            return Err(SimulationError::InvalidConfig("max_bytes_per_append must be at least 64"));
        }
        if self.max_inflight_appends == Some(0) {
            return Err(SimulationError::InvalidConfig("max_inflight_appends must be at least 1"));
        }
        if self.max_uncommitted_entries == Some(0) {
            return Err(SimulationError::InvalidConfig(
                "max_uncommitted_entries must be at least 1",
            ));
        }
        if self.healing_bound < Duration::from_secs(1) {
            return Err(SimulationError::InvalidConfig("healing_bound must be at least 1 s"));
        }
        if self.lease_reads == Some(true) && self.check_quorum == Some(false) {
            return Err(SimulationError::InvalidConfig("lease_reads needs check_quorum"));
        }
        Ok(())
    }

    /// The command line that replays `seed` under this configuration, with
    /// `extra` flags after it (`--trace`, for one).
    pub fn replay_command(&self, seed: u64, extra: &str) -> String {
        let mut command = String::from("cargo run --release -p raft-testkit");
        #[cfg(feature = "planted-bugs")]
        if self.planted_bug.is_some() {
            command.push_str(" --features planted-bugs");
        }
        command.push_str(&format!(
            " --bin simulate -- --replay {seed} --nodes {} --faults {}",
            self.nodes, self.faults
        ));
        if self.fault_duration != DEFAULT_FAULT_DURATION {
            command.push_str(&format!(" --seconds {}", self.fault_duration.as_secs_f64()));
        }
        if self.healing_bound != DEFAULT_HEALING_BOUND {
            command.push_str(&format!(" --healing-bound {}", self.healing_bound.as_secs_f64()));
        }
        if let Some(bytes) = self.max_bytes_per_append {
            command.push_str(&format!(" --max-bytes-per-append {bytes}"));
        }
        if let Some(appends) = self.max_inflight_appends {
            command.push_str(&format!(" --max-inflight-appends {appends}"));
        }
        if let Some(entries) = self.max_uncommitted_entries {
            command.push_str(&format!(" --max-uncommitted-entries {entries}"));
        }
        for (flag, setting, default) in [
            ("--pre-vote", self.pre_vote, None),
            ("--check-quorum", self.check_quorum, None),
            ("--noop-on-election", self.noop_on_election, None),
            ("--lease-reads", self.lease_reads, Some(false)),
        ] {
            if setting != default {
                command.push_str(&format!(" {flag} {}", switch_name(setting)));
            }
        }
        #[cfg(feature = "planted-bugs")]
        if let Some(bug) = self.planted_bug {
            command.push_str(&format!(" --planted-bug {}", crate::sim::planted_bug_name(bug)));
        }
        if !extra.is_empty() {
            command.push(' ');
            command.push_str(extra);
        }
        command
    }
}

/// How the command line spells an extension's setting: `on`, `off`, or
/// `drawn` (the seed draws it).
pub(crate) fn switch_name(setting: Option<bool>) -> &'static str {
    match setting {
        Some(true) => "on",
        Some(false) => "off",
        None => "drawn",
    }
}

impl Default for SimulationConfig {
    fn default() -> SimulationConfig {
        SimulationConfig::new(3, FaultMix::Chaos)
    }
}
