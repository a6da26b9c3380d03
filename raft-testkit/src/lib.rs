//! The MIT 6.5840 Lab 3 and Lab 4 testers reproduced in Rust, to run the
//! lab's 28 Raft tests against `raft-core` and its service tests against the
//! services built on it.
//!
//! - [`Network`]: labrpc's simulated network, with its fault model (drops,
//!   delays, long reordering, dead servers) and its RPC and byte counters.
//! - [`SimTransport`]: a `raft-transport` backend over that network, so a
//!   `raft-core` node talks to its peers through labrpc-style ends.
//! - [`Tester`]: the lab's test harness. It starts, crashes and restarts
//!   nodes (each restart begins from a copy of the crashed node's
//!   [`MemPersister`](raft_persist::MemPersister)), connects and disconnects
//!   them, checks every apply channel, and offers the lab's helpers
//!   ([`check_one_leader`](Tester::check_one_leader), [`one`](Tester::one),
//!   [`wait`](Tester::wait), ...). Commands are [`Command`]s, postcard-encoded.
//! - [`ServiceTester`]: Lab 4's harness for a replicated service: each server
//!   runs a [`ServiceServer`] over a Raft node on the network; clients reach
//!   servers through [`ClientEnds`]; partitions, crashes and restarts as the
//!   lab makes them. It knows nothing of what the service does: the
//!   replicated-state-machine tests (`raft-rsm`) and the key/value tests
//!   (`kv-example`) bring their own servers.
//! - [`check`]: a linearizability checker equivalent to porcupine (Wing and
//!   Gong's search with Lowe's memoization, histories split by
//!   [`Model::partition_key`] and checked in parallel, a time limit that
//!   gives [`CheckResult::Unknown`] rather than hang), with the lab's
//!   versioned key/value model [`KvModel`] and, on request, a self-contained
//!   HTML timeline of a history ([`write_visualization`]).
//! - [`Simulation`]: a deterministic simulator of a whole cluster of
//!   `raft-core`'s [`Raft`](raft_core::Raft) cores in virtual time, under
//!   seeded faults, checking Raft's properties after every step; [`Sweep`]
//!   runs many seeds. `SIMULATOR.md` and the `simulate` command tell more.
//!
//! The lab tests live under `tests/` (`lab_3a.rs` to `lab_3d.rs`); each prints
//! the lab's lines (`cargo test -p raft-testkit --test lab_3a -- --nocapture`;
//! add `--test-threads=1` to keep the harness's own lines in order). Each
//! tester holds a process-wide lock, so the tests run one at a time.
//!
//! # Which lab version
//!
//! The tests follow the Spring 2025 lab where the 2024 and 2025 versions
//! differ in behaviour: a restart reconnects the whole group, a restarted
//! server's applied record starts empty (so it must re-apply from its snapshot
//! or index 1), the tester takes in the persisted snapshot after the node
//! starts, and "crash and restart all servers" and "snapshot initialization
//! after crash" run on an unreliable network. The output is the 2024 lab's,
//! which carries more: `<description> ...` then
//! `  ... Passed --  <seconds> <peers> <RPCs> <bytes> <commands>`, with the 2024
//! descriptions (which name the unreliable 3D variants).
//!
//! Two deliberate departures from labrpc: a server that dies fails its waiting
//! calls at once rather than at labrpc's next 100 ms poll, and a reply held
//! back by long reordering is dropped if its server died meanwhile (labrpc
//! delivers it), so a killed server is never heard from again.
//!
//! Not here: the Raft protocol itself, and key/value semantics beyond the
//! checker's model.
//!
//! Feature `planted-bugs` (test-only, off by default): the simulator can run
//! cores with `raft-core`'s planted bugs, to show it catches them.
//!
//! ```
//! use raft_testkit::{Command, Index, Tester};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tester = Tester::new(3, true, false);
//! tester.begin("Example: one leader, one command");
//! let leader = tester.check_one_leader();
//! assert!(leader < 3);
//! let index = tester.one(Command::Int(100), 3, false);
//! assert_eq!(index, Index(1));
//! assert_eq!(tester.n_committed(index), (3, Some(Command::Int(100))));
//! // Raft replicates the command's bytes.
//! assert_eq!(Command::decode(&Command::Int(100).encode())?, Command::Int(100));
//! tester.end();
//! # Ok(())
//! # }
//! ```

mod linearizability;
mod network;
mod service_tester;
mod sim;
mod sim_transport;
mod tester;

pub use crate::linearizability::write_visualization;
pub use crate::linearizability::{Annotation, CheckReport, CheckResult, HistoryError, check};
pub use crate::linearizability::{KvInput, KvModel, KvOutput, KvState, PutOutcome};
pub use crate::linearizability::{Model, Operation, PartitionReport, VisualizationPolicy};
pub use crate::linearizability::{VISUALIZATION_FILE_VARIABLE, VISUALIZATION_POLICY_VARIABLE};
pub use crate::linearizability::{VisualizationPolicyError, visualization_path};
pub use crate::network::{Network, Service};
pub use crate::service_tester::{ClientEnds, ServerStart, ServiceServer, ServiceTester};
pub use crate::sim::{DEFAULT_FAULT_DURATION, DEFAULT_HEALING_BOUND, MAX_NODES};
pub use crate::sim::{Failure, RunCounters, RunReport, Violation, shrink_faults};
pub use crate::sim::{FaultMix, Simulation, SimulationConfig, SimulationError, VirtualTime};
pub use crate::sim::{Sweep, SweepReport};
#[cfg(feature = "planted-bugs")]
pub use crate::sim::{planted_bug_name, planted_bug_named};
pub use crate::sim_transport::SimTransport;
pub use crate::tester::{Command, RAFT_ELECTION_TIMEOUT, SEED_VARIABLE, SNAPSHOT_INTERVAL, Tester};
pub use raft_core::{Index, Node, Proposal, Term};
