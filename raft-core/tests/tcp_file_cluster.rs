//! Three nodes in one process over the real backends: `TcpTransport` on
//! loopback and `FilePersister` in temporary directories.
//!
//! Each node's service is a small state machine on its own thread: it keeps
//! every command it applied, as (term, value) in log order, and snapshots that
//! history every [`SNAPSHOT_EVERY`] entries. The tests stop and restart nodes
//! from their directories and check that every node ends with the same
//! history, that each incarnation saw contiguous indices, and that a node that
//! fell behind the leader's snapshot catches up by InstallSnapshot over TCP.
//!
//! Waits are bounded (a failure says what it waited for and dumps the
//! cluster); nothing here asserts on timing.

// These tests run real nodes in real time: they read the clock for their
// deadlines and poll node status. The rule is for the deterministic core.
#![allow(clippy::disallowed_methods)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use raft_core::{
    Applied, ApplyReceiver, Config, Index, Node, NodeError, NodeId, Proposal, ProposeError,
    Request, Response, Role, Status, Term,
};
use raft_persist::FilePersister;
use raft_transport::{ClusterId, TcpTransport};
use tempfile::TempDir;

/// The service snapshots its state whenever it has applied an index that is a
/// multiple of this.
const SNAPSHOT_EVERY: u64 = 100;
/// What a history holds for a leader's no-op entry: no command is this value.
const NOOP: u64 = u64::MAX;

/// The longest any one wait may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// How long to wait for a batch of proposals to commit before proposing a
/// filler command, in case a new leader holds them uncommitted from an older
/// term (it commits them only along with an entry of its own term).
const NUDGE_AFTER: Duration = Duration::from_secs(2);

/// How often to look at the nodes' status while waiting for a leader.
const POLL: Duration = Duration::from_millis(10);

const CLUSTER: ClusterId = ClusterId(0x7463_705f_6669_6c65);

#[test]
fn leader_restarted_from_its_directory_catches_up() {
    let mut cluster = Cluster::start(3);
    cluster.commit(1000);
    cluster.expect_in_step();

    let leader = cluster.wait_for_leader();
    let stopped = cluster.stop(leader);
    assert!(
        stopped.snapshot_index > Index(0),
        "after 1000 commands the leader should hold a snapshot: {stopped:?}"
    );

    // The other two elect a leader among themselves and go on.
    cluster.commit(200);
    cluster.expect_in_step();

    cluster.restart(leader);
    cluster.commit(100);
    assert_eq!(cluster.live().count(), 3);
    cluster.expect_in_step();

    // Its first item was its own snapshot, read back from its directory.
    let restarted = cluster.service(leader);
    assert_eq!(
        restarted.snapshots.first(),
        Some(&(0, stopped.snapshot_index)),
        "the restarted node should deliver its own snapshot first"
    );
    drop(restarted);
    cluster.expect_every_value_once();
    cluster.expect_no_violations();
}

#[test]
fn follower_behind_the_leaders_snapshot_catches_up_by_install_snapshot() {
    let mut cluster = Cluster::start(3);
    cluster.commit(150);
    cluster.expect_in_step();

    let leader = cluster.wait_for_leader();
    let follower = (leader + 1) % cluster.len();
    let stopped = cluster.stop(follower);

    // Go on until every live node's snapshot covers entries the stopped node
    // never had: whoever leads can then only send it a snapshot.
    let deadline = Instant::now() + PATIENCE;
    while !cluster.live().all(|slot| cluster.status(slot).snapshot_index > stopped.last_index) {
        assert!(
            Instant::now() < deadline,
            "the live nodes never snapshotted past index {}:\n{}",
            stopped.last_index,
            cluster.describe()
        );
        cluster.commit(SNAPSHOT_EVERY as usize);
    }

    cluster.restart(follower);
    cluster.commit(50);
    assert_eq!(cluster.live().count(), 3);
    cluster.expect_in_step();

    let restarted = cluster.service(follower);
    assert!(
        restarted.snapshots.iter().any(|&(_, index)| index > stopped.last_index),
        "the restarted node should have received a snapshot past its own log (last index {}); \
         it received {:?}",
        stopped.last_index,
        restarted.snapshots
    );
    drop(restarted);
    cluster.expect_every_value_once();
    cluster.expect_no_violations();
}

/// What one node's service knows, for one incarnation of the node.
#[derive(Debug, Default)]
struct Service {
    /// Every command applied, in log order: position `i` holds index `i + 1`,
    /// as (term, value). The service's snapshots carry all of it.
    history: Vec<(u64, u64)>,
    /// The snapshots delivered on the apply channel: (position among the
    /// items this incarnation received, index).
    snapshots: Vec<(usize, Index)>,
    /// How many items this incarnation received.
    items: usize,
    /// Broken expectations, reported at the end (or when a wait fails).
    violations: Vec<String>,
}

