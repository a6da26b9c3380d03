//! [`Tester`]: the lab's Raft test harness (its `config.go`, Spring 2025's
//! `tester1`): servers on a simulated network, crashes and restarts, the
//! apply-channel checkers and the check helpers the 28 lab tests call.

mod applier;
mod command;
mod ledger;

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use raft_core::{Config, Index, Node, NodeId, Proposal, Term};
use raft_persist::{MemPersister, Persister};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use self::applier::Applier;
pub use self::command::Command;
use self::ledger::Ledger;
pub use self::ledger::SNAPSHOT_INTERVAL;
use crate::{Network, SimTransport};

/// The lab's `RaftElectionTimeout`: the tests allow an election this long, and
/// sleep in multiples of it.
pub const RAFT_ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The environment variable that fixes the seed of a tester's random numbers:
/// `RAFT_TEST_SEED=<seed a failed test printed>` replays a run's random choices
/// (commands, victims, node seeds), though not its thread timing.
pub const SEED_VARIABLE: &str = "RAFT_TEST_SEED";

/// A test fails if it runs longer than this from the tester's creation.
pub(crate) const TIME_LIMIT: Duration = Duration::from_secs(120);

/// How long a shut-down node may keep its apply channel open.
const APPLY_CLOSE_LIMIT: Duration = Duration::from_secs(10);

/// The characters of the lab's `Randstring` (base64, URL alphabet).
const RANDOM_STRING_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Held by every live [`Tester`]: the lab runs its tests one at a time, and
/// these tests count RPCs and measure time.
pub(crate) static SERIAL: Mutex<()> = Mutex::new(());

/// The lab's Raft tester: `n` Raft nodes on a simulated [`Network`], each with
/// a [`MemPersister`], and the checks the lab's tests use.
///
/// Servers are numbered `0..n` and registered on the network as
/// `server-0-<i>`. Each incarnation of a server gets fresh ends towards every
/// server, and a thread that reads its apply channel and checks it the lab's
/// way (in order, no gaps, the same command at an index on every server); in
/// snapshot mode that thread also hands the node a snapshot after indices 9,
/// 19, 29, ... A check that fails panics with the lab's message, which fails
/// the test; an apply-channel error fails the next check helper with
/// `apply error: ...`.
///
/// Only one tester exists at a time in a process: [`new`](Self::new) waits for
/// the previous one to drop. Dropping the tester shuts every node down and
/// closes the network, whether the test passed or not.
///
/// Random choices (the tests' and the tester's) come from one generator
/// seeded per tester; a failing test prints the seed as it unwinds, and
/// [`SEED_VARIABLE`] replays it.
pub struct Tester {
    shared: Arc<Shared>,
    /// Dropped after [`Drop::drop`] has cleaned up.
    _serial: MutexGuard<'static, ()>,
}

/// What the tester and its applier threads share.
struct Shared {
    n: usize,
    /// Whether the appliers snapshot (the lab's `applierSnap`).
    snapshot: bool,
    network: Network,
    created: Instant,
    seed: u64,
    /// Set when the test fails or ends: pending [`Tester::one`] loops stop.
    finished: AtomicBool,
    rng: Mutex<StdRng>,
    state: Mutex<State>,
}

struct State {
    servers: Vec<Server>,
    ledger: Ledger,
    /// The first error an applier found (the lab's `applyErr`).
    apply_error: Option<String>,
    /// Set by [`Tester::begin`].
    mark: Option<Mark>,
}

/// One server slot: the current incarnation, if any, and what outlives it.
struct Server {
    /// Whether the tester has connected it (it may be shut down and connected).
    connected: bool,
    /// The current incarnation's ends, towards each server; empty before the
    /// first start.
    end_names: Vec<String>,
    /// The persister the next incarnation starts from a copy of.
    persister: Arc<MemPersister>,
    running: Option<Running>,
}

struct Running {
    node: Node,
    applier: Applier,
}

/// The counters at [`Tester::begin`], for the `Passed` line.
struct Mark {
    started: Instant,
    rpcs: u64,
    bytes: u64,
    max_index: u64,
}

