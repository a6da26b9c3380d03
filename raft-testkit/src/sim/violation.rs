//! [`Violation`] and [`SimulationError`]: the property a failing run broke,
//! and why a simulation could not start.

use std::sync::Arc;
use std::time::Duration;

use raft_core::{Index, RaftError, Term};
use raft_persist::PersistError;

/// The property a run broke: one of Raft's safety properties, the
/// linearizability of reads, the driver contract, or liveness once the faults
/// stopped. Nodes are numbered from 0
/// (`n0`, `n1`, ... in traces).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// Two nodes led one term (Raft §5.2, Election Safety).
    #[error("election safety: nodes {first} and {second} both led term {term}")]
    ElectionSafety {
        /// The term.
        term: Term,
        /// The node seen leading it first.
        first: usize,
        /// The other.
        second: usize,
    },
    /// An (index, term) pair was seen with two different entries, or after
    /// two different terms: two logs that share an entry differ before it
    /// (Raft §5.3, Log Matching).
    #[error(
        "log matching: node {node} holds ({index}, {term}) with {what} unlike another log that holds it"
    )]
    LogMatching {
        /// The node whose log disagrees.
        node: usize,
        /// The entry's index.
        index: Index,
        /// The entry's term.
        term: Term,
        /// What differs: "other data" or "another entry before it".
        what: &'static str,
    },
    /// A leader lacks an entry known committed in an earlier term (Raft
    /// §5.4.1, Leader Completeness).
    #[error(
        "leader completeness: node {leader} leads term {term} without ({index}, {committed_term}), known committed in term {known_in}; its log has {found:?} there"
    )]
    LeaderCompleteness {
        /// The leader.
        leader: usize,
        /// Its term.
        term: Term,
        /// The committed entry's index.
        index: Index,
        /// The committed entry's term.
        committed_term: Term,
        /// The earliest term in which a node showed it committed.
        known_in: Term,
        /// The term the leader's log has at `index`, if any.
        found: Option<Term>,
    },
    /// A leader removed entries from its own log (Raft Figure 3, Leader
    /// Append-Only).
    #[error(
        "leader append-only: node {leader}, leading term {term}, truncated its log from {from}"
    )]
    LeaderTruncated {
        /// The leader.
        leader: usize,
        /// Its term.
        term: Term,
        /// The first index dropped.
        from: Index,
    },
    /// Two nodes showed different entries committed at one index.
    #[error(
        "committed entries differ: node {node} shows ({index}, {term}) committed, another node showed term {other_term}"
    )]
    CommittedEntriesDiffer {
        /// The node seen last.
        node: usize,
        /// The index.
        index: Index,
        /// Its term there.
        term: Term,
        /// The term another node showed committed there.
        other_term: Term,
    },
    /// Two services applied different commands at one index, or reached one
    /// index with different states (Raft §5.4.3, State Machine Safety).
    #[error("state machine safety: node {node} applied a different {what} at index {index}")]
    StateMachineSafety {
        /// The node seen last.
        node: usize,
        /// The index.
        index: Index,
        /// "command" or "state" (the digest of everything through the index).
        what: &'static str,
    },
    /// A node's commit index went down within one incarnation.
    #[error("node {node}'s commit index fell from {from} to {to}")]
    CommitIndexDecreased {
        /// The node.
        node: usize,
        /// What it was.
        from: Index,
        /// What it became.
        to: Index,
    },
    /// A service was handed an index it had applied already, in one
    /// incarnation.
    #[error("node {node} was handed index {index} to apply again after applying {applied}")]
    AppliedTwice {
        /// The node.
        node: usize,
        /// The index handed over.
        index: Index,
        /// What its service had applied.
        applied: Index,
    },
    /// A service was handed a command past the next index: one was skipped.
    #[error("node {node} was handed index {index} after applying only {applied}")]
    AppliedOutOfOrder {
        /// The node.
        node: usize,
        /// The index handed over.
        index: Index,
        /// What its service had applied.
        applied: Index,
    },
    /// A service was handed a snapshot at or below what it had applied.
    #[error(
        "node {node}'s service was moved back by a snapshot through {index} after applying {applied}"
    )]
    SnapshotMovedServiceBackward {
        /// The node.
        node: usize,
        /// The snapshot's index.
        index: Index,
        /// What its service had applied.
        applied: Index,
    },
    /// A proposal the client was told had committed was later applied with
    /// other bytes, or never reached the final commit index.
    #[error("acknowledged write lost: the command committed at index {index} {how}")]
    AcknowledgedWriteLost {
        /// Its index.
        index: Index,
        /// "was applied with other bytes by node N", or "is past the final commit index".
        how: String,
    },
    /// A linearizable read (ReadIndex, thesis §6.4, or a lease read) got a
    /// read index below a client's command that it must see: one that was
    /// acknowledged to the client before the read began, or that the state
    /// of a read served before it began held. The state applied through that
    /// index misses a write that completed before the read.
    #[error(
        "stale read: node {node} gave read index {index} to a read that began after the command at index {floor} {why}"
    )]
    StaleRead {
        /// The node the client asked.
        node: usize,
        /// The read index it gave.
        index: Index,
        /// The command the read must see.
        floor: Index,
        /// How the client knew of it: "was acknowledged", or "was seen by a
        /// read served earlier".
        why: &'static str,
    },
    /// A node's persister refused an update the core asked for.
    #[error("node {node}'s update does not apply to its disk")]
    Persistence {
        /// The node.
        node: usize,
        /// The persister's refusal.
        #[source]
        source: Arc<PersistError>,
    },
    /// The core refused an input that a correct driver may give it, or could
    /// not restart from its own disk.
    #[error("node {node}'s core refused to {what}")]
    CoreRefused {
        /// The node.
        node: usize,
        /// What it was asked.
        what: &'static str,
        /// Its error.
        #[source]
        source: RaftError,
    },
    /// The core broke the driver contract: an answer to a call that was
    /// never made to it, or a `Ready` that never runs dry.
    #[error("node {node} broke the driver contract: {what}")]
    DriverContract {
        /// The node.
        node: usize,
        /// What it did.
        what: String,
    },
    /// The core panicked.
    #[error("the core panicked: {message}")]
    Panic {
        /// The panic's message.
        message: String,
    },
    /// After the faults stopped, the cluster did not elect a leader and
    /// catch every node up within the bound.
    #[error("liveness: the healed cluster did not converge within {bound:?}: {state}")]
    Liveness {
        /// The bound.
        bound: Duration,
        /// Each node's role, term, commit and applied index at the bound.
        state: String,
    },
}

