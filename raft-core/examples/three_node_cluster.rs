//! A three-node Raft cluster in one process, over the real backends: each node
//! talks to the others through a `TcpTransport` on loopback and keeps its term,
//! vote, log and snapshots in its own directory through a `FilePersister`.
//!
//! The replicated service is a tiny key/value store. It snapshots itself every
//! few commands, so the nodes' logs stay short. The example proposes some
//! commands, stops one node, proposes more, starts that node again from its
//! directory (it catches up), prints what every node applied and shuts the
//! cluster down.
//!
//! Run it with
//!
//! ```text
//! cargo run -p raft-core --example three_node_cluster
//! ```
//!
//! The nodes' files go to a temporary directory, removed at the end. Give a
//! directory to keep them; run again with the same one and the nodes start
//! from their snapshots and logs, with the store's earlier contents:
//!
//! ```text
//! cargo run -p raft-core --example three_node_cluster -- /path/to/dir
//! ```
//!
//! `RUST_LOG=raft_core=debug` shows elections and the nodes' other steps.

// raft-core's lint settings keep the clock and sleeping out of its
// deterministic core; an application like this one may use both.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::error::Error;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use raft_core::{
    Applied, ApplyReceiver, Config, Index, Node, NodeError, NodeId, Proposal, ProposeError,
    Request, Response,
};
use raft_persist::FilePersister;
use raft_transport::{ClusterId, TcpTransport};
use serde::{Deserialize, Serialize};

/// Every node of one cluster uses the same id; a node of another cluster that
/// reaches one of these addresses by mistake is refused at the handshake.
const CLUSTER: ClusterId = ClusterId(42);

/// The store snapshots itself after every this many commands.
const SNAPSHOT_EVERY: u64 = 4;

/// How long to wait for a leader, or for a command to be applied everywhere.
const PATIENCE: Duration = Duration::from_secs(10);

/// A command of the key/value store. Raft carries commands as opaque bytes;
/// the store encodes them with postcard.
#[derive(Debug, Serialize, Deserialize)]
enum Command {
    Set { key: String, value: String },
    Remove { key: String },
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Set { key, value } => write!(f, "set {key}={value}"),
            Command::Remove { key } => write!(f, "remove {key}"),
        }
    }
}

fn set(key: &str, value: &str) -> Command {
    Command::Set { key: key.to_owned(), value: value.to_owned() }
}

fn remove(key: &str) -> Command {
    Command::Remove { key: key.to_owned() }
}

/// One node's copy of the key/value store.
#[derive(Debug, Default)]
struct Store {
    /// The store's state; a snapshot is its postcard encoding.
    entries: BTreeMap<String, String>,
    /// The last log index applied (or covered by the last snapshot).
    applied: Index,
    /// What this node applied, in order, to print at the end.
    journal: Vec<String>,
}

impl Store {
    /// Applies one item from the apply channel. Returns a snapshot of the
    /// store when one is due.
    fn apply(&mut self, item: Applied) -> Option<(Index, Vec<u8>)> {
        match item {
            Applied::Command { index, term, data } => {
                self.applied = index;
                // A command this store cannot read would be a bug in the
                // application; skipping it keeps every node alike.
                let Ok(command) = postcard::from_bytes::<Command>(&data) else {
                    self.journal.push(format!("#{index} (term {term}): unreadable, skipped"));
                    return None;
                };
                self.journal.push(format!("#{index} (term {term}): {command}"));
                match command {
                    Command::Set { key, value } => {
                        self.entries.insert(key, value);
                    }
                    Command::Remove { key } => {
                        self.entries.remove(&key);
                    }
                }
                let due = index.0 % SNAPSHOT_EVERY == 0;
                due.then(|| (index, postcard::to_stdvec(&self.entries).expect("a map encodes")))
            }
            Applied::Noop { index, term } => {
                // A new leader's empty entry: nothing to apply.
                self.applied = index;
                self.journal.push(format!("#{index} (term {term}): the new leader's no-op"));
                None
            }
            Applied::Snapshot { index, term, data } => {
                // A snapshot replaces the whole state: the node restarted
                // from one, or the leader sent one because this node was too
                // far behind for the log to help.
                self.entries = postcard::from_bytes(&data).unwrap_or_default();
                self.applied = index;
                self.journal.push(format!("snapshot through #{index} (term {term})"));
                None
            }
        }
    }
}

