//! The lab's key/value test harness (`kvtest1` and `kvraft1`'s test.go): the
//! service on a [`ServiceTester`], recording clerks, the generic test of
//! rounds, partitions and crashes, and the linearizability check.

// Shared by the 4B and 4C test binaries, each of which uses a part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use kv_example::{Clerk, Connection, KvError, KvServer, Reply, Request, Version};
use raft_rsm::RsmConfig;
use raft_testkit::{
    Annotation, CheckResult, ClientEnds, KvInput, KvModel, KvOutput, Operation, PutOutcome,
    RAFT_ELECTION_TIMEOUT, ServerStart, ServiceServer, ServiceTester, VisualizationPolicy, check,
    visualization_path, write_visualization,
};
use rand::Rng;

/// The lab's `linearizabilityCheckTimeout`.
const CHECK_TIME_LIMIT: Duration = Duration::from_secs(1);

/// One key/value server on the lab's network: requests and replies travel
/// encoded with postcard.
struct LabServer {
    server: KvServer,
    /// A planted bug, for the tests that show the checker catches it: Gets
    /// are answered from this server's local state, without the log.
    stale_reads: bool,
}

impl ServiceServer for LabServer {
    fn handle(&self, request: Vec<u8>) -> Option<Vec<u8>> {
        let request: Request = postcard::from_bytes(&request).ok()?;
        let reply = match request {
            Request::Get { key } if self.stale_reads => {
                self.server.rsm().read_local(|store| match store.get(&key) {
                    Some((value, version)) => Reply::Value { value: value.to_owned(), version },
                    None => Reply::Failed(KvError::NoKey),
                })
            }
            request => self.server.handle(request),
        };
        postcard::to_stdvec(&reply).ok()
    }

    fn kill(&self) {
        self.server.shutdown();
    }

    fn node(&self) -> &raft_core::Node {
        self.server.rsm().node()
    }
}

/// A clerk's way to the servers: its ends on the lab's network.
pub(crate) struct LabConnection(ClientEnds);

impl Connection for LabConnection {
    fn servers(&self) -> usize {
        self.0.len()
    }

    fn call(&self, server: usize, request: &Request) -> Option<Reply> {
        let bytes = postcard::to_stdvec(request).ok()?;
        postcard::from_bytes(&self.0.call(server, bytes)?).ok()
    }
}

/// The parameters of the lab's `GenericTest`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    pub(crate) clients: usize,
    pub(crate) servers: usize,
    pub(crate) reliable: bool,
    pub(crate) crash: bool,
    pub(crate) partitions: bool,
    pub(crate) max_raft_state: Option<u64>,
    pub(crate) random_keys: bool,
    /// The planted bug: servers answer Gets from local state.
    pub(crate) stale_reads: bool,
}

/// The key/value test: the servers, the history of every clerk operation,
/// and the counts of Put outcomes.
pub(crate) struct KvTest {
    pub(crate) tester: ServiceTester,
    pub(crate) setup: Setup,
    history: Mutex<Vec<Operation<KvInput, KvOutput>>>,
    next_client: Mutex<usize>,
}

/// A clerk whose every operation is recorded in the test's history.
pub(crate) struct RecordingClerk<'a> {
    test: &'a KvTest,
    clerk: Clerk<LabConnection>,
    id: usize,
}

/// What one client's loop counted.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ClientCounts {
    pub(crate) ok: u64,
    pub(crate) maybe: u64,
}

impl KvTest {
    pub(crate) fn new(setup: Setup) -> KvTest {
        let max_raft_state = setup.max_raft_state;
        let stale_reads = setup.stale_reads;
        let tester = ServiceTester::new(
            setup.servers,
            setup.reliable,
            max_raft_state,
            move |start: ServerStart| {
                let config =
                    RsmConfig { max_raft_state: start.max_raft_state, ..RsmConfig::default() };
                let server =
                    KvServer::start(start.builder, config).expect("a key/value server starts");
                Arc::new(LabServer { server, stale_reads }) as Arc<dyn ServiceServer>
            },
        );
        KvTest { tester, setup, history: Mutex::new(Vec::new()), next_client: Mutex::new(0) }
    }

