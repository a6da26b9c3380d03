//! The throughput harness: a three-node cluster in one process, driven through
//! the public `Node` API by C clients, each with one proposal outstanding (the
//! shape of openraft's `benchmarks/minimal`).
//!
//! ```text
//! cargo run --release -p raft-core --example throughput -- --mode memory
//! cargo run --release -p raft-core --example throughput -- --mode durable
//! ```
//!
//! - `--mode memory` (default): `ChannelTransport`, `MemPersister`, empty
//!   commands; C = 1, 16, 64, 256, 1024.
//! - `--mode durable`: `TcpTransport` on loopback, `FilePersister` with fsync in
//!   temporary directories, 256-byte commands; C = 1, 16, 64, 256, 500.
//! - `--clients 1,64` picks the client counts, `--seconds 5` the measured
//!   time of each run (after one second of warm-up), `--size 256` the command
//!   size.
//!
//! Each run prints ops/s, p50/p99 latency, the process's CPU time per
//! committed command, and the leader's AppendEntries and entries shipped per
//! committed command (per follower), with the rejections among them.
//!
//! The clients are futures (a `ProposalHandle` is one) polled by a small
//! executor on one thread, so 1,024 clients cost no 1,024 threads.

// An application, not the deterministic core: it may read clocks and sleep.
#![allow(clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::error::Error;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use raft_core::{
    ApplyReceiver, Bytes, Config, Counters, Node, NodeId, ProposeError, Request, Response, Role,
};
use raft_persist::{FilePersister, MemPersister};
use raft_transport::{ChannelNetwork, ClusterId, TcpTransport, Transport};

const PATIENCE: Duration = Duration::from_secs(10);
const WARM_UP: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Memory,
    Durable,
}

struct Options {
    mode: Mode,
    clients: Vec<usize>,
    seconds: u64,
    size: usize,
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = parse(std::env::args().skip(1))?;
    println!(
        "mode {:?}, {}-byte commands, {} s per run, 3 nodes in one process",
        options.mode, options.size, options.seconds
    );
    println!(
        "{:>7} {:>10} {:>9} {:>9} {:>10} {:>11} {:>13} {:>11}",
        "clients",
        "ops/s",
        "p50 µs",
        "p99 µs",
        "CPU µs/op",
        "appends/op",
        "entries/op/f",
        "rejected"
    );
    for &clients in &options.clients {
        let cluster = Cluster::start(options.mode)?;
        let result = run(&cluster, clients, &options)?;
        cluster.shutdown();
        println!(
            "{:>7} {:>10.0} {:>9} {:>9} {:>10.1} {:>11.3} {:>13.3} {:>10.3}%",
            clients,
            result.ops_per_second,
            result.p50.as_micros(),
            result.p99.as_micros(),
            result.cpu_per_op.as_secs_f64() * 1e6,
            result.appends_per_op,
            result.entries_per_op_per_follower,
            result.rejected_percent,
        );
    }
    Ok(())
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, Box<dyn Error>> {
    let mut mode = Mode::Memory;
    let mut clients = None;
    let mut seconds = 5;
    let mut size = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--mode" => {
                mode = match value()?.as_str() {
                    "memory" => Mode::Memory,
                    "durable" => Mode::Durable,
                    other => return Err(format!("unknown mode {other}: memory or durable").into()),
                }
            }
            "--clients" => {
                let list = value()?;
                let parsed: Result<Vec<usize>, _> = list.split(',').map(str::parse).collect();
                clients = Some(parsed.map_err(|_| format!("bad client list {list}"))?);
            }
            "--seconds" => seconds = value()?.parse()?,
            "--size" => size = Some(value()?.parse()?),
            "--bench" => {} // cargo bench passes it
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let clients = clients.unwrap_or(match mode {
        Mode::Memory => vec![1, 16, 64, 256, 1024],
        Mode::Durable => vec![1, 16, 64, 256, 500],
    });
    let size = size.unwrap_or(match mode {
        Mode::Memory => 0,
        Mode::Durable => 256,
    });
    Ok(Options { mode, clients, seconds, size })
}

