//! A `raft-transport` backend over the simulated network.