    /// A clerk of the whole service.
    pub(crate) fn clerk(&self) -> RecordingClerk<'_> {
        self.clerk_to(&(0..self.setup.servers).collect::<Vec<_>>())
    }

    /// A clerk that reaches only `servers`.
    pub(crate) fn clerk_to(&self, servers: &[usize]) -> RecordingClerk<'_> {
        let mut next = self.next_client.lock().unwrap_or_else(PoisonError::into_inner);
        let id = *next;
        *next += 1;
        let clerk = Clerk::new(LabConnection(self.tester.client_ends(servers)));
        RecordingClerk { test: self, clerk, id }
    }

    fn now(&self) -> u64 {
        self.tester.elapsed().as_nanos() as u64
    }

    fn record(&self, operation: Operation<KvInput, KvOutput>) {
        self.history.lock().unwrap_or_else(PoisonError::into_inner).push(operation);
    }

    /// The lab's `CheckPorcupine`: the history so far must be linearizable;
    /// an unknown outcome (the check ran out of time) passes with a note. On
    /// a failure, or always with `VIS_ENABLE=always`, it writes the
    /// timeline and prints its path.
    pub(crate) fn check_linearizable(&self) {
        let history = self.history.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let report = check(&KvModel, &history, CHECK_TIME_LIMIT).expect("a well-formed history");
        let policy = VisualizationPolicy::from_env().expect("a valid VIS_ENABLE");
        if policy.should_write(report.result) {
            let path = visualization_path();
            let annotations: Vec<Annotation> = self.tester.annotations();
            match write_visualization(&KvModel, &history, &report, &annotations, &path) {
                Ok(()) => println!("info: wrote history visualization to {}", path.display()),
                Err(error) => println!("info: could not write the visualization: {error}"),
            }
        }
        match report.result {
            CheckResult::Ok => {}
            CheckResult::Unknown => {
                println!("info: linearizability check timed out, assuming history is ok")
            }
            CheckResult::Illegal => panic!("history is not linearizable"),
        }
    }

    /// The lab's `GenericTest`: three rounds of clients running for a second
    /// (with a partitioner re-splitting the servers, with crashes of every
    /// server between rounds), each round checked.
    pub(crate) fn generic_test(&self) {
        const ROUNDS: usize = 3;
        const CLIENT_TIME: Duration = Duration::from_secs(1);
        let keys: Vec<String> = if self.setup.random_keys {
            (0..100).map(|k| format!("k{k}")).collect()
        } else {
            vec!["k".to_owned()]
        };
        let mut totals = ClientCounts::default();
        for _ in 0..ROUNDS {
            let done = AtomicBool::new(false);
            let counts: Vec<ClientCounts> = thread::scope(|scope| {
                let clients: Vec<_> = (0..self.setup.clients)
                    .map(|_| {
                        let (keys, done) = (&keys, &done);
                        scope.spawn(move || self.clerk().put_loop(keys, done))
                    })
                    .collect();
                let partitioner = self.setup.partitions.then(|| {
                    let done = &done;
                    scope.spawn(move || {
                        // Let the clients work without interruption first.
                        pause_unless(done, Duration::from_secs(1));
                        self.partitioner(done);
                    })
                });
                thread::sleep(
                    CLIENT_TIME
                        + if self.setup.partitions {
                            Duration::from_secs(1)
                        } else {
                            Duration::ZERO
                        },
                );
                done.store(true, Ordering::SeqCst);
                if let Some(partitioner) = partitioner {
                    partitioner.join().expect("the partitioner");
                }
                // Heal, so that clients stuck in a minority finish.
                self.tester.connect_all();
                clients.into_iter().map(|client| client.join().expect("a client")).collect()
            });
            for count in counts {
                totals.ok += count.ok;
                totals.maybe += count.maybe;
            }
            if self.setup.partitions {
                thread::sleep(RAFT_ELECTION_TIMEOUT);
            }
            if self.setup.crash {
                self.tester.shutdown_servers();
                self.tester.start_servers();
            }
            self.check_sizes();
            self.check_linearizable();
        }
        if !self.setup.random_keys {
            self.check_put_concurrent(&keys[0], totals);
        }
    }

    /// The lab's `Partitioner`: a new random split about every second until
    /// `done`.
    fn partitioner(&self, done: &AtomicBool) {
        while !done.load(Ordering::SeqCst) {
            let (first, second) = self.tester.random_partition();
            self.tester.partition(&first, &second);
            let pause = 1000 + rand::thread_rng().gen_range(0..200);
            pause_unless(done, Duration::from_millis(pause));
        }
    }

    /// The lab's size checks after a round: logs trimmed to 8 × maxraftstate,
    /// or no snapshot at all without one.
    pub(crate) fn check_sizes(&self) {
        match self.setup.max_raft_state {
            Some(bound) => {
                let size = self.tester.log_size();
                assert!(size <= 8 * bound, "logs were not trimmed ({size} > 8*{bound})");
            }
            None => {
                let size = self.tester.snapshot_size();
                assert!(
                    size == 0,
                    "snapshot too large ({size}), should not be used when maxraftstate = -1"
                );
            }
        }
    }

    /// The lab's `CheckPutConcurrent`: the key's version counts the Puts
    /// that applied: exactly the OKs on a fault-free reliable network, at
    /// most OK + Maybe otherwise.
    fn check_put_concurrent(&self, key: &str, totals: ClientCounts) {
        let (_, version) = self.clerk().get(key).expect("the key exists");
        let faultless = self.setup.reliable && !self.setup.crash && !self.setup.partitions;
        if faultless {
            assert_eq!(
                version, totals.ok,
                "Wrong number of puts: server {version} clnts {totals:?}"
            );
        } else {
            assert!(
                version <= totals.ok + totals.maybe,
                "Wrong number of puts: server {version} clnts {totals:?}"
            );
        }
    }
}

