//! [`ReadId`] and [`ReadOutcome`]: linearizable reads without log writes
//! (ReadIndex, thesis §6.4), as the core hands them to its driver.

use raft_log::Index;

use crate::ReadError;

/// The driver's name for a read it asked the core for with
/// [`Raft::read_index`](crate::Raft::read_index); it comes back on the
/// [`ReadOutcome`]. Any numbering the driver likes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadId(pub u64);

/// The answer to one read: the index the service must have applied through
/// before it reads its state, or why there is none.
///
/// A read index is the leader's commit index when the read began (or, for a
/// new leader, once an entry of its own term committed), confirmed by a
/// majority's answers to a heartbeat round sent after: a state applied
/// through it reflects every write acknowledged before the read began.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOutcome {
    /// The read.
    pub id: ReadId,
    /// Its read index, or why there is none.
    pub result: Result<Index, ReadError>,
}