impl Tester {
    /// Starts `n` servers on a new network with long delays on, reliable or
    /// not, and connects them all (the lab's `makeTest(t, n, reliable,
    /// snapshot)`). With `snapshot`, the appliers make the nodes snapshot.
    ///
    /// Waits until no other tester exists in the process.
    ///
    /// # Panics
    /// If `n` is 0 or a node fails to start.
    pub fn new(n: usize, reliable: bool, snapshot: bool) -> Tester {
        assert!(n > 0, "a tester needs at least one server");
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let seed = seed_from_environment();
        let tester = Tester {
            shared: Arc::new(Shared {
                n,
                snapshot,
                network: Network::new(),
                created: Instant::now(),
                seed,
                finished: AtomicBool::new(false),
                rng: Mutex::new(StdRng::seed_from_u64(seed)),
                state: Mutex::new(State {
                    servers: (0..n)
                        .map(|_| Server {
                            connected: false,
                            end_names: Vec::new(),
                            persister: Arc::new(MemPersister::new()),
                            running: None,
                        })
                        .collect(),
                    ledger: Ledger::new(n),
                    apply_error: None,
                    mark: None,
                }),
            }),
            _serial: serial,
        };
        for i in 0..n {
            tester.start_server(i);
        }
        tester.connect_all();
        tester.set_reliable(reliable);
        tester.shared.network.set_long_delays(true);
        tester
    }

    /// The number of servers.
    pub fn servers(&self) -> usize {
        self.shared.n
    }

    /// The seed of this tester's random numbers.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// Prints `<description> ...`, as the lab does, and starts counting time,
    /// RPCs, bytes and commands for [`end`](Self::end). A test that fails
    /// prints its seed to stderr as it unwinds.
    pub fn begin(&self, description: &str) {
        println!("{description} ...");
        let mark = Mark {
            started: Instant::now(),
            rpcs: self.rpc_total(),
            bytes: self.bytes_total(),
            max_index: self.lock_state().ledger.max_index(),
        };
        self.lock_state().mark = Some(mark);
    }

    /// Checks the time limit and the appliers, then prints the lab's
    /// `  ... Passed --` line: seconds, peers, RPCs, bytes and commands since
    /// [`begin`](Self::begin).
    ///
    /// # Panics
    /// `test took longer than 120 seconds`; `apply error: ...`.
    pub fn end(&self) {
        self.check_timeout();
        self.check_apply_error();
        let state = self.lock_state();
        let Some(mark) = &state.mark else {
            drop(state);
            self.fatal("end() called without begin()");
        };
        let seconds = mark.started.elapsed().as_secs_f64();
        let rpcs = self.rpc_total() - mark.rpcs;
        let bytes = self.bytes_total() - mark.bytes;
        let commands = state.ledger.max_index() - mark.max_index;
        drop(state);
        println!(
            "  ... Passed --  {seconds:4.1}  {} {rpcs:4} {bytes:7} {commands:4}",
            self.shared.n
        );
    }

    /// Fails the test with `message`, as the lab's `Fatalf`: marks the tester
    /// finished, so [`one`](Self::one) loops on other threads give up, and
    /// panics.
    pub fn fatal(&self, message: impl fmt::Display) -> ! {
        self.shared.finished.store(true, Ordering::SeqCst);
        panic!("{message}");
    }

    /// Starts a new incarnation of server `i` (the lab's `StartServer`):
    /// fresh ends (disabled until [`connect`](Self::connect)), a copy of its
    /// persister, an empty applied record, and a new node. In snapshot mode it
    /// first takes in the persisted snapshot, as a restarted service would. A
    /// running server is shut down first.
    ///
    /// # Panics
    /// If the node fails to start or its persisted snapshot does not decode.
    pub fn start_server(&self, i: usize) {
        if self.node(i).is_some() {
            self.shutdown_server(i);
        }
        let network = &self.shared.network;
        let end_names = make_server_ends(network, &mut self.rng(), self.shared.n);
        let persister = {
            let mut state = self.lock_state();
            state.ledger.reset(i);
            let server = &mut state.servers[i];
            server.persister = Arc::new((*server.persister).clone());
            server.end_names = end_names.clone();
            Arc::clone(&server.persister)
        };

        let seed = self.rng().r#gen();
        let builder = server_node(network, i, self.shared.n, end_names, &persister, seed);
        let (node, applied) = builder
            .start()
            .unwrap_or_else(|error| self.fatal(format!("server {i} failed to start: {error:?}")));

        if self.shared.snapshot {
            // Spring 2025 order: after the node starts, before its applier reads.
            let snapshot = match persister.load() {
                Ok(state) => state.snapshot.filter(|snapshot| !snapshot.data.is_empty()),
                Err(error) => {
                    node.shutdown();
                    self.fatal(format!("server {i} persister failed to load: {error:?}"))
                }
            };
            if let Some(snapshot) = snapshot {
                let ingested = self.lock_state().ledger.ingest_snapshot(i, &snapshot.data, None);
                if let Err(error) = ingested {
                    node.shutdown();
                    self.fatal(error);
                }
            }
        }

        let applier = Applier::spawn(Arc::clone(&self.shared), i, node.clone(), applied);
        self.lock_state().servers[i].running = Some(Running { node, applier });
    }