impl Service {
    /// Applies one item; returns the snapshot to hand the node, if one is due.
    fn apply(&mut self, node: NodeId, item: Applied) -> Option<(Index, Vec<u8>)> {
        let position = self.items;
        self.items += 1;
        let (index, term, value) = match item {
            Applied::Command { index, term, data } => match <[u8; 8]>::try_from(&data[..]) {
                Ok(bytes) => (index, term, u64::from_le_bytes(bytes)),
                Err(_) => {
                    self.violations.push(format!("node {node}: command {index} is {data:?}"));
                    return None;
                }
            },
            Applied::Noop { index, term } => (index, term, NOOP),
            snapshot @ Applied::Snapshot { .. } => return self.install(node, position, snapshot),
        };
        let expected = self.history.len() as u64 + 1;
        if index.0 != expected {
            self.violations
                .push(format!("node {node}: item at index {index}, expected index {expected}"));
        }
        self.history.push((term.0, value));
        let due = index.0 % SNAPSHOT_EVERY == 0;
        due.then(|| (index, postcard::to_stdvec(&self.history).expect("a vector encodes")))
    }

    /// Installs a snapshot, the item at `position` of this incarnation.
    fn install(
        &mut self,
        node: NodeId,
        position: usize,
        item: Applied,
    ) -> Option<(Index, Vec<u8>)> {
        match item {
            Applied::Command { .. } | Applied::Noop { .. } => None,
            Applied::Snapshot { index, data, .. } => {
                if index.0 <= self.history.len() as u64 {
                    self.violations.push(format!(
                        "node {node}: snapshot through {index} does not move the service forward \
                         from {}",
                        self.history.len()
                    ));
                }
                match postcard::from_bytes::<Vec<(u64, u64)>>(&data) {
                    Ok(history) if history.len() as u64 == index.0 => self.history = history,
                    Ok(history) => self.violations.push(format!(
                        "node {node}: snapshot through {index} holds {} commands",
                        history.len()
                    )),
                    Err(error) => self
                        .violations
                        .push(format!("node {node}: snapshot through {index}: {error}")),
                }
                self.snapshots.push((position, index));
                None
            }
        }
    }
}

/// The services of every node, behind one lock, with a condition variable
/// signalled whenever one of them applies something.
#[derive(Debug, Default)]
struct Services {
    states: Mutex<Vec<Service>>,
    changed: Condvar,
}

impl Services {
    fn lock(&self) -> MutexGuard<'_, Vec<Service>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `done` holds for the services, at most `timeout`; returns
    /// whether it did.
    fn wait(&self, timeout: Duration, mut done: impl FnMut(&[Service]) -> bool) -> bool {
        let (states, _) = self
            .changed
            .wait_timeout_while(self.lock(), timeout, |states| !done(states))
            .unwrap_or_else(PoisonError::into_inner);
        done(&states)
    }
}

/// The apply loop of node `slot`'s service: runs until the node shuts down.
fn run_service(node: Node, applied: ApplyReceiver, slot: usize, services: Arc<Services>) {
    for item in applied {
        let due = services.lock()[slot].apply(node.id(), item);
        services.changed.notify_all();
        if let Some((index, data)) = due {
            match node.snapshot(index, data) {
                Ok(()) | Err(NodeError::Shutdown) => {}
                Err(error) => services.lock()[slot]
                    .violations
                    .push(format!("node {}: snapshot through {index}: {error}", node.id())),
            }
        }
    }
}

/// A running node and its service's thread.
#[derive(Debug)]
struct Member {
    node: Node,
    service: JoinHandle<()>,
}

/// Three (or `n`) nodes, each with a directory and a fixed address.
#[derive(Debug)]
struct Cluster {
    /// Holds `node-<id>` for every node; removed at the end.
    root: TempDir,
    ids: Vec<NodeId>,
    /// Where each node listens; a restarted node listens there again.
    addrs: Vec<SocketAddr>,
    members: Vec<Option<Member>>,
    services: Arc<Services>,
    /// The slot that last accepted a proposal.
    leader_guess: usize,
    /// The next command value to propose.
    next_value: u64,
    /// The values whose commit the test waited for: each must be applied
    /// exactly once. (Fillers may commit or be lost.)
    committed: Vec<u64>,
}