/// A store shared between the thread that applies to it and the main thread,
/// which waits on `changed` for it to move.
#[derive(Debug, Default)]
struct Replica {
    store: Mutex<Store>,
    changed: Condvar,
}

impl Replica {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the store has applied `index`, at most `timeout`.
    fn wait_applied(&self, index: Index, timeout: Duration) -> bool {
        let (store, _) = self
            .changed
            .wait_timeout_while(self.store(), timeout, |store| store.applied < index)
            .unwrap_or_else(PoisonError::into_inner);
        store.applied >= index
    }
}

/// The apply loop: reads the node's apply channel until the node shuts down,
/// and hands the node a snapshot of the store every few commands. Calling
/// `snapshot` from this thread is safe: the node never waits for it.
fn apply_loop(node: Node, applied: ApplyReceiver, replica: Arc<Replica>) {
    for item in applied {
        let due = replica.store().apply(item);
        replica.changed.notify_all();
        if let Some((index, data)) = due {
            match node.snapshot(index, data) {
                Ok(()) | Err(NodeError::Shutdown) => {}
                Err(error) => eprintln!("node {}: snapshot through #{index}: {error}", node.id()),
            }
        }
    }
}

/// A running node, its store and the thread applying to it.
#[derive(Debug)]
struct Member {
    node: Node,
    replica: Arc<Replica>,
    applier: JoinHandle<()>,
}

impl Member {
    /// Opens the node's directory, starts the node over `transport` and its
    /// apply loop. A directory from an earlier run gives the node its term,
    /// vote, log and snapshot back; the snapshot is the first thing applied.
    fn start(
        id: NodeId,
        members: &[NodeId],
        dir: &Path,
        transport: TcpTransport<Request, Response>,
    ) -> Result<Member, Box<dyn Error>> {
        let (node, applied) = Node::builder(Config::new(id, members.to_vec()))
            .persister(FilePersister::open(dir)?)
            .transport(transport)
            .start()?;
        let replica = Arc::new(Replica::default());
        let applier = std::thread::Builder::new().name(format!("apply-{id}")).spawn({
            let (node, replica) = (node.clone(), Arc::clone(&replica));
            move || apply_loop(node, applied, replica)
        })?;
        Ok(Member { node, replica, applier })
    }

    /// Shuts the node down (the apply channel closes, so the apply loop ends)
    /// and waits for its thread. Dropping the last handle on the node releases
    /// its directory and its address.
    fn stop(self) {
        self.node.shutdown();
        let _ = self.applier.join();
    }
}

/// Proposes `command` to the leader, finding it by following the hints of the
/// nodes that are not, and waits until every running node has applied it.
///
/// An accepted proposal can still be lost if the leader changes before it
/// commits: its handle then says so, and a real client would propose again
/// (tagging commands with ids so the service can drop duplicates).
fn replicate(
    members: &BTreeMap<NodeId, Member>,
    command: &Command,
) -> Result<Proposal, Box<dyn Error>> {
    let data = postcard::to_stdvec(command)?;
    let ids: Vec<NodeId> = members.keys().copied().collect();
    let mut target = 0;
    let mut attempts = 0;
    let proposal = loop {
        match members[&ids[target]].node.propose(data.clone()) {
            // The handle resolves once the command commits, or says it was
            // lost to a change of leader.
            Ok(handle) => break handle.wait_timeout(PATIENCE)?,
            Err(ProposeError::NotLeader { leader_hint: Some(leader) })
                if leader != ids[target] && members.contains_key(&leader) =>
            {
                target = ids.iter().position(|&id| id == leader).expect("a running member");
            }
            Err(ProposeError::NotLeader { .. }) => {
                // No leader known yet (an election is under way): try the
                // next node in a moment.
                attempts += 1;
                if attempts * 20 > PATIENCE.as_millis() {
                    return Err("no leader was elected".into());
                }
                std::thread::sleep(Duration::from_millis(20));
                target = (target + 1) % ids.len();
            }
            Err(error) => return Err(error.into()),
        }
    };
    for (id, member) in members {
        if !member.replica.wait_applied(proposal.index, PATIENCE) {
            return Err(format!("node {id} did not apply #{}", proposal.index).into());
        }
    }
    Ok(proposal)
}

