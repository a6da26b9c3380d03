//! The names of the core's planted bugs, as the command line spells them
//! (test-only: with the `planted-bugs` feature).

use raft_core::PlantedBug;

use crate::sim::SimulationError;

/// The name of `bug` on the command line.
///
/// ```
/// use raft_core::PlantedBug;
/// use raft_testkit::{planted_bug_name, planted_bug_named};
///
/// let name = planted_bug_name(PlantedBug::VoteTwiceInOneTerm);
/// assert_eq!(name, "vote-twice-in-one-term");
/// assert_eq!(planted_bug_named(name)?, PlantedBug::VoteTwiceInOneTerm);
/// # Ok::<(), raft_testkit::SimulationError>(())
/// ```
pub fn planted_bug_name(bug: PlantedBug) -> &'static str {
    match bug {
        PlantedBug::VoteTwiceInOneTerm => "vote-twice-in-one-term",
        PlantedBug::CommitEarlierTermByCounting => "commit-earlier-term-by-counting",
        PlantedBug::TruncateMatchingEntries => "truncate-matching-entries",
        PlantedBug::AnswerBeforePersisting => "answer-before-persisting",
        PlantedBug::SnapshotBelowCommitIndex => "snapshot-below-commit-index",
        PlantedBug::NoHeartbeatDuringSnapshot => "no-heartbeat-during-snapshot",
    }
}

/// The planted bug named `name`.
///
/// # Errors
/// [`SimulationError::UnknownPlantedBug`] if no bug has that name.
pub fn planted_bug_named(name: &str) -> Result<PlantedBug, SimulationError> {
    PlantedBug::ALL
        .into_iter()
        .find(|&bug| planted_bug_name(bug) == name)
        .ok_or_else(|| SimulationError::UnknownPlantedBug(name.to_owned()))
}
