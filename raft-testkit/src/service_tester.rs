//! [`ServiceTester`]: the lab's harness for a replicated service (Lab 4's
//! `tester1` group and clerks): servers that each run a service over a Raft
//! node on the simulated network, clients that reach them through their own
//! ends, partitions, crashes and restarts.

mod client_ends;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use raft_core::{Node, NodeBuilder};
use raft_persist::{MemPersister, Persister};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use self::client_ends::ClientEnds;
use crate::tester::{
    SERIAL, TIME_LIMIT, make_server_ends, random_string, seed_from_environment, server_name,
    server_node,
};
use crate::{Annotation, Network, Service};

/// One server of a replicated service under test: the service's side of the
/// client RPCs, over a Raft node the tester started for it.
pub trait ServiceServer: Send + Sync + 'static {
    /// Answers one client request, bytes in and bytes out, or `None` for no
    /// answer (the caller sees a failed call). It runs on a network thread
    /// and may block, as a Go RPC handler does.
    fn handle(&self, request: Vec<u8>) -> Option<Vec<u8>>;

    /// Stops the server and its node: every request it is handling returns.
    fn kill(&self);

    /// The Raft node underneath.
    fn node(&self) -> &Node;
}

/// What a service needs to start server `index`.
#[derive(Debug)]
pub struct ServerStart {
    /// The server's number, `0..n`.
    pub index: usize,
    /// Its Raft node, ready to start: configuration, a copy of the server's
    /// persister, and a transport over the network.
    pub builder: NodeBuilder,
    /// The lab's `maxraftstate`: snapshot past this many bytes of Raft state;
    /// `None` for the lab's `-1`.
    pub max_raft_state: Option<u64>,
    /// The persister the node was given, for the service to read sizes.
    pub persister: Arc<MemPersister>,
}

/// How the tester starts one server of the service.
type Starter = dyn Fn(ServerStart) -> Arc<dyn ServiceServer> + Send + Sync;

/// The lab's service tester: `n` servers, each a service on a Raft node, on a
/// [`Network`] without long delays (a call to a cut-off server fails within
/// 100 ms), reliable or not.
///
/// Server `i` is two objects on the network: its Raft side, `server-0-<i>`,
/// reached by the other servers' ends, and its service side, `client-0-<i>`,
/// reached by clients' ends ([`client_ends`](Self::client_ends)). Partitions
/// cut the Raft ends only: a client reaches whichever servers its ends go to,
/// as in the lab. Crashing a server ([`shutdown_server`](Self::shutdown_server))
/// deletes both, kills the service and keeps a copy of its persister for the
/// next incarnation.
///
/// One tester (of this kind or the Raft [`Tester`](crate::Tester)) exists at
/// a time in a process.
pub struct ServiceTester {
    shared: Arc<Shared>,
    _serial: MutexGuard<'static, ()>,
}

struct Shared {
    n: usize,
    network: Network,
    max_raft_state: Option<u64>,
    starter: Box<Starter>,
    created: Instant,
    seed: u64,
    rng: Mutex<StdRng>,
    /// The lab's `#Ops`: client operations counted with [`ServiceTester::op`].
    ops: AtomicU64,
    state: Mutex<State>,
}

struct State {
    servers: Vec<Server>,
    /// What the tester did, for the history's visualization: partitions,
    /// crashes and restarts; the last partition open until the next.
    annotations: Vec<Annotation>,
    /// The group each server is in: servers talk only within a group.
    groups: Vec<usize>,
    mark: Option<Mark>,
}

struct Server {
    /// This incarnation's Raft ends, towards each server.
    end_names: Vec<String>,
    persister: Arc<MemPersister>,
    running: Option<Arc<dyn ServiceServer>>,
}

struct Mark {
    started: Instant,
    rpcs: u64,
    ops: u64,
}

