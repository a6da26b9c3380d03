//! The labrpc-style simulated network.