    /// Crashes server `i` (the lab's `ShutdownServer`): disconnects it, kills
    /// its server object on the network (no reply of it is delivered any
    /// more), replaces its persister with a copy (so the old node's late
    /// writes are lost), then shuts the node down and waits for its applier to
    /// read the apply channel to the end.
    ///
    /// # Panics
    /// If the node keeps its apply channel open for 10 s after shutdown.
    pub fn shutdown_server(&self, i: usize) {
        self.disconnect(i);
        self.shared.network.delete_server(&server_name(i));
        let running = {
            let mut state = self.lock_state();
            let server = &mut state.servers[i];
            server.persister = Arc::new((*server.persister).clone());
            server.running.take()
        };
        if let Some(Running { node, applier }) = running {
            node.shutdown();
            if !applier.wait(APPLY_CLOSE_LIMIT) {
                self.fatal(format!("server {i} kept its apply channel open after shutdown"));
            }
        }
    }

    /// Restarts server `i` and connects every server (Spring 2025's
    /// `restart`: [`start_server`](Self::start_server), then
    /// [`connect_all`](Self::connect_all)).
    pub fn restart(&self, i: usize) {
        self.start_server(i);
        self.connect_all();
    }

    /// Crashes every server (the lab's `Shutdown`).
    pub fn shutdown_servers(&self) {
        for i in 0..self.shared.n {
            self.shutdown_server(i);
        }
    }

    /// Starts every server, then connects them all (the lab's `StartServers`).
    pub fn start_servers(&self) {
        for i in 0..self.shared.n {
            self.start_server(i);
        }
        self.connect_all();
    }

    /// Connects server `i`: enables its ends towards, and the ends from, every
    /// connected server, itself included.
    pub fn connect(&self, i: usize) {
        let mut state = self.lock_state();
        state.servers[i].connected = true;
        self.enable_links(&state, i, true);
    }

    /// Disconnects server `i`: disables its ends towards, and the ends from,
    /// every server.
    pub fn disconnect(&self, i: usize) {
        let mut state = self.lock_state();
        state.servers[i].connected = false;
        self.enable_links(&state, i, false);
    }

    /// Sets the links between `i` and the connected servers (every server, to
    /// disable), both ways.
    fn enable_links(&self, state: &State, i: usize, enabled: bool) {
        let network = &self.shared.network;
        for (j, other) in state.servers.iter().enumerate() {
            if enabled && !other.connected {
                continue;
            }
            if let Some(end) = state.servers[i].end_names.get(j) {
                network.enable(end, enabled);
            }
            if let Some(end) = other.end_names.get(i) {
                network.enable(end, enabled);
            }
        }
    }

    /// Connects every server, one after another.
    pub fn connect_all(&self) {
        for i in 0..self.shared.n {
            self.connect(i);
        }
    }

