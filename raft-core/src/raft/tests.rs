//! Unit tests of the protocol core, driven by ticks and messages only: no
//! threads, no sleeps, no clock.

use std::collections::{BTreeSet, HashMap, VecDeque};

use raft_log::{Index, NodeId, Term};
use raft_persist::PersistedState;

use super::Raft;
use crate::{Applied, Config, Message, Outgoing, ReadOutcome, Request, RequestId, Role, Sent};

/// A cluster of cores joined by a lossless in-order message queue and an
/// instant disk, with per-node isolation to model partitions. A message to or
/// from an isolated node is lost, and its requester hears of the failure, as
/// a transport tells it.
struct Cluster {
    nodes: Vec<Raft>,
    isolated: BTreeSet<u64>,
    applied: Vec<Vec<Applied>>,
    /// The read outcomes each node's Ready gave, in order.
    reads: Vec<Vec<ReadOutcome>>,
    /// Messages in flight: (from, to, message).
    queue: VecDeque<(NodeId, NodeId, Message)>,
    /// What each requester remembers of its requests in flight.
    asked: HashMap<RequestId, Sent>,
    next_id: u64,
}

pub(super) fn new_test_config(id: u64, size: u64) -> Config {
    let mut config = Config::new(NodeId(id), (0..size).map(NodeId).collect());
    config.seed = 7 + id * 1_000_003;
    // These tests count indices from the first command.
    config.noop_on_election = false;
    config
}

impl Cluster {
    /// A cluster like [`Cluster::new`]'s, with every node's configuration
    /// changed by `adjust`.
    fn with(size: u64, adjust: impl Fn(&mut Config)) -> Cluster {
        let mut cluster = Cluster::new(size);
        cluster.nodes = (0..size)
            .map(|id| {
                let mut config = new_test_config(id, size);
                adjust(&mut config);
                Raft::new(config, PersistedState::default()).unwrap()
            })
            .collect();
        cluster
    }

    fn new(size: u64) -> Cluster {
        let nodes = (0..size)
            .map(|id| Raft::new(new_test_config(id, size), PersistedState::default()).unwrap())
            .collect();
        Cluster {
            nodes,
            isolated: BTreeSet::new(),
            applied: vec![Vec::new(); size as usize],
            reads: vec![Vec::new(); size as usize],
            queue: VecDeque::new(),
            asked: HashMap::new(),
            next_id: 0,
        }
    }

    /// Carries out every node's Ready: the disk is instant, so the persist
    /// report follows at once.
    fn collect(&mut self) {
        for position in 0..self.nodes.len() {
            while self.nodes[position].has_ready() {
                let node = &mut self.nodes[position];
                let ready = node.ready();
                if let Some((index, term)) = ready.persisted() {
                    node.on_persisted(index, term);
                }
                self.applied[position].extend(ready.committed);
                self.reads[position].extend(ready.reads);
                let from = NodeId(position as u64);
                for message in ready.messages.into_iter().chain(ready.persisted_messages) {
                    self.post(from, message);
                }
            }
        }
    }

    fn post(&mut self, from: NodeId, message: Outgoing) {
        match message {
            Outgoing::Request { to, request } => {
                self.next_id += 1;
                let id = RequestId(self.next_id);
                self.asked.insert(id, Sent::of(&request));
                self.queue.push_back((from, to, Message::Request { from, id, request }));
            }
            Outgoing::Response { to, id, response } => {
                let sent = self.asked.remove(&id).expect("an answer to a request in flight");
                let response = Some(response);
                self.queue.push_back((from, to, Message::Response { from, sent, response }));
            }
        }
    }

    /// Delivers every queued message (and those they cause) to connected
    /// nodes.
    fn deliver(&mut self) {
        self.collect();
        while let Some((from, to, message)) = self.queue.pop_front() {
            if self.isolated.contains(&from.0) || self.isolated.contains(&to.0) {
                self.fail(from, to, message);
            } else {
                self.nodes[to.0 as usize].step(message).unwrap();
            }
            self.collect();
        }
    }