impl Cluster {
    /// Starts `n` nodes on loopback ports the system picks, then tells each
    /// the others' addresses.
    fn start(n: usize) -> Cluster {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let root = tempfile::tempdir().expect("a temporary directory");
        let ids: Vec<NodeId> = (1..=n as u64).map(NodeId).collect();
        let transports: Vec<TcpTransport<Request, Response>> = ids
            .iter()
            .map(|&id| TcpTransport::builder(id, CLUSTER).start().expect("the transport starts"))
            .collect();
        let addrs: Vec<SocketAddr> = transports.iter().map(TcpTransport::local_addr).collect();
        for (transport, &me) in transports.iter().zip(&ids) {
            for (&id, &addr) in ids.iter().zip(&addrs).filter(|&(&id, _)| id != me) {
                transport.set_peer(id, addr);
            }
        }
        let services = Arc::new(Services::default());
        services.lock().resize_with(n, Service::default);
        let mut cluster = Cluster {
            root,
            ids,
            addrs,
            members: (0..n).map(|_| None).collect(),
            services,
            leader_guess: 0,
            next_value: 1,
            committed: Vec::new(),
        };
        for (slot, transport) in transports.into_iter().enumerate() {
            cluster.launch(slot, transport);
        }
        cluster
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn dir(&self, slot: usize) -> PathBuf {
        self.root.path().join(format!("node-{}", self.ids[slot]))
    }

    /// Starts node `slot` from its directory with a fresh service.
    fn launch(&mut self, slot: usize, transport: TcpTransport<Request, Response>) {
        let persister = FilePersister::open(self.dir(slot)).expect("the node's directory opens");
        let (node, applied) = Node::builder(Config::new(self.ids[slot], self.ids.clone()))
            .persister(persister)
            .transport(transport)
            .start()
            .expect("the node starts");
        self.services.lock()[slot] = Service::default();
        let services = Arc::clone(&self.services);
        let service_node = node.clone();
        let service = std::thread::Builder::new()
            .name(format!("service-{}", self.ids[slot]))
            .spawn(move || run_service(service_node, applied, slot, services))
            .expect("the service thread starts");
        self.members[slot] = Some(Member { node, service });
    }

    /// Shuts node `slot` down and releases its directory and address; returns
    /// its last status.
    fn stop(&mut self, slot: usize) -> Status {
        let member = self.members[slot].take().expect("the node is running");
        member.node.shutdown();
        member.service.join().expect("the service thread ends cleanly");
        let status = member.node.status();
        // The last handle goes: the persister's lock and the listener with it.
        drop(member.node);
        status
    }

    /// Starts node `slot` again from its directory, listening on its old
    /// address so the others reach it there.
    fn restart(&mut self, slot: usize) {
        let me = self.ids[slot];
        let mut builder = TcpTransport::builder(me, CLUSTER).listen(self.addrs[slot]);
        for (&id, &addr) in self.ids.iter().zip(&self.addrs).filter(|&(&id, _)| id != me) {
            builder = builder.peer(id, addr);
        }
        let transport = builder.start().expect("the transport binds its old address again");
        self.launch(slot, transport);
    }

    fn node(&self, slot: usize) -> Option<&Node> {
        self.members[slot].as_ref().map(|member| &member.node)
    }

    fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&slot| self.members[slot].is_some())
    }

    fn status(&self, slot: usize) -> Status {
        self.node(slot).expect("the node is running").status()
    }

    fn service(&self, slot: usize) -> impl std::ops::Deref<Target = Service> + '_ {
        ServiceGuard { guard: self.services.lock(), slot }
    }

    /// Polls until a live node leads; returns its slot.
    fn wait_for_leader(&self) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(slot) = self.live().find(|&slot| self.status(slot).role == Role::Leader) {
                return slot;
            }
            assert!(Instant::now() < deadline, "no leader emerged:\n{}", self.describe());
            std::thread::sleep(POLL);
        }
    }

    /// Proposes `value` to whichever live node leads, following the leader
    /// hints; returns where the leader put it.
    fn propose(&mut self, value: u64) -> Proposal {
        let deadline = Instant::now() + PATIENCE;
        let mut slot = self.leader_guess;
        loop {
            assert!(
                Instant::now() < deadline,
                "no node accepted command {value}:\n{}",
                self.describe()
            );
            let Some(node) = self.node(slot) else {
                slot = (slot + 1) % self.len();
                continue;
            };
            let accepted =
                node.propose(value.to_le_bytes().to_vec()).map(|handle| handle.accepted());
            match accepted {
                Ok(Ok(proposal)) => {
                    self.leader_guess = slot;
                    return proposal;
                }
                Ok(Err(_)) => {
                    // Leadership moved before the loop took it: try again.
                    std::thread::sleep(POLL);
                }
                Err(ProposeError::NotLeader { leader_hint: Some(hint) })
                    if hint != node.id() && self.node(self.slot_of(hint)).is_some() =>
                {
                    slot = self.slot_of(hint);
                }
                Err(ProposeError::NotLeader { .. }) => {
                    // No leader known here: let an election run, try the next.
                    std::thread::sleep(POLL);
                    slot = (slot + 1) % self.len();
                }
                Err(error) => panic!("node {} refused command {value}: {error}", node.id()),
            }
        }
    }

    fn slot_of(&self, id: NodeId) -> usize {
        self.ids.iter().position(|&known| known == id).expect("a member of the cluster")
    }

    /// Proposes `count` new commands and waits until each has committed,
    /// proposing again those a change of leader lost, and until every live
    /// node has applied them.
    fn commit(&mut self, count: usize) {
        let mut pending: Vec<(u64, Proposal)> = (0..count)
            .map(|_| {
                let value = self.take_value();
                (value, self.propose(value))
            })
            .collect();
        let deadline = Instant::now() + PATIENCE;
        while !pending.is_empty() {
            assert!(
                Instant::now() < deadline,
                "{} proposals never committed (first: {:?}):\n{}",
                pending.len(),
                pending.first(),
                self.describe()
            );
            let furthest = pending.iter().map(|(_, proposal)| proposal.index).max();
            let furthest = furthest.expect("pending is not empty").0 as usize;
            let live: Vec<usize> = self.live().collect();
            let decided = self.services.wait(NUDGE_AFTER, |states| {
                live.iter().any(|&slot| states[slot].history.len() >= furthest)
            });
            if !decided {
                let filler = self.take_value();
                self.propose(filler);
                continue;
            }
            // Any node that applied an index agrees with every other on it.
            let states = self.services.lock();
            let reference =
                live.iter().map(|&slot| &states[slot].history).max_by_key(|history| history.len());
            let history = reference.expect("a live node").clone();
            drop(states);
            let mut lost = Vec::new();
            for (value, proposal) in pending {
                let (term, applied) = history[proposal.index.0 as usize - 1];
                if Term(term) == proposal.term {
                    assert_eq!(applied, value, "index {} holds another command", proposal.index);
                    self.committed.push(value);
                } else {
                    lost.push(value);
                }
            }
            pending = lost.into_iter().map(|value| (value, self.propose(value))).collect();
        }
        self.wait_until_all_applied();
    }

    fn take_value(&mut self) -> u64 {
        self.next_value += 1;
        self.next_value - 1
    }

    /// Waits until every live node's service has applied as far as the
    /// furthest one.
    fn wait_until_all_applied(&self) {
        let live: Vec<usize> = self.live().collect();
        let in_step = self.services.wait(PATIENCE, |states| {
            let lengths = live.iter().map(|&slot| states[slot].history.len());
            lengths.clone().min() == lengths.max()
        });
        assert!(in_step, "the live nodes never applied the same entries:\n{}", self.describe());
    }

    /// Waits until every live node has applied as far as the others, then
    /// checks their histories are identical.
    fn expect_in_step(&self) {
        self.wait_until_all_applied();
        let states = self.services.lock();
        let live: Vec<usize> = self.live().collect();
        for pair in live.windows(2) {
            assert!(
                states[pair[0]].history == states[pair[1]].history,
                "node {} applied other commands than node {}",
                self.ids[pair[0]],
                self.ids[pair[1]]
            );
        }
    }

    /// Every value the test saw commit appears exactly once, and no value
    /// twice, in the first node's history (the others equal it).
    fn expect_every_value_once(&self) {
        let states = self.services.lock();
        let mut seen = HashSet::new();
        for &(_, value) in states[0].history.iter().filter(|&&(_, value)| value != NOOP) {
            assert!(seen.insert(value), "command {value} was applied twice");
        }
        let missing: Vec<u64> =
            self.committed.iter().copied().filter(|value| !seen.contains(value)).collect();
        assert!(missing.is_empty(), "committed commands never applied: {missing:?}");
    }

    fn expect_no_violations(&self) {
        let states = self.services.lock();
        let violations: Vec<&String> =
            states.iter().flat_map(|service| &service.violations).collect();
        assert!(violations.is_empty(), "the services saw: {violations:#?}");
    }

    /// Every node's status and service progress, for failure messages.
    fn describe(&self) -> String {
        let states = self.services.lock();
        (0..self.len())
            .map(|slot| {
                let status = match self.node(slot) {
                    Some(node) => format!("{:?}", node.status()),
                    None => "stopped".to_owned(),
                };
                let service = &states[slot];
                format!(
                    "  node {}: {status}; service applied {}, snapshots {:?}, violations {:?}\n",
                    self.ids[slot],
                    service.history.len(),
                    service.snapshots,
                    service.violations
                )
            })
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for member in self.members.iter_mut().filter_map(Option::take) {
            member.node.shutdown();
            let _ = member.service.join();
        }
    }
}

/// One node's service, read under the services' lock.
struct ServiceGuard<'a> {
    guard: MutexGuard<'a, Vec<Service>>,
    slot: usize,
}

impl std::ops::Deref for ServiceGuard<'_> {
    type Target = Service;

    fn deref(&self) -> &Service {
        &self.guard[self.slot]
    }
}