    /// Whether server `i` is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.lock_state().servers[i].connected
    }

    /// Makes the network reliable or unreliable.
    pub fn set_reliable(&self, reliable: bool) {
        self.shared.network.set_reliable(reliable);
    }

    /// Whether the network is reliable.
    pub fn is_reliable(&self) -> bool {
        self.shared.network.is_reliable()
    }

    /// Turns the network's long reordering of replies on or off.
    pub fn set_long_reordering(&self, on: bool) {
        self.shared.network.set_long_reordering(on);
    }

    /// The current node of server `i`, or `None` while it is shut down (the
    /// lab's `Raft()`, `nil` after a crash).
    pub fn node(&self, i: usize) -> Option<Node> {
        self.lock_state().servers[i].running.as_ref().map(|running| running.node.clone())
    }

    /// The lab's `Start(command)` on server `i`: where the command will sit if
    /// it commits, or `None` if `i` is not a running leader.
    pub fn propose(&self, i: usize, command: impl Into<Command>) -> Option<Proposal> {
        self.node(i)?.propose(command.into().encode()).ok()?.accepted().ok()
    }

    /// The lab's `GetState()` on server `i`: its term and whether it believes
    /// it leads.
    ///
    /// # Panics
    /// If server `i` is shut down.
    pub fn state(&self, i: usize) -> (Term, bool) {
        match self.node(i) {
            Some(node) => node.state(),
            None => self.fatal(format!("GetState() on server {i}, which is shut down")),
        }
    }

    /// The node of server `i` if it is running and connected.
    fn connected_node(&self, i: usize) -> Option<Node> {
        let state = self.lock_state();
        let server = &state.servers[i];
        server.running.as_ref().filter(|_| server.connected).map(|running| running.node.clone())
    }

    /// The running nodes of the connected servers.
    fn connected_nodes(&self) -> Vec<(usize, Node)> {
        (0..self.shared.n).filter_map(|i| Some((i, self.connected_node(i)?))).collect()
    }

    /// The lab's `checkOneLeader`: up to 10 times, waits 450–549 ms and asks
    /// the connected servers who leads. Returns the leader of the highest term
    /// that has one.
    ///
    /// # Panics
    /// `term <t> has <k> (>1) leaders`; `expected one leader, got none`.
    pub fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            let pause = 450 + self.random_int() % 100;
            thread::sleep(Duration::from_millis(pause.unsigned_abs()));
            self.check_apply_error();

            let mut leaders: BTreeMap<Term, Vec<usize>> = BTreeMap::new();
            for (i, node) in self.connected_nodes() {
                if let (term, true) = node.state() {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (term, ids) in &leaders {
                if ids.len() > 1 {
                    self.fatal(format!("term {term} has {} (>1) leaders", ids.len()));
                }
            }
            if let Some((_, ids)) = leaders.last_key_value() {
                return ids[0];
            }
        }
        self.fatal("expected one leader, got none")
    }

    /// The lab's `checkTerms`: the term every connected server is in, or
    /// `None` if none is connected.
    ///
    /// # Panics
    /// `servers disagree on term`.
    pub fn check_terms(&self) -> Option<Term> {
        self.check_apply_error();
        let mut agreed = None;
        for (_, node) in self.connected_nodes() {
            let (term, _) = node.state();
            match agreed {
                None => agreed = Some(term),
                Some(agreed) if agreed != term => self.fatal("servers disagree on term"),
                Some(_) => {}
            }
        }
        agreed
    }

    /// The lab's `checkNoLeader`: no connected server believes it leads.
    ///
    /// # Panics
    /// `expected no leader among connected servers, but <i> claims to be leader`.
    pub fn check_no_leader(&self) {
        self.check_apply_error();
        for (i, node) in self.connected_nodes() {
            if node.state().1 {
                self.fatal(format!(
                    "expected no leader among connected servers, but {i} claims to be leader"
                ));
            }
        }
    }

    /// The lab's `checkNoAgreement`: no server has applied `index`.
    ///
    /// # Panics
    /// `<n> committed but no majority`.
    pub fn check_no_agreement(&self, index: Index) {
        let (count, _) = self.n_committed(index);
        if count > 0 {
            self.fatal(format!("{count} committed but no majority"));
        }
    }

    /// The lab's `nCommitted`: how many servers (running or not) have applied
    /// `index` in their current incarnation, and the command there.
    ///
    /// # Panics
    /// `apply error: ...`; `committed values do not match: index <i>, <a>, <b>`.
    pub fn n_committed(&self, index: Index) -> (usize, Option<Command>) {
        let outcome = {
            let state = self.lock_state();
            match &state.apply_error {
                Some(error) => Err(format!("apply error: {error}")),
                None => state.ledger.committed(index.0),
            }
        };
        outcome.unwrap_or_else(|error| self.fatal(error))
    }

    /// The lab's `one`: a complete agreement on `command`. For up to 10 s, offers
    /// the command to the connected servers in turn (server 1 first) until one
    /// accepts it as leader, then waits up to 2 s for `expected_servers` to
    /// apply it at the index the leader gave. Without `retry` the first leader's
    /// failure is fatal; with it, the command may be offered again. Returns the
    /// index.
    ///
    /// # Panics
    /// `one(<command>) failed to reach agreement`, and whatever
    /// [`n_committed`](Self::n_committed) finds.
    pub fn one(&self, command: impl Into<Command>, expected_servers: usize, retry: bool) -> Index {
        let command = command.into();
        let data = command.encode();
        let n = self.shared.n;
        let started = Instant::now();
        let mut starts = 0;
        while started.elapsed() < Duration::from_secs(10) && !self.is_finished() {
            let mut index = None;
            for _ in 0..n {
                starts = (starts + 1) % n;
                let node = self.connected_node(starts);
                let proposal =
                    node.and_then(|node| node.propose(data.clone()).ok()?.accepted().ok());
                if let Some(proposal) = proposal {
                    index = Some(proposal.index);
                    break;
                }
            }
            let Some(index) = index else {
                thread::sleep(Duration::from_millis(50));
                continue;
            };
            let submitted = Instant::now();
            while submitted.elapsed() < Duration::from_secs(2) {
                let (count, applied) = self.n_committed(index);
                if count > 0 && count >= expected_servers && applied.as_ref() == Some(&command) {
                    return index;
                }
                thread::sleep(Duration::from_millis(20));
            }
            if !retry {
                self.fatal(format!("one({command}) failed to reach agreement"));
            }
        }
        if self.is_finished() {
            panic!("one({command}) abandoned: the test has already failed");
        }
        self.fatal(format!("one({command}) failed to reach agreement"))
    }

    /// The lab's `wait`: waits (10 ms, doubling up to 1 s between looks, 30
    /// looks) for `n` servers to apply `index`, and returns the command there.
    /// With a `start_term`, returns `None` as soon as a running server has
    /// moved past it (the lab's `-1`).
    ///
    /// # Panics
    /// `only <k> decided for index <i>; wanted <n>`.
    pub fn wait(&self, index: Index, n: usize, start_term: Option<Term>) -> Option<Command> {
        let mut pause = Duration::from_millis(10);
        for _ in 0..30 {
            if self.n_committed(index).0 >= n {
                break;
            }
            thread::sleep(pause);
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
            if let Some(start_term) = start_term {
                let nodes = (0..self.shared.n).filter_map(|i| self.node(i));
                if nodes.into_iter().any(|node| node.state().0 > start_term) {
                    return None;
                }
            }
        }
        let (count, command) = self.n_committed(index);
        if count < n {
            self.fatal(format!("only {count} decided for index {index}; wanted {n}"));
        }
        command
    }

    /// Every RPC sent so far (the network's total count).
    pub fn rpc_total(&self) -> u64 {
        self.shared.network.total_count()
    }

    /// Every byte sent so far: requests, and replies delivered.
    pub fn bytes_total(&self) -> u64 {
        self.shared.network.total_bytes()
    }

    /// The RPCs delivered to the current incarnation of server `i`.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.shared.network.count(&server_name(i))
    }

    /// The lab's `LogSize`: the largest raft state (hard state and log) among
    /// the servers' current persisters, in bytes.
    pub fn log_size(&self) -> u64 {
        let state = self.lock_state();
        state.servers.iter().map(|server| server.persister.raft_state_size()).max().unwrap_or(0)
    }

    /// A random non-negative 63-bit integer (Go's `rand.Int()`), from the
    /// tester's seeded generator.
    pub fn random_int(&self) -> i64 {
        self.rng().gen_range(0..=i64::MAX)
    }

    /// A random string of `len` URL-safe base64 characters (the lab's
    /// `Randstring`), from the tester's seeded generator.
    pub fn random_string(&self, len: usize) -> String {
        random_string(&mut self.rng(), len)
    }

    fn rng(&self) -> MutexGuard<'_, StdRng> {
        self.shared.rng.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.shared.lock_state()
    }

    fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::SeqCst)
    }

    /// The lab's `checkTimeout`.
    fn check_timeout(&self) {
        if self.shared.created.elapsed() > TIME_LIMIT {
            self.fatal("test took longer than 120 seconds");
        }
    }

    /// Fails the test if an applier found an error (the lab's applier exits
    /// the process).
    fn check_apply_error(&self) {
        let error = self.lock_state().apply_error.clone();
        if let Some(error) = error {
            self.fatal(format!("apply error: {error}"));
        }
    }
}