impl ServiceTester {
    /// Starts `n` servers, each with `starter`, and connects them all (the
    /// lab's `MakeTest`). `max_raft_state` is handed to every server.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(
        n: usize,
        reliable: bool,
        max_raft_state: Option<u64>,
        starter: impl Fn(ServerStart) -> Arc<dyn ServiceServer> + Send + Sync + 'static,
    ) -> ServiceTester {
        assert!(n > 0, "a tester needs at least one server");
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let seed = seed_from_environment();
        let tester = ServiceTester {
            shared: Arc::new(Shared {
                n,
                network: Network::new(),
                max_raft_state,
                starter: Box::new(starter),
                created: Instant::now(),
                seed,
                rng: Mutex::new(StdRng::seed_from_u64(seed)),
                ops: AtomicU64::new(0),
                state: Mutex::new(State {
                    servers: (0..n)
                        .map(|_| Server {
                            end_names: Vec::new(),
                            persister: Arc::new(MemPersister::new()),
                            running: None,
                        })
                        .collect(),
                    groups: vec![0; n],
                    annotations: Vec::new(),
                    mark: None,
                }),
            }),
            _serial: serial,
        };
        tester.shared.network.set_reliable(reliable);
        tester.shared.network.set_long_delays(false);
        for i in 0..n {
            tester.start_server(i);
        }
        tester.connect_all();
        tester
    }

    /// The number of servers.
    pub fn servers(&self) -> usize {
        self.shared.n
    }

    /// The seed of this tester's random numbers ([`SEED_VARIABLE`](crate::SEED_VARIABLE)
    /// replays it).
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// The network, for settings such as reliability.
    pub fn network(&self) -> &Network {
        &self.shared.network
    }

    /// Prints `description`, as the lab's `Begin` does, and starts counting
    /// time, RPCs and operations for [`end`](Self::end).
    pub fn begin(&self, description: &str) {
        let reliability = if self.shared.network.is_reliable() { "reliable" } else { "unreliable" };
        println!("{description} ({reliability} network)...");
        let mark = Mark {
            started: Instant::now(),
            rpcs: self.shared.network.total_count(),
            ops: self.shared.ops.load(Ordering::SeqCst),
        };
        self.lock().mark = Some(mark);
    }

    /// Checks the time limit and prints the lab's
    /// `  ... Passed --  time <s>s #peers <n> #RPCs <n> #Ops <n>` line.
    ///
    /// # Panics
    /// `test took longer than 120 seconds`, or without [`begin`](Self::begin).
    pub fn end(&self) {
        self.check_timeout();
        let state = self.lock();
        let mark = state.mark.as_ref().expect("end() called without begin()");
        let seconds = mark.started.elapsed().as_secs_f64();
        let rpcs = self.shared.network.total_count() - mark.rpcs;
        let ops = self.shared.ops.load(Ordering::SeqCst) - mark.ops;
        println!(
            "  ... Passed --  time {seconds:4.1}s #peers {} #RPCs {rpcs:5} #Ops {ops:4}",
            self.shared.n
        );
    }

    /// Counts one client operation (the lab's `Op()`).
    pub fn op(&self) {
        self.shared.ops.fetch_add(1, Ordering::SeqCst);
    }

    /// Fails the test if it has run longer than the lab's 120 s.
    ///
    /// # Panics
    /// `test took longer than 120 seconds`.
    pub fn check_timeout(&self) {
        if self.shared.created.elapsed() > TIME_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }

    /// How long since the tester was made: the time base of the histories
    /// and annotations a test records.
    pub fn elapsed(&self) -> Duration {
        self.shared.created.elapsed()
    }

    /// Starts a new incarnation of server `i` from a copy of its persister,
    /// with fresh Raft ends, in its current group. A running server is
    /// crashed first.
    pub fn start_server(&self, i: usize) {
        if self.lock().servers[i].running.is_some() {
            self.shutdown_server(i);
        }
        let network = &self.shared.network;
        let end_names = make_server_ends(network, &mut self.rng(), self.shared.n);
        let persister = {
            let mut state = self.lock();
            let server = &mut state.servers[i];
            server.persister = Arc::new((*server.persister).clone());
            server.end_names = end_names.clone();
            Arc::clone(&server.persister)
        };
        let seed = self.rng().r#gen();
        let builder = server_node(network, i, self.shared.n, end_names, &persister, seed);
        let start = ServerStart {
            index: i,
            builder,
            max_raft_state: self.shared.max_raft_state,
            persister,
        };
        let server = (self.shared.starter)(start);
        let service = {
            let server = Arc::clone(&server);
            Service::new(move |request| server.handle(request))
        };
        network.add_server(&client_name(i), service);
        let mut state = self.lock();
        state.servers[i].running = Some(server);
        self.apply_groups(&state);
        self.annotate(&mut state, format!("restart {i}"), format!("server {i} started"));
    }

    /// Crashes server `i` (the lab's `ShutdownServer`): cuts it off, deletes
    /// both its network objects, keeps a copy of its persister for the next
    /// incarnation (late writes of the old one are lost), and kills it.
    pub fn shutdown_server(&self, i: usize) {
        let running = {
            let mut state = self.lock();
            for end in &state.servers[i].end_names {
                self.shared.network.enable(end, false);
            }
            let server = &mut state.servers[i];
            server.persister = Arc::new((*server.persister).clone());
            let running = server.running.take();
            if running.is_some() {
                self.annotate(&mut state, format!("crash {i}"), format!("server {i} shut down"));
            }
            running
        };
        self.shared.network.delete_server(&server_name(i));
        self.shared.network.delete_server(&client_name(i));
        if let Some(server) = running {
            server.kill();
        }
    }

    /// Crashes every server.
    pub fn shutdown_servers(&self) {
        for i in 0..self.shared.n {
            self.shutdown_server(i);
        }
    }

    /// Starts every server, then connects them all.
    pub fn start_servers(&self) {
        for i in 0..self.shared.n {
            self.start_server(i);
        }
        self.connect_all();
    }

    /// Puts every server in one group: all can talk.
    pub fn connect_all(&self) {
        self.partition(&(0..self.shared.n).collect::<Vec<_>>(), &[]);
    }

    /// Splits the servers into `first` and `second` (the lab's `Partition`):
    /// servers talk within their group only; servers in neither are cut off
    /// from everyone.
    pub fn partition(&self, first: &[usize], second: &[usize]) {
        let mut state = self.lock();
        let now = self.now();
        if let Some(open) =
            state.annotations.iter_mut().rev().find(|a| a.label.starts_with("partition"))
        {
            open.end = open.end.max(now);
        }
        if !second.is_empty() || first.len() < self.shared.n {
            state.annotations.push(Annotation {
                start: now,
                end: now,
                label: format!("partition {first:?} {second:?}"),
                description: format!("servers split into {first:?} and {second:?}"),
            });
        }
        let alone = 2;
        for (i, group) in state.groups.iter_mut().enumerate() {
            *group = if first.contains(&i) {
                0
            } else if second.contains(&i) {
                1
            } else {
                alone + i
            };
        }
        self.apply_groups(&state);
    }

    /// A random split into a majority and a minority (the lab's
    /// `MakePartition`): returns the two groups, the leader's side unknown.
    pub fn random_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let mut rng = self.rng();
        let mut first = Vec::new();
        let mut second = Vec::new();
        for i in 0..self.shared.n {
            if rng.gen_bool(0.5) { first.push(i) } else { second.push(i) }
        }
        (first, second)
    }

    /// A running server whose node believes it leads, if any (the lab's
    /// `Leader`).
    pub fn leader(&self) -> Option<usize> {
        let state = self.lock();
        state.servers.iter().position(|server| {
            server.running.as_ref().is_some_and(|running| running.node().state().1)
        })
    }

    /// Ends from a new client to every server, of which those to `servers`
    /// are enabled (the lab's `MakeClerkTo`); `&(0..n)` for a client of the
    /// whole service.
    pub fn client_ends(&self, servers: &[usize]) -> ClientEnds {
        let network = &self.shared.network;
        let ends: Vec<String> = (0..self.shared.n)
            .map(|j| {
                let end = random_string(&mut self.rng(), 20);
                network.make_end(&end);
                network.connect(&end, &client_name(j));
                network.enable(&end, servers.contains(&j));
                end
            })
            .collect();
        ClientEnds::new(network.clone(), ends)
    }

    /// The largest persisted Raft state of any server, in bytes (the lab's
    /// `LogSize`).
    pub fn log_size(&self) -> u64 {
        let state = self.lock();
        state.servers.iter().map(|server| server.persister.raft_state_size()).max().unwrap_or(0)
    }

    /// The largest snapshot of any server, in bytes (the lab's
    /// `SnapshotSize`).
    pub fn snapshot_size(&self) -> u64 {
        let state = self.lock();
        state.servers.iter().map(|server| server.persister.snapshot_size()).max().unwrap_or(0)
    }

    /// The RPCs the network has carried (the lab's `RpcTotal`).
    pub fn rpc_total(&self) -> u64 {
        self.shared.network.total_count()
    }

    /// What the tester did so far (partitions, crashes, restarts), in the
    /// time base of [`elapsed`](Self::elapsed), for a history's
    /// visualization.
    pub fn annotations(&self) -> Vec<Annotation> {
        self.lock().annotations.clone()
    }

    fn now(&self) -> u64 {
        self.shared.created.elapsed().as_nanos() as u64
    }

    fn annotate(&self, state: &mut State, label: String, description: String) {
        let now = self.now();
        state.annotations.push(Annotation { start: now, end: now, label, description });
    }

    /// A random number from the tester's seeded generator.
    pub fn random(&self) -> u64 {
        self.rng().r#gen()
    }

    /// Enables each Raft end whose two servers are in one group and running.
    fn apply_groups(&self, state: &State) {
        for (i, server) in state.servers.iter().enumerate() {
            for (j, end) in server.end_names.iter().enumerate() {
                let live = server.running.is_some() && state.servers[j].running.is_some();
                self.shared.network.enable(end, live && state.groups[i] == state.groups[j]);
            }
        }
    }

    fn rng(&self) -> MutexGuard<'_, StdRng> {
        self.shared.rng.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ServiceTester {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test failed; replay its random choices with {}={}",
                crate::SEED_VARIABLE,
                self.shared.seed
            );
        }
        let servers: Vec<Arc<dyn ServiceServer>> =
            self.lock().servers.iter_mut().filter_map(|server| server.running.take()).collect();
        for server in servers {
            server.kill();
        }
        self.shared.network.cleanup();
    }
}

impl fmt::Debug for ServiceTester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceTester")
            .field("servers", &self.shared.n)
            .field("seed", &self.shared.seed)
            .finish_non_exhaustive()
    }
}

/// The network name of server `i`'s service side.
fn client_name(i: usize) -> String {
    format!("client-0-{i}")
}
