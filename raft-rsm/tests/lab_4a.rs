//! The MIT 6.5840 (2025) Lab 4A tests of the replicated-state-machine layer
//! (`kvraft1/rsm/rsm_test.go`), and TestSnapshot4C: a counter replicated on
//! three servers of the lab's simulated network, reliable, without long
//! delays. Each prints the lab's `Test RSM ...` and `  ... Passed --` lines.

// Real nodes in real time: the tests sleep and time waits, as the lab's do.
#![allow(clippy::disallowed_methods)]

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use raft_rsm::{Rsm, RsmConfig, StateMachine, SubmitError};
use raft_testkit::{ServerStart, ServiceServer, ServiceTester};
use serde::{Deserialize, Serialize};

/// The lab's `NSRV`.
const SERVERS: usize = 3;
/// The lab's `NSEC`: a test gives up on an operation after this long.
const GIVE_UP: Duration = Duration::from_secs(10);

/// The lab's test operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Operation {
    Inc,
    Dec,
    Null,
}

/// The lab's test state machine: a counter.
#[derive(Debug, Default)]
struct Counter {
    value: i64,
}

impl StateMachine for Counter {
    type Command = Operation;
    type Output = i64;

    fn apply(&mut self, operation: Operation) -> i64 {
        match operation {
            Operation::Inc => self.value += 1,
            Operation::Dec => self.value -= 1,
            Operation::Null => {}
        }
        self.value
    }

    fn snapshot(&self) -> Vec<u8> {
        self.value.to_le_bytes().to_vec()
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), String> {
        let bytes: [u8; 8] = snapshot.try_into().map_err(|_| "not a counter".to_owned())?;
        self.value = i64::from_le_bytes(bytes);
        Ok(())
    }
}

/// One server: the counter's replicated state machine. Clients call it
/// directly, as the lab's RSM tests do, so it answers no RPC.
struct CounterServer {
    rsm: Rsm<Counter>,
}

impl ServiceServer for CounterServer {
    fn handle(&self, _request: Vec<u8>) -> Option<Vec<u8>> {
        None
    }

    fn kill(&self) {
        self.rsm.shutdown();
    }

    fn node(&self) -> &raft_core::Node {
        self.rsm.node()
    }
}

/// The lab's RSM test: the service tester and the running servers' handles.
struct RsmTest {
    tester: ServiceTester,
    servers: Arc<Mutex<Vec<Option<Rsm<Counter>>>>>,
    leader: Mutex<usize>,
}

impl RsmTest {
    fn new(max_raft_state: Option<u64>) -> RsmTest {
        let servers: Arc<Mutex<Vec<Option<Rsm<Counter>>>>> =
            Arc::new(Mutex::new(vec![None; SERVERS]));
        let registry = Arc::clone(&servers);
        let tester =
            ServiceTester::new(SERVERS, true, max_raft_state, move |start: ServerStart| {
                let config =
                    RsmConfig { max_raft_state: start.max_raft_state, ..RsmConfig::default() };
                let rsm = Rsm::start(start.builder, Counter::default(), config)
                    .expect("a counter server starts");
                registry.lock().unwrap_or_else(PoisonError::into_inner)[start.index] =
                    Some(rsm.clone());
                Arc::new(CounterServer { rsm }) as Arc<dyn ServiceServer>
            });
        RsmTest { tester, servers, leader: Mutex::new(0) }
    }

    fn server(&self, i: usize) -> Option<Rsm<Counter>> {
        self.servers.lock().unwrap_or_else(PoisonError::into_inner)[i].clone()
    }

    fn shutdown_servers(&self) {
        self.tester.shutdown_servers();
        self.servers.lock().unwrap_or_else(PoisonError::into_inner).fill(None);
    }