/// Starts node `id`'s transport on `listen` (port 0: the system picks one)
/// with the addresses of the peers known so far.
fn transport(
    id: NodeId,
    listen: SocketAddr,
    peers: &BTreeMap<NodeId, SocketAddr>,
) -> Result<TcpTransport<Request, Response>, Box<dyn Error>> {
    let mut builder = TcpTransport::builder(id, CLUSTER).listen(listen);
    for (&peer, &addr) in peers.iter().filter(|&(&peer, _)| peer != id) {
        builder = builder.peer(peer, addr);
    }
    Ok(builder.start()?)
}

fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    // Where the nodes keep their files: the directory given, or a temporary
    // one that lives until the end of `main`.
    let temporary;
    let root: PathBuf = match std::env::args_os().nth(1) {
        Some(dir) => dir.into(),
        None => {
            temporary = tempfile::tempdir()?;
            temporary.path().to_owned()
        }
    };
    let ids = [NodeId(1), NodeId(2), NodeId(3)];
    let dir = |id: NodeId| root.join(format!("node-{id}"));

    // Bind every node's listener first, on a port the system picks, then tell
    // each transport where the others are. (With fixed addresses, give them
    // to the builder with `.listen(addr)` and `.peer(id, addr)` instead.)
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut transports = BTreeMap::new();
    for id in ids {
        transports.insert(id, transport(id, loopback, &BTreeMap::new())?);
    }
    let addrs: BTreeMap<NodeId, SocketAddr> =
        transports.iter().map(|(&id, transport)| (id, transport.local_addr())).collect();
    for (&id, transport) in &transports {
        for (&peer, &addr) in addrs.iter().filter(|&(&peer, _)| peer != id) {
            transport.set_peer(peer, addr);
        }
    }

    let mut members = BTreeMap::new();
    for (id, transport) in transports {
        println!("node {id}: listening on {}, files in {}", addrs[&id], dir(id).display());
        members.insert(id, Member::start(id, &ids, &dir(id), transport)?);
    }

    let first = [
        set("apple", "red"),
        set("banana", "yellow"),
        set("cherry", "red"),
        set("apple", "green"),
        remove("banana"),
        set("date", "brown"),
    ];
    for command in &first {
        let proposal = replicate(&members, command)?;
        println!("committed {command} at #{} (term {})", proposal.index, proposal.term);
    }

    // Stop one node: the other two are a majority and go on without it.
    let down = NodeId(3);
    members.remove(&down).expect("node 3 runs").stop();
    println!("node {down}: stopped");
    for command in [set("elderberry", "purple"), set("fig", "purple"), remove("cherry")] {
        let proposal = replicate(&members, &command)?;
        println!("committed {command} at #{} (term {})", proposal.index, proposal.term);
    }

    // Start it again from its directory, on its old address, so the others
    // reach it where they expect it. It applies its own snapshot, then catches
    // up from the leader: the entries it missed, or the leader's snapshot if
    // the leader's log no longer holds them.
    let transport = transport(down, addrs[&down], &addrs)?;
    members.insert(down, Member::start(down, &ids, &dir(down), transport)?);
    println!("node {down}: started again from {}", dir(down).display());
    let proposal = replicate(&members, &set("grape", "green"))?;
    println!("committed set grape=green at #{} (term {})", proposal.index, proposal.term);

    for (id, member) in &members {
        let store = member.replica.store();
        println!("\nnode {id} applied since it last started:");
        for line in &store.journal {
            println!("  {line}");
        }
        println!("  store: {:?}", store.entries);
    }

    for (id, member) in members {
        member.stop();
        println!("node {id}: shut down");
    }
    Ok(())
}
