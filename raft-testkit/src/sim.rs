//! A deterministic simulator of a whole Raft cluster in virtual time: the
//! public core ([`raft_core::Raft`]) over the real log and
//! [`MemPersister`](raft_persist::MemPersister), driven as a real driver
//! drives it, under seeded faults, with Raft's properties checked after every
//! step.
//!
//! - [`Simulation`]: one run of one seed; [`Sweep`]: many seeds, on threads.
//! - [`SimulationConfig`]: the cluster size, the [`FaultMix`], the phase
//!   lengths, the core's extensions (PreVote, CheckQuorum, the leader's no-op,
//!   lease reads: drawn per seed, or fixed), and, test-only, a planted bug.
//! - [`RunReport`] and [`RunCounters`]: what a run did; [`Failure`] and
//!   [`Violation`]: the property a failing run broke, with the command line
//!   that replays it.
//!
//! What it simulates: a virtual clock (a tick is 10 ms); a network that
//! delays, loses, duplicates and reorders every message on its own, and
//! partitions (symmetric, one-way, the leader isolated, a bridge node);
//! calls that fail at a deadline, one outcome per call as a transport gives;
//! crashes that keep only what was saved, and restarts; disks whose saves take
//! time and complete in order while the node runs on; a client's proposals
//! and its linearizable reads (ReadIndex, through the leader or a follower,
//! each checked against the writes acknowledged and the reads served before
//! it began); leadership transfers; the services' snapshots; and clocks
//! whose ticks stall and burst, at rates skewed within a bound.
//! `SIMULATOR.md` at the crate's root has the details, the properties and
//! how to run it.
//!
//! Not here: real time, threads inside a run, and membership changes.

mod calls;
mod checker;
mod client;
mod config;
mod disk;
mod events;
mod fault_mix;
mod network;
mod node;
#[cfg(feature = "planted-bugs")]
mod planted;
mod profile;
mod reads;
mod report;
mod schedule;
mod service;
mod shrink;
mod simulation;
mod sweep;
mod time;
mod trace;
mod violation;

pub use self::config::{
    DEFAULT_FAULT_DURATION, DEFAULT_HEALING_BOUND, MAX_NODES, SimulationConfig,
};
pub use self::fault_mix::FaultMix;
#[cfg(feature = "planted-bugs")]
pub use self::planted::{planted_bug_name, planted_bug_named};
pub use self::report::{Failure, RunCounters, RunReport};
pub use self::shrink::shrink_faults;
pub use self::simulation::Simulation;
pub use self::sweep::{Sweep, SweepReport};
pub use self::time::VirtualTime;
pub use self::violation::{SimulationError, Violation};
