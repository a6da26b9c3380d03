//! The MIT 6.5840 (2025) Lab 4B tests: the key/value service without
//! snapshots, on the lab's simulated network. Each prints the lab's `Test:`
//! and `  ... Passed --` lines; every round's history is checked for
//! linearizability.

// Real servers in real time: the tests sleep and time waits, as the lab's do.
#![allow(clippy::disallowed_methods)]

#[path = "support/kv_test.rs"]
mod kv_test;

use std::thread;
use std::time::Duration;

use kv_test::{KvTest, Setup, generic_test, speed_test};

fn setup(clients: usize, servers: usize, reliable: bool) -> Setup {
    Setup::new(clients, servers, reliable, None)
}

#[test]
fn basic_4b() {
    generic_test("4B basic", setup(1, 5, true));
}

#[test]
fn speed_4b() {
    speed_test("4B", None);
}

#[test]
fn concurrent_4b() {
    generic_test("4B concurrent", setup(5, 5, true));
}

#[test]
fn unreliable_4b() {
    generic_test("4B unreliable", setup(5, 5, false));
}

#[test]
fn one_partition_4b() {
    let test = KvTest::new(setup(1, 5, false));
    let clerk = test.clerk();
    test.tester.begin("Test: progress in majority (4B)");
    let version = clerk.put_at_least_once("1", "13", 0);
    let leader = loop {
        match test.tester.leader() {
            Some(leader) => break leader,
            None => thread::sleep(Duration::from_millis(50)),
        }
    };
    // The leader and one other make the majority; the other two, the minority.
    let mut majority = vec![leader];
    majority.extend((0..5).filter(|&i| i != leader).take(2));
    let minority: Vec<usize> = (0..5).filter(|i| !majority.contains(i)).collect();
    test.tester.partition(&majority, &minority);
    let in_majority = test.clerk_to(&majority);
    let writer_in_minority = test.clerk_to(&minority);
    let reader_in_minority = test.clerk_to(&minority);
    let version = in_majority.put_at_least_once("1", "14", version);
    in_majority.check_get("1", "14", version);
    test.tester.end();

    test.tester.begin("Test: no progress in minority (4B)");
    thread::scope(|scope| {
        let (done, finished) = crossbeam_channel::unbounded();
        let writer = {
            let done = done.clone();
            let writer = &writer_in_minority;
            scope.spawn(move || {
                let outcome = writer.put("1", "15", version);
                let _ = done.send("Put");
                outcome
            })
        };
        let reader = {
            let reader = &reader_in_minority;
            scope.spawn(move || {
                let outcome = reader.get("1");
                let _ = done.send("Get");
                outcome
            })
        };
        if let Ok(operation) = finished.recv_timeout(Duration::from_secs(1)) {
            panic!("{operation} in minority completed");
        }
        in_majority.check_get("1", "14", version);
        test.tester.end();

        test.tester.begin("Test: completion after heal (4B)");
        test.tester.connect_all();
        writer_in_minority.connect_all();
        reader_in_minority.connect_all();
        for _ in 0..2 {
            finished.recv_timeout(Duration::from_secs(3)).expect("Put or Get did not complete");
        }
        let written = writer.join().expect("the writer");
        assert!(
            matches!(written, Ok(()) | Err(kv_example::KvError::Maybe)),
            "the healed Put returned {written:?}"
        );
        reader.join().expect("the reader").expect("the healed Get");
    });
    test.clerk().check_get("1", "15", version + 1);
    test.check_linearizable();
    test.tester.end();
}

#[test]
fn many_partitions_one_client_4b() {
    generic_test("4B", Setup { partitions: true, ..setup(1, 5, true) });
}

#[test]
fn many_partitions_many_clients_4b() {
    generic_test("4B", Setup { partitions: true, ..setup(5, 5, true) });
}

#[test]
fn persist_one_client_4b() {
    generic_test("4B", Setup { crash: true, ..setup(1, 5, true) });
}

#[test]
fn persist_concurrent_4b() {
    generic_test("4B", Setup { crash: true, ..setup(5, 5, true) });
}

#[test]
fn persist_concurrent_unreliable_4b() {
    generic_test("4B", Setup { crash: true, ..setup(5, 5, false) });
}

#[test]
fn persist_partition_4b() {
    generic_test("4B", Setup { crash: true, partitions: true, ..setup(5, 5, true) });
}

#[test]
fn persist_partition_unreliable_4b() {
    generic_test("4B", Setup { crash: true, partitions: true, ..setup(5, 5, false) });
}

#[test]
fn persist_partition_unreliable_linearizable_4b() {
    generic_test(
        "4B",
        Setup { crash: true, partitions: true, random_keys: true, ..setup(15, 7, false) },
    );
}