impl Setup {
    /// `clients` clients of `servers` servers, on a reliable network or
    /// not, snapshotting past `max_raft_state`; no crashes, partitions or
    /// random keys, no planted bug.
    pub(crate) fn new(
        clients: usize,
        servers: usize,
        reliable: bool,
        max_raft_state: Option<u64>,
    ) -> Setup {
        Setup {
            clients,
            servers,
            reliable,
            crash: false,
            partitions: false,
            max_raft_state,
            random_keys: false,
            stale_reads: false,
        }
    }

    /// The lab's test title for these parameters.
    pub(crate) fn title(&self, part: &str) -> String {
        let mut title = String::from("Test: ");
        if !self.reliable {
            title.push_str("unreliable net, ");
        }
        if self.crash {
            title.push_str("restarts, ");
        }
        if self.partitions {
            title.push_str("partitions, ");
        }
        if self.max_raft_state.is_some() {
            title.push_str("snapshots, ");
        }
        if self.random_keys {
            title.push_str("random keys, ");
        }
        title.push_str(if self.clients > 1 { "many clients" } else { "one client" });
        title.push_str(&format!(" ({part})"));
        title
    }
}

/// Runs the lab's `GenericTest` with `setup`, between the lab's lines.
pub(crate) fn generic_test(part: &str, setup: Setup) {
    let test = KvTest::new(setup);
    test.tester.begin(&setup.title(part));
    test.generic_test();
    test.tester.end();
}

/// The lab's speed test: 1,000 sequential Puts on three servers, each OK,
/// averaging under a third of a heartbeat interval.
pub(crate) fn speed_test(part: &str, max_raft_state: Option<u64>) {
    const PUTS: u64 = 1000;
    let setup = Setup::new(1, 3, true, max_raft_state);
    let test = KvTest::new(setup);
    test.tester.begin(&format!("Test: ops complete fast enough ({part})"));
    let clerk = test.clerk();
    // Wait for a leader before the clock starts.
    let _ = clerk.get("x");
    let started = Instant::now();
    for version in 0..PUTS {
        assert_eq!(clerk.put("k", "x", version), Ok(()), "Put {version} failed");
    }
    let elapsed = started.elapsed();
    let (_, version) = clerk.get("k").expect("the key exists");
    assert_eq!(version, PUTS, "wrong final version");
    let per_op = elapsed / PUTS as u32;
    println!("info: {:.3} ms per Put", per_op.as_secs_f64() * 1000.0);
    let limit = Duration::from_millis(100) / 3;
    assert!(per_op <= limit, "Operations completed too slowly {per_op:?}/op > {limit:?}/op");
    test.tester.end();
}