    /// A lost message: its requester learns that the call failed.
    fn fail(&mut self, from: NodeId, to: NodeId, message: Message) {
        let (requester, peer, sent) = match message {
            Message::Request { id, .. } => (from, to, self.asked.remove(&id).unwrap()),
            Message::Response { sent, .. } => (to, from, sent),
        };
        let failure = Message::Response { from: peer, sent, response: None };
        self.nodes[requester.0 as usize].step(failure).unwrap();
    }

    /// The requests waiting in the queue from `node`.
    fn requests_from(&self, node: usize) -> usize {
        self.queue
            .iter()
            .filter(|(from, _, message)| {
                from.0 == node as u64 && matches!(message, Message::Request { .. })
            })
            .count()
    }

    fn tick(&mut self, times: u32) {
        for _ in 0..times {
            for node in &mut self.nodes {
                node.tick();
            }
            self.deliver();
        }
    }

    fn leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| {
                !self.isolated.contains(&(n as u64)) && self.nodes[n].status().role == Role::Leader
            })
            .collect()
    }

    fn elect(&mut self) -> usize {
        for _ in 0..200 {
            self.tick(1);
            if let [leader] = self.leaders()[..] {
                return leader;
            }
        }
        panic!("no leader elected");
    }

    fn commands(&self, node: usize) -> Vec<Vec<u8>> {
        self.applied[node]
            .iter()
            .filter_map(|item| match item {
                Applied::Command { data, .. } => Some(data.to_vec()),
                Applied::Snapshot { .. } | Applied::Noop { .. } => None,
            })
            .collect()
    }
}

#[test]
fn one_leader_is_elected_and_terms_agree() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    cluster.tick(50);
    assert_eq!(cluster.leaders(), vec![leader], "leadership must be stable without failures");
    let terms: BTreeSet<Term> = cluster.nodes.iter().map(|node| node.status().term).collect();
    assert_eq!(terms.len(), 1);
}

#[test]
fn a_proposal_commits_and_applies_everywhere_in_order() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    for n in 1..=5u8 {
        let (index, _) = cluster.nodes[leader].propose(vec![n]).unwrap();
        assert_eq!(index, Index(u64::from(n)), "no no-op entry: indices start at 1");
    }
    cluster.deliver();
    cluster.tick(20); // followers learn the commit index from heartbeats
    for node in 0..3 {
        assert_eq!(cluster.commands(node), (1..=5u8).map(|n| vec![n]).collect::<Vec<_>>());
    }
}

#[test]
fn followers_hear_of_a_commit_within_two_ticks_not_one_heartbeat() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    cluster.tick(cluster.nodes[leader].config.heartbeat_ticks); // settle after the election
    cluster.nodes[leader].propose(vec![7]).unwrap();
    cluster.deliver();
    assert_eq!(cluster.commands(leader), vec![vec![7]]);
    cluster.tick(2);
    for node in 0..3 {
        assert_eq!(cluster.commands(node), vec![vec![7]], "node {node} has not applied");
    }
    // Once everyone knows, a tick that is not a heartbeat sends nothing.
    let node = &mut cluster.nodes[leader];
    assert!(node.heartbeat_elapsed + 1 < node.config.heartbeat_ticks);
    node.tick();
    let ready = node.ready();
    assert!(
        ready.messages.is_empty() && ready.persisted_messages.is_empty(),
        "an idle leader sent more than heartbeats"
    );
}

#[test]
fn a_follower_rejects_proposals() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = (leader + 1) % 3;
    assert_eq!(
        cluster.nodes[follower].propose(vec![1]),
        Err(crate::ProposeError::NotLeader { leader_hint: Some(NodeId(leader as u64)) })
    );
}

#[test]
fn a_minority_leader_cannot_commit() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    for other in (0..3).filter(|&n| n != leader) {
        cluster.isolated.insert(other as u64);
    }
    cluster.nodes[leader].propose(vec![9]).unwrap();
    cluster.tick(20);
    assert!(cluster.commands(leader).is_empty());
}

