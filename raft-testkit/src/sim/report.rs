//! [`RunReport`], [`RunCounters`] and [`Failure`]: what one simulated run
//! did, and how it failed.

use std::fmt;
use std::time::Duration;

use crate::sim::time::VirtualTime;
use crate::sim::{SimulationConfig, Violation};

/// Running totals of one run, to show what it exercised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounters {
    /// Messages handed to the network (requests and answers).
    pub messages: u64,
    /// Messages lost: dropped by the weather, or sent or arriving over a
    /// link that was down, or to a node that was down.
    pub lost: u64,
    /// Extra copies the network delivered.
    pub duplicated: u64,
    /// Calls that failed at their deadline.
    pub failed_calls: u64,
    /// Answers delivered after the first for one call.
    pub extra_answers: u64,
    /// Answers dropped because their call had failed already.
    pub late_answers: u64,
    /// Saves completed.
    pub saves: u64,
    /// Saves in progress that crashes lost.
    pub lost_saves: u64,
    /// Crashes.
    pub crashes: u64,
    /// Restarts.
    pub restarts: u64,
    /// Partitions laid.
    pub partitions: u64,
    /// Clock stalls.
    pub clock_stalls: u64,
    /// Proposals the client made.
    pub proposals: u64,
    /// Proposals a leader appended.
    pub appended: u64,
    /// Proposals the client was told had committed.
    pub acknowledged: u64,
    /// Commands applied by the services, over all nodes.
    pub applied: u64,
    /// Snapshots the services took.
    pub snapshots_taken: u64,
    /// Snapshots the services installed from a leader.
    pub snapshots_installed: u64,
    /// Reads the client asked for (ReadIndex).
    pub reads: u64,
    /// Reads whose index came back, checked against what the client knew
    /// was written.
    pub reads_indexed: u64,
    /// Reads refused or failed (no leader known, leadership lost, a failed
    /// call to the leader).
    pub reads_refused: u64,
    /// Reads served: their node's service had applied through their index.
    pub reads_served: u64,
    /// Of those, reads asked of a node that did not lead (forwarded).
    pub follower_reads_served: u64,
    /// Reads a leader answered at once, without a heartbeat round: under a
    /// lease (or in a one-node cluster).
    pub reads_answered_at_once: u64,
    /// Leadership transfers a leader took on.
    pub transfers: u64,
    /// Of those, transfers whose target took the lead.
    pub transfers_completed: u64,
    /// The highest term any node reached.
    pub highest_term: u64,
}

impl RunCounters {
    /// Adds another run's totals to these (the highest term is the higher
    /// of the two).
    pub fn add(&mut self, other: &RunCounters) {
        self.messages += other.messages;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.failed_calls += other.failed_calls;
        self.extra_answers += other.extra_answers;
        self.late_answers += other.late_answers;
        self.saves += other.saves;
        self.lost_saves += other.lost_saves;
        self.crashes += other.crashes;
        self.restarts += other.restarts;
        self.partitions += other.partitions;
        self.clock_stalls += other.clock_stalls;
        self.proposals += other.proposals;
        self.appended += other.appended;
        self.acknowledged += other.acknowledged;
        self.applied += other.applied;
        self.snapshots_taken += other.snapshots_taken;
        self.snapshots_installed += other.snapshots_installed;
        self.reads += other.reads;
        self.reads_indexed += other.reads_indexed;
        self.reads_refused += other.reads_refused;
        self.reads_served += other.reads_served;
        self.follower_reads_served += other.follower_reads_served;
        self.reads_answered_at_once += other.reads_answered_at_once;
        self.transfers += other.transfers;
        self.transfers_completed += other.transfers_completed;
        self.highest_term = self.highest_term.max(other.highest_term);
    }
}

/// What one run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// The configuration.
    pub config: SimulationConfig,
    /// The virtual time the run covered, faults and healing.
    pub simulated: Duration,
    /// How long the healed cluster took to converge (elect a leader and
    /// bring every node to its commit index), if it got that far.
    pub healing: Option<Duration>,
    /// Steps (events) taken.
    pub steps: u64,
    /// A digest of the run's full trace: two runs of one seed and
    /// configuration have the same digest.
    pub digest: u64,
    /// What the run exercised.
    pub counters: RunCounters,
    /// The trace's lines, if the run was traced (see
    /// [`Simulation::trace`](crate::Simulation::trace)).
    pub trace: Vec<String>,
}

/// A run that broke a property.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The property broken.
    pub violation: Violation,
    /// When, in virtual time.
    pub at: VirtualTime,
    /// After how many steps.
    pub step: u64,
    /// The run up to the failure (its trace ends with the violation).
    pub report: Box<RunReport>,
}

impl Failure {
    /// The command line that replays this run.
    pub fn replay_command(&self) -> String {
        self.report.config.replay_command(self.report.seed, "")
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.report.config;
        write!(
            f,
            "seed {} ({} nodes, faults {}) failed at {}, step {}: {}\n  replay: {}",
            self.report.seed,
            config.nodes,
            config.faults,
            self.at,
            self.step,
            self.violation,
            self.replay_command()
        )
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.violation)
    }
}