impl Shared {
    fn lock_state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock halfway through a change.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Keeps the first applier error.
    fn record_apply_error(&mut self, error: String) {
        tracing::error!(%error, "apply error");
        self.apply_error.get_or_insert(error);
    }
}

/// The lab's `cleanup`: finishes the tester, shuts every node down and closes
/// the network; then checks the time limit unless the test already failed.
impl Drop for Tester {
    fn drop(&mut self) {
        self.shared.finished.store(true, Ordering::SeqCst);
        let nodes: Vec<Node> = {
            let mut state = self.lock_state();
            let running = state.servers.iter_mut().filter_map(|server| server.running.take());
            running.map(|running| running.node).collect()
        };
        for node in nodes {
            // A node that panics on shutdown must not abort the process while
            // a failed test unwinds; its panic is reported on its own.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| node.shutdown()));
        }
        self.shared.network.cleanup();
        if thread::panicking() {
            let seed = self.shared.seed;
            eprintln!("  failed with seed {seed} (replay with {SEED_VARIABLE}={seed})");
        } else {
            self.check_timeout();
        }
    }
}

impl fmt::Debug for Tester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tester")
            .field("servers", &self.shared.n)
            .field("snapshot", &self.shared.snapshot)
            .field("seed", &self.shared.seed)
            .field("network", &self.shared.network)
            .finish_non_exhaustive()
    }
}

