//! The Lab 4 tests catch a broken server: with a planted bug (every server
//! answers Gets from its own state, without the log, as etcd's raftexample
//! once did), the lab's generic tests with partitions find a history that is
//! not linearizable, and say so.

// Real servers in real time, as in the lab's tests.
#![allow(clippy::disallowed_methods)]

#[path = "support/kv_test.rs"]
mod kv_test;

use std::panic::{self, AssertUnwindSafe};

use kv_test::{Setup, generic_test};

/// Runs the lab's generic test named `name` with the planted bug, and
/// returns whether it failed on the linearizability check.
fn caught(name: &str, setup: Setup) -> bool {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| generic_test(name, setup)));
    let caught = match outcome {
        Ok(()) => false,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            assert!(
                message.contains("history is not linearizable"),
                "{name} failed for another reason: {message}"
            );
            true
        }
    };
    println!(
        "planted bug (stale local reads): {name}: {}",
        if caught { "caught" } else { "not caught" }
    );
    caught
}

#[test]
fn stale_local_reads_are_caught_by_the_linearizability_tests() {
    // The lab's PersistPartitionUnreliableLinearizable4B, and its 4C twin.
    let linearizable = Setup {
        crash: true,
        partitions: true,
        random_keys: true,
        stale_reads: true,
        ..Setup::new(15, 7, false, None)
    };
    let in_4b = caught("PersistPartitionUnreliableLinearizable4B", linearizable);
    let in_4c = caught(
        "SnapshotUnreliableRecoverConcurrentPartitionLinearizable4C",
        Setup { max_raft_state: Some(1000), ..linearizable },
    );
    assert!(in_4b && in_4c, "the checker missed stale reads: 4B {in_4b}, 4C {in_4c}");
}