/// Three running nodes and the threads that drain their apply sides.
struct Cluster {
    nodes: Vec<Node>,
    drains: Vec<thread::JoinHandle<()>>,
    _directories: Vec<tempfile::TempDir>,
}

impl Cluster {
    fn start(mode: Mode) -> Result<Cluster, Box<dyn Error>> {
        let ids: Vec<NodeId> = (1..=3).map(NodeId).collect();
        let mut started: Vec<(Node, ApplyReceiver)> = Vec::new();
        let mut directories = Vec::new();
        match mode {
            Mode::Memory => {
                let network = ChannelNetwork::<Request, Response>::new();
                for &id in &ids {
                    started.push(
                        Node::builder(Config::new(id, ids.clone()))
                            .persister(MemPersister::new())
                            .transport(network.transport(id)?)
                            .start()?,
                    );
                }
            }
            Mode::Durable => {
                let transports: Vec<TcpTransport<Request, Response>> = ids
                    .iter()
                    .map(|&id| {
                        TcpTransport::builder(id, ClusterId(1))
                            .listen("127.0.0.1:0".parse().expect("an address"))
                            .start()
                    })
                    .collect::<Result<_, _>>()?;
                for transport in &transports {
                    for other in &transports {
                        if other.local_id() != transport.local_id() {
                            transport.set_peer(other.local_id(), other.local_addr());
                        }
                    }
                }
                for (transport, &id) in transports.into_iter().zip(&ids) {
                    let directory = tempfile::tempdir()?;
                    let persister = FilePersister::open(directory.path())?;
                    directories.push(directory);
                    started.push(
                        Node::builder(Config::new(id, ids.clone()))
                            .persister(persister)
                            .transport(transport)
                            .start()?,
                    );
                }
            }
        }
        let mut nodes = Vec::new();
        let mut drains = Vec::new();
        for (node, applied) in started {
            nodes.push(node);
            drains.push(thread::spawn(move || applied.for_each(drop)));
        }
        Ok(Cluster { nodes, drains, _directories: directories })
    }

    fn leader(&self) -> Result<&Node, Box<dyn Error>> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(node) = self.nodes.iter().find(|node| node.status().role == Role::Leader) {
                return Ok(node);
            }
            thread::sleep(Duration::from_millis(10));
        }
        Err("no leader was elected".into())
    }

    fn shutdown(self) {
        for node in &self.nodes {
            node.shutdown();
        }
        for drain in self.drains {
            let _ = drain.join();
        }
    }
}

struct RunResult {
    ops_per_second: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_op: Duration,
    appends_per_op: f64,
    entries_per_op_per_follower: f64,
    rejected_percent: f64,
}

/// What the clients share: whether to record, whether to stop, and the
/// latencies recorded.
struct Shared {
    recording: AtomicBool,
    stopping: AtomicBool,
    latencies: Mutex<Vec<Duration>>,
}

fn run(cluster: &Cluster, clients: usize, options: &Options) -> Result<RunResult, Box<dyn Error>> {
    let leader = cluster.leader()?.clone();
    let shared = Arc::new(Shared {
        recording: AtomicBool::new(false),
        stopping: AtomicBool::new(false),
        latencies: Mutex::new(Vec::new()),
    });
    let command = Bytes::from(vec![7u8; options.size]);
    let tasks: Vec<Pin<Box<dyn Future<Output = ()> + Send>>> = (0..clients)
        .map(|_| {
            let (leader, shared, command) = (leader.clone(), Arc::clone(&shared), command.clone());
            Box::pin(client(leader, shared, command)) as Pin<Box<dyn Future<Output = ()> + Send>>
        })
        .collect();
    let executor = thread::spawn(move || block_on_all(tasks));

    thread::sleep(WARM_UP);
    let before = (leader.status().counters, leader.status().commit_index, cpu_time()?);
    let started = Instant::now();
    shared.recording.store(true, Ordering::SeqCst);
    thread::sleep(Duration::from_secs(options.seconds));
    shared.recording.store(false, Ordering::SeqCst);
    let elapsed = started.elapsed();
    let after = (leader.status().counters, leader.status().commit_index, cpu_time()?);
    shared.stopping.store(true, Ordering::SeqCst);
    executor.join().map_err(|_| "a client panicked")?;

    let mut latencies =
        std::mem::take(&mut *shared.latencies.lock().unwrap_or_else(PoisonError::into_inner));
    latencies.sort_unstable();
    let ops = latencies.len().max(1);
    let committed = (after.1.0 - before.1.0).max(1) as f64;
    let counters = difference(after.0, before.0);
    let followers = 2.0;
    Ok(RunResult {
        ops_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: latencies.get(ops / 2).copied().unwrap_or_default(),
        p99: latencies.get(ops * 99 / 100).copied().unwrap_or_default(),
        cpu_per_op: (after.2 - before.2) / ops as u32,
        appends_per_op: counters.appends_sent as f64 / committed,
        entries_per_op_per_follower: counters.entries_sent as f64 / committed / followers,
        rejected_percent: 100.0 * counters.rejections as f64 / counters.appends_sent.max(1) as f64,
    })
}