/// The network name of server `i` (group 0, as Spring 2025 names it).
pub(crate) fn server_name(i: usize) -> String {
    format!("server-0-{i}")
}

pub(crate) fn node_id(i: usize) -> NodeId {
    NodeId(i as u64)
}

/// Fresh ends from a new incarnation of a server to each of the `n`
/// servers, connected but not yet enabled.
pub(crate) fn make_server_ends(network: &Network, rng: &mut StdRng, n: usize) -> Vec<String> {
    let end_names: Vec<String> = (0..n).map(|_| random_string(rng, 20)).collect();
    for (j, end) in end_names.iter().enumerate() {
        network.make_end(end);
        network.connect(end, &server_name(j));
    }
    end_names
}

/// Server `i`'s Raft node of `n`, ready to start: its configuration with
/// `seed`, `persister`, and a transport over `end_names` (one per server).
pub(crate) fn server_node(
    network: &Network,
    i: usize,
    n: usize,
    end_names: Vec<String>,
    persister: &Arc<MemPersister>,
    seed: u64,
) -> raft_core::NodeBuilder {
    let mut config = Config::new(node_id(i), (0..n).map(node_id).collect());
    config.seed = seed;
    // The lab's tests count log indices exactly: no entry of Raft's own.
    config.noop_on_election = false;
    // Lab 4A's leader-partition test expects the submits a leader cut off in
    // a minority took to wait until the partition heals; under CheckQuorum
    // that leader steps down and they return early. PreVote stays on.
    config.check_quorum = false;
    let ends = end_names.into_iter().enumerate().map(|(j, end)| (node_id(j), end)).collect();
    let transport = SimTransport::new(network, node_id(i), &server_name(i), ends);
    Node::builder(config).persister(Arc::clone(persister)).transport(transport)
}

/// A random string of `len` URL-safe base64 characters (the lab's
/// `Randstring`).
pub(crate) fn random_string(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(RANDOM_STRING_ALPHABET[rng.gen_range(0..RANDOM_STRING_ALPHABET.len())]))
        .collect()
}

/// The seed in [`SEED_VARIABLE`], or a fresh one.
pub(crate) fn seed_from_environment() -> u64 {
    match std::env::var(SEED_VARIABLE) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VARIABLE}={text:?} is not an unsigned 64-bit seed")),
        Err(_) => rand::random(),
    }
}
