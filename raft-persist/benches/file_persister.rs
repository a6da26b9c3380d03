//! Criterion benchmarks of the file persister (filled in with the file backend).

fn main() {}