/// One client: proposes, waits for the commit, records the latency, again.
async fn client(leader: Node, shared: Arc<Shared>, command: Bytes) {
    let mut mine = Vec::new();
    while !shared.stopping.load(Ordering::SeqCst) {
        let started = Instant::now();
        match leader.propose(command.clone()) {
            Ok(handle) => {
                if handle.await.is_ok() && shared.recording.load(Ordering::SeqCst) {
                    mine.push(started.elapsed());
                }
            }
            Err(ProposeError::Busy) => YieldNow(false).await,
            Err(error) => {
                eprintln!("a proposal failed: {error}");
                break;
            }
        }
    }
    shared.latencies.lock().unwrap_or_else(PoisonError::into_inner).extend(mine);
}

fn difference(after: Counters, before: Counters) -> Counters {
    Counters {
        appends_sent: after.appends_sent - before.appends_sent,
        entries_sent: after.entries_sent - before.entries_sent,
        rejections: after.rejections - before.rejections,
        snapshots_sent: after.snapshots_sent - before.snapshots_sent,
        elections: after.elections - before.elections,
        pre_votes: after.pre_votes - before.pre_votes,
        quorum_losses: after.quorum_losses - before.quorum_losses,
        reads_confirmed: after.reads_confirmed - before.reads_confirmed,
        unsendable: after.unsendable - before.unsendable,
    }
}

/// The process's user and system CPU time so far (Linux: `/proc/self/stat`).
fn cpu_time() -> Result<Duration, Box<dyn Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the parenthesised command name; utime and stime are
    // the 14th and 15th fields of the line, in clock ticks (100 a second).
    let after_name = stat.rsplit_once(')').ok_or("an unreadable /proc/self/stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 10))
}

/// A future that is ready the second time it is polled.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        context.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Wakes one task of the executor: queues it and unparks the executor.
struct TaskWaker {
    task: usize,
    queue: Arc<Mutex<VecDeque<usize>>>,
    executor: Thread,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).push_back(self.task);
        self.executor.unpark();
    }
}

/// Polls every task to completion on this thread.
fn block_on_all(mut tasks: Vec<Pin<Box<dyn Future<Output = ()> + Send>>>) {
    let queue = Arc::new(Mutex::new((0..tasks.len()).collect::<VecDeque<usize>>()));
    let wakers: Vec<Waker> = (0..tasks.len())
        .map(|task| {
            let queue = Arc::clone(&queue);
            Waker::from(Arc::new(TaskWaker { task, queue, executor: thread::current() }))
        })
        .collect();
    let mut done = vec![false; tasks.len()];
    let mut left = tasks.len();
    while left > 0 {
        let ready: Vec<usize> =
            queue.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect();
        if ready.is_empty() {
            thread::park();
            continue;
        }
        for task in ready {
            if done[task] {
                continue;
            }
            let mut context = Context::from_waker(&wakers[task]);
            if tasks[task].as_mut().poll(&mut context).is_ready() {
                done[task] = true;
                left -= 1;
            }
        }
    }
}