    /// The lab's `onePartition`: submits `operation` to the servers of
    /// `within` (all when `None`), from the last leader on, until one
    /// commits it; gives up after [`GIVE_UP`].
    fn one_within(&self, within: Option<&[usize]>, operation: Operation) -> i64 {
        let started = Instant::now();
        while started.elapsed() < GIVE_UP {
            let mut index = *self.leader.lock().unwrap_or_else(PoisonError::into_inner);
            for _ in 0..SERVERS {
                if within.is_none_or(|servers| servers.contains(&index))
                    && let Some(rsm) = self.server(index)
                    && let Ok(value) = rsm.submit(operation)
                {
                    *self.leader.lock().unwrap_or_else(PoisonError::into_inner) = index;
                    return value;
                }
                index = (index + 1) % SERVERS;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("one: took too long");
    }

    fn one_inc(&self) -> i64 {
        self.one_within(None, Operation::Inc)
    }

    /// How many running servers hold `value`.
    fn count_value(&self, value: i64) -> usize {
        (0..SERVERS)
            .filter_map(|i| self.server(i))
            .filter(|rsm| rsm.read_local(|counter| counter.value) == value)
            .count()
    }

    /// The lab's `checkCounter`: waits, backing off, until `servers` servers
    /// hold `value`.
    fn check_counter(&self, value: i64, servers: usize) {
        let mut pause = Duration::from_millis(10);
        let mut holding = 0;
        for _ in 0..30 {
            holding = self.count_value(value);
            if holding >= servers {
                return;
            }
            thread::sleep(pause);
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
        }
        panic!("checkCounter: only {holding} srvs have {value} instead of {servers}");
    }

    /// The server that believes it leads, asked through its node.
    fn leader(&self) -> usize {
        let started = Instant::now();
        while started.elapsed() < GIVE_UP {
            if let Some(leader) =
                (0..SERVERS).find(|&i| self.server(i).is_some_and(|rsm| rsm.node().state().1))
            {
                return leader;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("no leader");
    }
}

#[test]
fn basic_4a() {
    let test = RsmTest::new(None);
    test.tester.begin("Test RSM basic");
    for i in 0..10 {
        let value = test.one_inc();
        assert_eq!(value, i + 1, "expected {} instead of {value}", i + 1);
        test.check_counter(value, SERVERS);
    }
    test.tester.end();
}

#[test]
fn concurrent_4a() {
    const INCREMENTS: i64 = 50;
    let test = RsmTest::new(None);
    test.tester.begin("Test concurrent submit");
    thread::scope(|scope| {
        for _ in 0..INCREMENTS {
            scope.spawn(|| test.one_inc());
        }
    });
    test.check_counter(INCREMENTS, SERVERS);
    test.tester.end();
}

#[test]
fn leader_failure_4a() {
    let test = RsmTest::new(None);
    test.tester.begin("Test Leader Failure");
    let value = test.one_inc();
    test.check_counter(value, SERVERS);
    let leader = test.leader();
    let others: Vec<usize> = (0..SERVERS).filter(|&i| i != leader).collect();
    test.tester.partition(&others, &[]);
    let value = test.one_within(Some(&others), Operation::Inc);
    test.check_counter(value, SERVERS - 1);
    test.tester.connect_all();
    test.check_counter(value, SERVERS);
    test.tester.end();
}

#[test]
fn leader_partition_4a() {
    const SUBMITS: usize = 100;
    let test = RsmTest::new(None);
    test.tester.begin("Test Leader Partition");
    let value = test.one_inc();
    test.check_counter(value, SERVERS);

    // The leader alone in a minority.
    let leader = test.leader();
    let majority: Vec<usize> = (0..SERVERS).filter(|&i| i != leader).collect();
    test.tester.partition(&[leader], &majority);
    let stale = test.server(leader).expect("the leader runs");
    let (sender, outcomes) = crossbeam_channel::unbounded();
    for _ in 0..SUBMITS {
        let (stale, sender) = (stale.clone(), sender.clone());
        thread::spawn(move || {
            let _ = sender.send(stale.submit(Operation::Dec));
        });
    }
    let value = test.one_within(Some(&majority), Operation::Inc);
    let early = outcomes.recv_timeout(Duration::from_secs(1));
    assert!(early.is_err(), "Submit returned {early:?} while partitioned");

    test.tester.connect_all();
    let deadline = Instant::now() + Duration::from_secs(1);
    for _ in 0..SUBMITS {
        let left = deadline.saturating_duration_since(Instant::now());
        match outcomes.recv_timeout(left) {
            Ok(Ok(value)) => panic!("Dec submitted to minority returned {value}"),
            Ok(Err(_)) => {}
            Err(_) => panic!("Submit after healing didn't return"),
        }
    }
    test.check_counter(value, SERVERS);
    test.tester.end();
}

#[test]
fn restart_replay_4a() {
    const INCREMENTS: i64 = 100;
    let test = RsmTest::new(None);
    test.tester.begin("Test Restart");
    for _ in 0..INCREMENTS {
        test.one_inc();
    }
    test.check_counter(INCREMENTS, SERVERS);
    test.shutdown_servers();
    thread::sleep(Duration::from_secs(1));
    test.tester.start_servers();
    let value = test.one_inc();
    assert_eq!(value, INCREMENTS + 1, "Expected {} got {value}", INCREMENTS + 1);
    test.check_counter(value, SERVERS);
    test.tester.end();
}

/// Submits `count` Nulls at once to the leader, from threads of their own,
/// so that they are in flight through Raft; returns a receiver of the time
/// each submit returned.
fn submit_nulls(test: &RsmTest, count: usize) -> crossbeam_channel::Receiver<Instant> {
    let (sender, returned) = crossbeam_channel::unbounded();
    let leader = test.server(test.leader()).expect("the leader runs");
    for _ in 0..count {
        let rsm = leader.clone();
        let sender = sender.clone();
        thread::spawn(move || {
            let outcome = rsm.submit(Operation::Null);
            assert!(
                !matches!(outcome, Err(SubmitError::Encode(_))),
                "a Null must encode: {outcome:?}"
            );
            let _ = sender.send(Instant::now());
        });
    }
    returned
}

/// Waits for `count` submits to return within the lab's 11 s.
fn every_submit_returns(returned: &crossbeam_channel::Receiver<Instant>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(11);
    for _ in 0..count {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(returned.recv_timeout(left).is_ok(), "Submit didn't stop after shutdown");
    }
}

#[test]
fn shutdown_4a() {
    const SUBMITS: usize = 100;
    let test = RsmTest::new(None);
    test.tester.begin("Test Shutdown");
    test.one_inc(); // a leader to submit to
    let returned = submit_nulls(&test, SUBMITS);
    thread::sleep(Duration::from_millis(20));
    test.shutdown_servers();
    every_submit_returns(&returned, SUBMITS);
    test.tester.end();
}

#[test]
fn restart_submit_4a() {
    const INCREMENTS: i64 = 100;
    const SUBMITS: usize = 100;
    let test = RsmTest::new(None);
    test.tester.begin("Test Restart and submit");
    for _ in 0..INCREMENTS {
        test.one_inc();
    }
    test.shutdown_servers();
    thread::sleep(Duration::from_secs(1));
    test.tester.start_servers();
    let value = test.one_inc();
    assert_eq!(value, INCREMENTS + 1, "Expected {} got {value}", INCREMENTS + 1);

    // Shut down in the middle of many concurrent submits: none may hang.
    let returned = submit_nulls(&test, SUBMITS);
    thread::sleep(Duration::from_millis(20));
    test.shutdown_servers();
    every_submit_returns(&returned, SUBMITS);

    // Nothing committed is lost: the count goes on from where it was.
    test.tester.start_servers();
    let value = test.one_inc();
    assert_eq!(value, INCREMENTS + 2, "Expected {} got {value}", INCREMENTS + 2);
    test.check_counter(value, SERVERS);
    test.tester.end();
}

#[test]
fn snapshot_4c() {
    const INCREMENTS: i64 = 100;
    const MAX_RAFT_STATE: u64 = 1000;
    let test = RsmTest::new(Some(MAX_RAFT_STATE));
    test.tester.begin("Test creating and restoring snapshot");
    for _ in 0..INCREMENTS {
        test.one_inc();
    }
    test.check_counter(INCREMENTS, SERVERS);
    let size = test.tester.log_size();
    assert!(size <= 2 * MAX_RAFT_STATE, "logs were not trimmed ({size} > 2 * {MAX_RAFT_STATE})");

    test.shutdown_servers();
    test.tester.start_servers();
    let value = test.one_inc();
    assert_eq!(value, INCREMENTS + 1, "Expected {} got {value}", INCREMENTS + 1);
    test.tester.end();
}
