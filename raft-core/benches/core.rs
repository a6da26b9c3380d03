//! Criterion benches of the deterministic core alone: a three-node cluster of
//! `Raft`s driven in one thread, with an instant disk and a perfect network.
//!
//! `Raft::propose_to_commit/B` proposes B commands on the leader and carries
//! every message until all three nodes have applied them; the throughput
//! line gives the cost per entry.
//!
//! ```text
//! cargo bench -p raft-core --bench core
//! ```

use std::collections::{HashMap, VecDeque};
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_main};
use raft_core::{Config, Message, NodeId, Outgoing, Raft, RequestId, Role, Sent};
use raft_persist::PersistedState;

/// Three cores and the messages between them.
struct Cluster {
    nodes: Vec<Raft>,
    wire: VecDeque<(NodeId, Message)>,
    asked: HashMap<RequestId, Sent>,
    next_id: u64,
}

impl Cluster {
    fn elected() -> Cluster {
        let ids: Vec<NodeId> = (0..3).map(NodeId).collect();
        let nodes = ids
            .iter()
            .map(|&id| Raft::new(Config::new(id, ids.clone()), PersistedState::default()))
            .collect::<Result<_, _>>()
            .expect("valid configs");
        let mut cluster =
            Cluster { nodes, wire: VecDeque::new(), asked: HashMap::new(), next_id: 0 };
        while cluster.leader().is_none() {
            cluster.nodes.iter_mut().for_each(Raft::tick);
            cluster.settle();
        }
        cluster
    }

    fn leader(&self) -> Option<usize> {
        self.nodes.iter().position(|node| node.role() == Role::Leader)
    }

    /// Carries out every node's work and delivers every message until quiet.
    fn settle(&mut self) {
        loop {
            for position in 0..self.nodes.len() {
                while self.nodes[position].has_ready() {
                    let node = &mut self.nodes[position];
                    let ready = node.ready();
                    if let Some((index, term)) = ready.persisted() {
                        node.on_persisted(index, term);
                    }
                    black_box(&ready.committed);
                    let from = node.id();
                    for message in ready.messages.into_iter().chain(ready.persisted_messages) {
                        self.post(from, message);
                    }
                }
            }
            let Some((to, message)) = self.wire.pop_front() else { return };
            self.nodes[to.0 as usize].step(message).expect("a member");
        }
    }

    fn post(&mut self, from: NodeId, message: Outgoing) {
        match message {
            Outgoing::Request { to, request } => {
                self.next_id += 1;
                let id = RequestId(self.next_id);
                self.asked.insert(id, Sent::of(&request));
                self.wire.push_back((to, Message::Request { from, id, request }));
            }
            Outgoing::Response { to, id, response } => {
                let sent = self.asked.remove(&id).expect("an answer to a request sent");
                let response = Some(response);
                self.wire.push_back((to, Message::Response { from, sent, response }));
            }
        }
    }

    /// Lets every node drop what all have applied, so the logs stay short.
    fn compact(&mut self) {
        let applied = self.nodes.iter().map(|node| node.status().applied_index).min();
        for node in &mut self.nodes {
            if let Some(index) = applied {
                node.snapshot(index, Vec::new()).expect("applied everywhere");
            }
        }
        self.settle();
    }
}

fn propose_to_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("Raft::propose_to_commit");
    for batch in [1u64, 64, 1024] {
        group.throughput(Throughput::Elements(batch));
        group.bench_function(batch.to_string(), |b| {
            let mut cluster = Cluster::elected();
            let leader = cluster.leader().expect("a leader");
            b.iter_batched_ref(
                || (),
                |()| {
                    for _ in 0..batch {
                        cluster.nodes[leader].propose(Vec::new()).expect("the leader accepts");
                    }
                    cluster.settle();
                    // Followers learn of the commit with the next append; a
                    // tick's commit news brings it without waiting.
                    cluster.nodes[leader].tick();
                    cluster.nodes[leader].tick();
                    cluster.settle();
                    cluster.compact();
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// The benchmark group; `criterion_group!` defines an undocumented public
/// function, so it lives in a module of its own.
#[allow(missing_docs)]
mod group {
    use super::propose_to_commit;

    criterion::criterion_group!(benches, propose_to_commit);
}

criterion_main!(group::benches);
