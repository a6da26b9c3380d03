//! The MIT 6.5840 Lab 3 tester reproduced in Rust: a labrpc-style simulated
//! network (a `raft-transport` backend with the lab's fault model and counters),
//! the tester that crashes, restarts and checks Raft nodes, and the lab's 28
//! tests under `tests/`.

mod network;
mod sim_transport;
mod tester;
