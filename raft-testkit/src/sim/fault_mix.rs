//! [`FaultMix`]: the named families of faults a simulation injects.

use std::fmt;
use std::str::FromStr;

use crate::sim::SimulationError;

/// Which faults a simulation injects while its fault phase lasts. Each mix
/// is a family: the seed draws the exact rates, sizes and settings from the
/// mix's ranges (see `SIMULATOR.md` for the table).
///
/// Every mix runs the same workload (a client proposing at a steady rate, the
/// services taking snapshots) over a network with latency jitter, so
/// messages are reordered in all of them, and disks whose saves take time.
///
/// ```
/// use raft_testkit::FaultMix;
///
/// let mix: FaultMix = "partitions".parse()?;
/// assert_eq!(mix, FaultMix::Partitions);
/// assert_eq!(mix.name(), "partitions");
/// assert_eq!(FaultMix::ALL.len(), 7);
/// # Ok::<(), raft_testkit::SimulationError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultMix {
    /// No faults: latency jitter and disk latency only.
    Calm,
    /// Messages lost, duplicated and held back (long reordering).
    Lossy,
    /// Partitions of every kind (symmetric, one-way, the leader isolated, a
    /// bridge node that sees both halves), over light loss.
    Partitions,
    /// Crashes that lose what was not yet saved, and restarts; the leader is
    /// a frequent victim; slow disks.
    Crashes,
    /// Clock jumps: a node's ticks stall and then burst, and tick rates are
    /// skewed within a bound.
    Clocks,
    /// Frequent snapshots that are slow to transfer (longer than an election
    /// timeout), with lagging nodes (isolated or crashed) that need them.
    Snapshots,
    /// Everything at once.
    Chaos,
}

impl FaultMix {
    /// Every mix, in declaration order.
    pub const ALL: [FaultMix; 7] = [
        FaultMix::Calm,
        FaultMix::Lossy,
        FaultMix::Partitions,
        FaultMix::Crashes,
        FaultMix::Clocks,
        FaultMix::Snapshots,
        FaultMix::Chaos,
    ];

    /// The mix's name, as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            FaultMix::Calm => "calm",
            FaultMix::Lossy => "lossy",
            FaultMix::Partitions => "partitions",
            FaultMix::Crashes => "crashes",
            FaultMix::Clocks => "clocks",
            FaultMix::Snapshots => "snapshots",
            FaultMix::Chaos => "chaos",
        }
    }
}

impl fmt::Display for FaultMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultMix {
    type Err = SimulationError;

    fn from_str(name: &str) -> Result<FaultMix, SimulationError> {
        FaultMix::ALL
            .into_iter()
            .find(|mix| mix.name() == name)
            .ok_or_else(|| SimulationError::UnknownFaultMix(name.to_owned()))
    }
}
