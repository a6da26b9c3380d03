//! [`VirtualTime`]: the simulator's clock, which moves only from one event to
//! the next.

use std::fmt;
use std::time::Duration;

/// Virtual microseconds in one Raft tick (10 ms, the core's default tick).
pub(crate) const TICK_MICROS: u64 = 10_000;

/// A moment on a simulation's virtual clock, in microseconds since the run
/// began. No real clock is ever read: time jumps from one scheduled event to
/// the next, so a simulated second costs only the work done in it.
///
/// ```
/// use std::time::Duration;
///
/// use raft_testkit::VirtualTime;
///
/// let time = VirtualTime::from_micros(1_500_250);
/// assert_eq!(time.since_start(), Duration::from_micros(1_500_250));
/// assert_eq!(time.to_string(), "1.500250s");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtualTime(u64);

impl VirtualTime {
    /// The start of a run.
    pub const START: VirtualTime = VirtualTime(0);

    /// The moment `micros` microseconds after the start.
    pub fn from_micros(micros: u64) -> VirtualTime {
        VirtualTime(micros)
    }

    /// Microseconds since the start.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// The virtual time elapsed since the start.
    pub fn since_start(self) -> Duration {
        Duration::from_micros(self.0)
    }
}

impl fmt::Display for VirtualTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// Whole microseconds of `duration`, saturating.
pub(crate) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