impl RecordingClerk<'_> {
    /// The lab's `PutAtLeastOnce`: Puts until it is known to have applied
    /// (OK, or Maybe and a Get shows the value); returns the version it
    /// made.
    pub(crate) fn put_at_least_once(&self, key: &str, value: &str, version: Version) -> Version {
        loop {
            match self.put(key, value, version) {
                Ok(()) => return version + 1,
                Err(KvError::Maybe) => {
                    if let Ok((found, found_version)) = self.get(key)
                        && found == value
                        && found_version == version + 1
                    {
                        return version + 1;
                    }
                }
                Err(error) => panic!("Put {key}={value} at version {version} failed: {error}"),
            }
        }
    }

    /// The lab's `CheckGet`: `key` holds `value` at `version`.
    pub(crate) fn check_get(&self, key: &str, value: &str, version: Version) {
        let found = self.get(key);
        assert_eq!(
            found,
            Ok((value.to_owned(), version)),
            "Get({key}) returned {found:?}, expected ({value}, {version})"
        );
    }

    /// Lets this clerk reach every server.
    pub(crate) fn connect_all(&self) {
        self.clerk.connection().0.connect_all();
    }

    /// A `Get`, recorded.
    pub(crate) fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        let call = self.test.now();
        let result = self.clerk.get(key);
        let returned = self.test.now();
        self.test.tester.op();
        let value = match &result {
            Ok((value, _)) => value.clone(),
            Err(_) => String::new(),
        };
        self.test.record(Operation {
            client: self.id,
            input: KvInput::Get { key: key.to_owned() },
            call,
            output: KvOutput::Get { value },
            returned,
        });
        result
    }

    /// A `Put`, recorded.
    pub(crate) fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let call = self.test.now();
        let result = self.clerk.put(key, value, version);
        let returned = self.test.now();
        self.test.tester.op();
        let outcome = match result {
            Ok(()) => PutOutcome::Ok,
            Err(KvError::VersionMismatch) => PutOutcome::Version,
            Err(KvError::Maybe) => PutOutcome::Maybe,
            Err(_) => PutOutcome::NoKey,
        };
        self.test.record(Operation {
            client: self.id,
            input: KvInput::Put { key: key.to_owned(), value: value.to_owned(), version },
            call,
            output: KvOutput::Put(outcome),
            returned,
        });
        result
    }

    /// The lab's `OneClientPut` loop: Put a value naming this client at the
    /// version last seen, then Get to learn the version, until `done`.
    fn put_loop(&self, keys: &[String], done: &AtomicBool) -> ClientCounts {
        let mut counts = ClientCounts::default();
        let mut versions = vec![0; keys.len()];
        let mut rng = rand::thread_rng();
        while !done.load(Ordering::SeqCst) {
            let k = if keys.len() > 1 { rng.gen_range(0..keys.len()) } else { 0 };
            let value = format!("{{\"Id\":{},\"V\":{}}}", self.id, versions[k]);
            match self.put(&keys[k], &value, versions[k]) {
                Ok(()) => counts.ok += 1,
                Err(KvError::Maybe) => counts.maybe += 1,
                Err(_) => {}
            }
            if let Ok((_, version)) = self.get(&keys[k]) {
                versions[k] = version;
            }
        }
        counts
    }
}

/// Sleeps `pause`, in short steps, unless `done` is raised first.
fn pause_unless(done: &AtomicBool, pause: Duration) {
    let started = Instant::now();
    while started.elapsed() < pause && !done.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(10));
    }
}