impl Violation {
    /// A short name of the property, for tables and summaries.
    pub fn property(&self) -> &'static str {
        match self {
            Violation::ElectionSafety { .. } => "election safety",
            Violation::LogMatching { .. } => "log matching",
            Violation::LeaderCompleteness { .. } => "leader completeness",
            Violation::LeaderTruncated { .. } => "leader append-only",
            Violation::CommittedEntriesDiffer { .. } => "committed entries differ",
            Violation::StateMachineSafety { .. } => "state machine safety",
            Violation::CommitIndexDecreased { .. } => "commit index decreased",
            Violation::AppliedTwice { .. } => "applied twice",
            Violation::AppliedOutOfOrder { .. } => "applied out of order",
            Violation::SnapshotMovedServiceBackward { .. } => "snapshot moved the service backward",
            Violation::AcknowledgedWriteLost { .. } => "acknowledged write lost",
            Violation::StaleRead { .. } => "stale read",
            Violation::Persistence { .. } => "persistence",
            Violation::CoreRefused { .. } => "core refused",
            Violation::DriverContract { .. } => "driver contract",
            Violation::Panic { .. } => "panic",
            Violation::Liveness { .. } => "liveness",
        }
    }
}

/// Why a simulation could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimulationError {
    /// A setting is out of range.
    #[error("invalid simulation setting: {0}")]
    InvalidConfig(&'static str),
    /// No fault mix has this name.
    #[error("no fault mix is named {0:?}")]
    UnknownFaultMix(String),
    /// No planted bug has this name.
    #[error("no planted bug is named {0:?}")]
    UnknownPlantedBug(String),
    /// A node's core refused its configuration.
    #[error("a node's core refused its configuration")]
    Core(#[source] RaftError),
}
