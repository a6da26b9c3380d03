//! The MIT 6.5840 (2025) Lab 4C tests: the key/value service with
//! snapshots (maxraftstate 1000), on the lab's simulated network. Each
//! prints the lab's `Test:` and `  ... Passed --` lines.

// Real servers in real time: the tests sleep and time waits, as the lab's do.
#![allow(clippy::disallowed_methods)]

#[path = "support/kv_test.rs"]
mod kv_test;

use std::thread;

use kv_test::{KvTest, Setup, generic_test, speed_test};
use raft_testkit::RAFT_ELECTION_TIMEOUT;

const MAX_RAFT_STATE: u64 = 1000;

fn setup(clients: usize, servers: usize, reliable: bool) -> Setup {
    Setup::new(clients, servers, reliable, Some(MAX_RAFT_STATE))
}

#[test]
fn snapshot_rpc_4c() {
    let test = KvTest::new(setup(1, 3, true));
    test.tester.begin("Test: InstallSnapshot RPC (4C)");
    let clerk = test.clerk();
    let version_a = clerk.put_at_least_once("a", "A", 0);
    clerk.check_get("a", "A", version_a);

    // A bunch of Puts into the majority partition.
    test.tester.partition(&[0, 1], &[2]);
    let majority = test.clerk_to(&[0, 1]);
    for i in 0..50 {
        majority.put_at_least_once(&i.to_string(), &i.to_string(), 0);
    }
    thread::sleep(RAFT_ELECTION_TIMEOUT);
    let version_b = majority.put_at_least_once("b", "B", 0);
    // The majority has thrown away most of its log.
    test.check_sizes();

    // A majority that needs the lagging server, which must catch up.
    test.tester.partition(&[0, 2], &[1]);
    let with_lagging = test.clerk_to(&[0, 2]);
    with_lagging.put_at_least_once("c", "C", 0);
    with_lagging.put_at_least_once("d", "D", 0);
    with_lagging.check_get("a", "A", version_a);
    with_lagging.check_get("b", "B", version_b);
    with_lagging.check_get("1", "1", 1);
    with_lagging.check_get("49", "49", 1);

    // Now everybody.
    test.tester.connect_all();
    clerk.put_at_least_once("e", "E", 0);
    clerk.check_get("c", "C", 1);
    clerk.check_get("e", "E", 1);
    clerk.check_get("1", "1", 1);
    test.check_linearizable();
    test.tester.end();
}

#[test]
fn snapshot_size_4c() {
    const MAX_SNAPSHOT_STATE: u64 = 500;
    let test = KvTest::new(setup(1, 3, true));
    test.tester.begin("Test: snapshot size is reasonable (4C)");
    let clerk = test.clerk();
    let mut version = 0;
    for _ in 0..200 {
        clerk.put_at_least_once("x", "0", version);
        clerk.check_get("x", "0", version + 1);
        clerk.put_at_least_once("x", "1", version + 1);
        clerk.check_get("x", "1", version + 2);
        version += 2;
    }
    test.check_sizes();
    let size = test.tester.snapshot_size();
    assert!(size <= MAX_SNAPSHOT_STATE, "snapshot too large ({size} > {MAX_SNAPSHOT_STATE})");
    test.tester.end();
}

#[test]
fn speed_4c() {
    speed_test("4C", Some(MAX_RAFT_STATE));
}

#[test]
fn snapshot_recover_4c() {
    generic_test("4C", Setup { crash: true, ..setup(1, 5, true) });
}

#[test]
fn snapshot_recover_many_clients_4c() {
    generic_test("4C", Setup { crash: true, ..setup(20, 5, true) });
}

#[test]
fn snapshot_unreliable_4c() {
    generic_test("4C", setup(5, 5, false));
}

#[test]
fn snapshot_unreliable_recover_4c() {
    generic_test("4C", Setup { crash: true, ..setup(5, 5, false) });
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_4c() {
    generic_test("4C", Setup { crash: true, partitions: true, ..setup(5, 5, false) });
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_4c() {
    generic_test(
        "4C",
        Setup { crash: true, partitions: true, random_keys: true, ..setup(15, 7, false) },
    );
}