#[test]
fn a_deposed_leader_log_is_repaired_by_the_new_leader() {
    let mut cluster = Cluster::new(5);
    let old = cluster.elect();
    cluster.nodes[old].propose(vec![1]).unwrap();
    cluster.tick(20);
    // Cut the leader off; it keeps accepting entries that can never commit.
    cluster.isolated.insert(old as u64);
    for n in 0..50u8 {
        cluster.nodes[old].propose(vec![100, n]).unwrap();
    }
    cluster.deliver();
    let new = cluster.elect();
    assert_ne!(new, old);
    for n in 0..30u8 {
        cluster.nodes[new].propose(vec![200, n]).unwrap();
    }
    cluster.tick(20);
    cluster.isolated.clear();
    cluster.tick(100);
    let expected = cluster.commands(new);
    assert_eq!(expected.len(), 31);
    for node in 0..5 {
        assert_eq!(cluster.commands(node), expected, "node {node} diverged");
    }
    assert_eq!(cluster.nodes[old].status().role, Role::Follower);
}

#[test]
fn a_vote_goes_only_to_an_up_to_date_log_and_once_per_term() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    cluster.nodes[leader].propose(vec![1]).unwrap();
    cluster.tick(20);
    let voter = (leader + 1) % 3;
    // Leader stickiness would refuse every candidate here; it has tests of
    // its own.
    cluster.nodes[voter].config.check_quorum = false;
    let term = cluster.nodes[voter].status().term.next();
    let stale = crate::VoteRequest {
        term,
        candidate: NodeId(99),
        last_log_index: Index(0),
        last_log_term: Term(0),
        transfer: false,
    };
    let response = cluster.nodes[voter].handle_vote_request(stale);
    assert!(!response.granted, "a candidate missing a committed entry must lose");
    let fresh = crate::VoteRequest {
        term,
        candidate: NodeId(98),
        last_log_index: Index(1),
        last_log_term: cluster.nodes[voter].log.last_term(),
        transfer: false,
    };
    assert!(cluster.nodes[voter].handle_vote_request(fresh.clone()).granted);
    let rival = crate::VoteRequest { candidate: NodeId(97), ..fresh };
    assert!(!cluster.nodes[voter].handle_vote_request(rival).granted, "one vote per term");
}

#[test]
fn a_lagging_follower_catches_up_through_a_snapshot() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let lagging = (leader + 1) % 3;
    cluster.isolated.insert(lagging as u64);
    for n in 1..=20u8 {
        cluster.nodes[leader].propose(vec![n]).unwrap();
    }
    cluster.tick(20);
    let applied = cluster.nodes[leader].status().applied_index;
    assert_eq!(applied, Index(20));
    cluster.nodes[leader].snapshot(Index(15), b"state through 15".to_vec()).unwrap();
    assert_eq!(cluster.nodes[leader].log.base_index(), Index(15));
    let ready = cluster.nodes[leader].ready();
    assert_eq!(ready.update.snapshot.as_ref().map(|s| s.index), Some(Index(15)));

    cluster.isolated.clear();
    cluster.tick(40);
    let received: Vec<&Applied> = cluster.applied[lagging].iter().collect();
    assert!(
        matches!(received.first(), Some(Applied::Snapshot { index: Index(15), .. })),
        "the lagging follower must first receive the snapshot, got {received:?}"
    );
    let tail: Vec<Index> = received[1..].iter().map(|item| item.index()).collect();
    assert_eq!(tail, (16..=20).map(Index).collect::<Vec<_>>());
}

#[test]
fn a_snapshot_past_what_was_handed_to_the_service_is_refused() {
    let mut cluster = Cluster::new(1);
    cluster.elect();
    let node = &mut cluster.nodes[0];
    let (index, term) = node.propose(vec![1]).unwrap();
    // A lone leader commits once its own disk holds the entry...
    let ready = node.ready();
    assert_eq!(node.status().commit_index, Index(0), "committed before it was durable");
    assert_eq!(ready.persisted(), Some((index, term)));
    node.on_persisted(index, term);
    // ...but it is not handed over yet.
    assert_eq!(node.status().commit_index, index);
    assert!(matches!(
        node.snapshot(index, Vec::new()),
        Err(crate::RaftError::SnapshotPastApplied { .. })
    ));
    let ready = node.ready();
    assert_eq!(ready.committed.len(), 1);
    assert!(node.snapshot(index, Vec::new()).is_ok());
}

#[test]
fn a_term_near_the_end_of_the_range_is_refused_not_adopted() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = (leader + 1) % 3;
    let term = cluster.nodes[follower].status().term;
    let hostile = Request::Vote(crate::VoteRequest {
        term: Term(u64::MAX),
        candidate: NodeId(7),
        last_log_index: Index(u64::MAX),
        last_log_term: Term(u64::MAX),
        transfer: false,
    });
    let response = cluster.nodes[follower].handle_request(NodeId(7), crate::RequestId(1), hostile);
    assert_eq!(response, Some(crate::Response::Vote(crate::VoteResponse { term, granted: false })));
    let answer = crate::Response::Append(crate::AppendResponse {
        term: Term(u64::MAX),
        success: false,
        match_index: Index(0),
        conflict_term: None,
        conflict_index: Index(0),
        read_round: 0,
    });
    let sent = Sent::Append { term, prev_log_index: Index(0), entries: 0 };
    cluster.nodes[leader].handle_response(NodeId(follower as u64), sent, answer);
    assert_eq!(cluster.nodes[leader].status().term, term);
    assert_eq!(cluster.nodes[leader].status().role, Role::Leader);
    // Campaigning from here on cannot overflow.
    cluster.tick(200);
}

#[test]
fn proposals_one_per_tick_stay_within_the_labs_rpc_budget() {
    // The lab's TestCount3B allows (10 + 1 + 3) * 3 = 42 RPCs for 12 entries
    // on 3 servers. Proposals spread one per tick are the worst case for the
    // commit news sent between heartbeats.
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let heartbeat = cluster.nodes[leader].config.heartbeat_ticks;
    cluster.tick(heartbeat);
    let mut sent = 0;
    for n in 0..12u8 {
        for node in &mut cluster.nodes {
            node.tick();
        }
        cluster.nodes[leader].propose(vec![n]).unwrap();
        cluster.collect();
        sent += cluster.requests_from(leader);
        cluster.deliver();
    }
    for _ in 0..3 {
        for node in &mut cluster.nodes {
            node.tick();
        }
        cluster.collect();
        sent += cluster.requests_from(leader);
        cluster.deliver();
    }
    for node in 0..3 {
        assert_eq!(cluster.commands(node).len(), 12, "node {node} has not applied all 12");
    }
    assert!(sent <= 42, "{sent} RPCs for 12 entries");
}

#[test]
fn a_restarted_node_hands_its_snapshot_to_the_service_first() {
    let state = PersistedState {
        hard_state: raft_persist::HardState { term: Term(3), voted_for: None },
        snapshot: Some(raft_persist::Snapshot {
            index: Index(9),
            term: Term(2),
            data: b"nine".to_vec(),
        }),
        entries: vec![raft_log::Entry::new(Index(10), Term(3), b"ten".to_vec())],
    };
    let mut raft = Raft::new(new_test_config(0, 3), state).unwrap();
    let ready = raft.ready();
    assert_eq!(
        ready.committed,
        vec![Applied::Snapshot { index: Index(9), term: Term(2), data: b"nine".to_vec() }]
    );
    assert_eq!(raft.status().last_index, Index(10));
}

#[test]
fn entries_that_do_not_follow_the_snapshot_are_an_error_not_a_panic() {
    let state = PersistedState {
        snapshot: Some(raft_persist::Snapshot { index: Index(9), term: Term(2), data: vec![] }),
        entries: vec![raft_log::Entry::new(Index(12), Term(3), vec![])],
        ..PersistedState::default()
    };
    assert!(Raft::new(new_test_config(0, 3), state).is_err());
}

mod extensions;
mod regressions;
mod safety;
