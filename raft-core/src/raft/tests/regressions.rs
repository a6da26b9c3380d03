//! Regression tests of the core, one per bug or limit found: the L1-a
//! snapshot wait, the batch and uncommitted bounds, AppendEntries and
//! InstallSnapshot at the core's edge, and the probe state's cost.

use raft_log::{Entry, Index, NodeId, Term};
use raft_persist::{HardState, MemPersister, PersistedState, Persister, Update};

use super::{Cluster, new_test_config};
use crate::raft::{ENTRY_OVERHEAD_BYTES, Raft, charged_bytes};
use crate::{
    AppendRequest, Applied, Config, Message, Outgoing, ProgressState, ProposeError, Ready, Request,
    RequestId, Response, Role, SnapshotRequest,
};

/// A request taken off the cluster's queue: who sent it to whom.
#[derive(Clone, Debug)]
struct Carried {
    from: NodeId,
    to: NodeId,
    request: Request,
}

/// A message on the cluster's queue, or taken off it: from, to, message.
type Queued = (NodeId, NodeId, Message);

/// A cluster like [`Cluster::new`]'s, with every node's configuration changed
/// by `adjust`.
fn cluster_with(size: u64, adjust: impl Fn(&mut Config)) -> Cluster {
    Cluster::with(size, adjust)
}

/// Delivers what is queued, and what that causes, as [`Cluster::deliver`]
/// does, but takes every InstallSnapshot request off the wire into `held`.
/// Returns the requests taken off the queue, delivered or failed.
fn deliver_withholding_snapshots(cluster: &mut Cluster, held: &mut Vec<Queued>) -> Vec<Carried> {
    deliver_recording(cluster, Some(held))
}

/// Delivers as [`Cluster::deliver`] does, and returns the requests taken off
/// the queue.
fn deliver_and_record(cluster: &mut Cluster) -> Vec<Carried> {
    deliver_recording(cluster, None)
}

fn deliver_recording(cluster: &mut Cluster, mut held: Option<&mut Vec<Queued>>) -> Vec<Carried> {
    let mut carried = Vec::new();
    cluster.collect();
    while let Some((from, to, message)) = cluster.queue.pop_front() {
        if let Message::Request { request, .. } = &message {
            if let (Some(held), Request::Snapshot(_)) = (held.as_deref_mut(), request) {
                held.push((from, to, message));
                continue;
            }
            carried.push(Carried { from, to, request: request.clone() });
        }
        if cluster.isolated.contains(&from.0) || cluster.isolated.contains(&to.0) {
            cluster.fail(from, to, message);
        } else {
            cluster.nodes[to.0 as usize].step(message).unwrap();
        }
        cluster.collect();
    }
    carried
}

/// Ticks every node once, then delivers as [`deliver_withholding_snapshots`].
fn tick_withholding_snapshots(cluster: &mut Cluster, held: &mut Vec<Queued>) -> Vec<Carried> {
    for node in &mut cluster.nodes {
        node.tick();
    }
    deliver_withholding_snapshots(cluster, held)
}

fn id(node: usize) -> NodeId {
    NodeId(node as u64)
}

/// The leader's view of `follower`'s replication state.
fn progress_of(leader: &Raft, follower: usize) -> ProgressState {
    let status = leader.status();
    status.progress.iter().find(|progress| progress.id == id(follower)).unwrap().state
}

/// Leaves `lagging` behind the leader's compacted log: cut off while twenty
/// entries commit, the leader snapshots through 15, the cut heals. Ticks until
/// the leader sends `lagging` its InstallSnapshot, and returns it, held.
/// `lagging`'s election timer runs only from the heal.
fn a_follower_awaiting_a_snapshot(cluster: &mut Cluster, leader: usize, lagging: usize) -> Queued {
    cluster.isolated.insert(lagging as u64);
    for n in 1..=20u8 {
        cluster.nodes[leader].propose(vec![n]).unwrap();
    }
    cluster.deliver();
    assert_eq!(cluster.nodes[leader].status().applied_index, Index(20));
    cluster.nodes[leader].snapshot(Index(15), b"state through 15".to_vec()).unwrap();
    cluster.isolated.clear();

    let heartbeat = cluster.nodes[leader].config().heartbeat_ticks;
    let mut held = Vec::new();
    for _ in 0..2 * heartbeat {
        tick_withholding_snapshots(cluster, &mut held);
        if !held.is_empty() {
            break;
        }
    }
    assert_eq!(held.len(), 1, "one InstallSnapshot within two heartbeats of healing");
    let snapshot = held.remove(0);
    assert!(matches!(
        &snapshot,
        (from, to, Message::Request { request: Request::Snapshot(request), .. })
            if *from == id(leader) && *to == id(lagging)
                && request.last_included_index == Index(15)
    ));
    assert_eq!(progress_of(&cluster.nodes[leader], lagging), ProgressState::Snapshot);
    snapshot
}

/// Whether `lagging` has applied the snapshot through 15, then 16 to 20.
fn caught_up_through_the_snapshot(cluster: &Cluster, lagging: usize) -> bool {
    let applied: Vec<Index> = cluster.applied[lagging].iter().map(Applied::index).collect();
    matches!(cluster.applied[lagging].first(), Some(Applied::Snapshot { index: Index(15), .. }))
        && applied == (15..=20).map(Index).collect::<Vec<_>>()
}

#[test]
fn l1a_heartbeats_reach_a_follower_awaiting_a_snapshot() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let lagging = (leader + 1) % 3;
    let snapshot = a_follower_awaiting_a_snapshot(&mut cluster, leader, lagging);

    let config = cluster.nodes[leader].config().clone();
    let (term, elections) =
        (cluster.nodes[lagging].term(), cluster.nodes[lagging].status().counters.elections);
    let mut held = Vec::new();
    let mut ticks_since_heard = 0;
    // The snapshot stays on the wire for three election timeouts.
    for tick in 1..=3 * config.election_ticks_max {
        let carried = tick_withholding_snapshots(&mut cluster, &mut held);
        let heard = carried.iter().any(|carried| {
            carried.from == id(leader)
                && carried.to == id(lagging)
                && matches!(carried.request, Request::Append(_))
        });
        ticks_since_heard = if heard { 0 } else { ticks_since_heard + 1 };
        assert!(
            ticks_since_heard < config.heartbeat_ticks,
            "tick {tick}: no AppendEntries for {ticks_since_heard} ticks"
        );
        let follower = cluster.nodes[lagging].status();
        assert_eq!((follower.term, follower.role), (term, Role::Follower), "tick {tick}");
        assert_eq!(follower.counters.elections, elections, "tick {tick}: it campaigned");
        assert_eq!(cluster.leaders(), vec![leader], "tick {tick}: the leader lost the lead");
        assert_eq!(cluster.nodes[leader].term(), term, "tick {tick}");
        assert!(held.is_empty(), "tick {tick}: a second snapshot while the first is out");
    }
    assert_eq!(progress_of(&cluster.nodes[leader], lagging), ProgressState::Snapshot);

    let (_, to, message) = snapshot;
    cluster.nodes[to.0 as usize].step(message).unwrap();
    cluster.tick(2);
    assert!(
        caught_up_through_the_snapshot(&cluster, lagging),
        "the follower applied {:?}",
        cluster.applied[lagging]
    );
    assert_eq!(progress_of(&cluster.nodes[leader], lagging), ProgressState::Replicate);
}

#[test]
fn l1a_a_failed_snapshot_leaves_the_snapshot_state_and_goes_out_again() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let lagging = (leader + 1) % 3;
    let (from, to, message) = a_follower_awaiting_a_snapshot(&mut cluster, leader, lagging);

    cluster.fail(from, to, message);
    assert_eq!(progress_of(&cluster.nodes[leader], lagging), ProgressState::Probe);

    let heartbeat = cluster.nodes[leader].config().heartbeat_ticks;
    let mut held = Vec::new();
    for _ in 0..heartbeat {
        tick_withholding_snapshots(&mut cluster, &mut held);
        if !held.is_empty() {
            break;
        }
    }
    assert_eq!(held.len(), 1, "the snapshot goes out again within a heartbeat");
    assert_eq!(progress_of(&cluster.nodes[leader], lagging), ProgressState::Snapshot);
    let (_, to, message) = held.remove(0);
    cluster.nodes[to.0 as usize].step(message).unwrap();
    cluster.tick(2);
    assert!(caught_up_through_the_snapshot(&cluster, lagging));
}

#[test]
fn a_batch_never_exceeds_max_bytes_per_append_but_always_carries_one_entry() {
    const LIMIT: u64 = 200;
    let mut cluster = cluster_with(3, |config| config.max_bytes_per_append = LIMIT);
    let leader = cluster.elect();
    let fits_alone = (LIMIT - ENTRY_OVERHEAD_BYTES) as usize;

    assert_eq!(
        cluster.nodes[leader].propose(vec![0; fits_alone + 1]),
        Err(ProposeError::TooLarge { size: LIMIT + 1, limit: LIMIT })
    );
    // 50 bytes each as charged: four to a batch.
    for n in 0..30u8 {
        cluster.nodes[leader].propose(vec![n; 26]).unwrap();
    }
    let (alone, _) = cluster.nodes[leader].propose(vec![0xAA; fits_alone]).unwrap();
    for n in 0..5u8 {
        cluster.nodes[leader].propose(vec![n; 26]).unwrap();
    }
    let last = cluster.nodes[leader].log().last_index();

    let mut carried = deliver_and_record(&mut cluster);
    for _ in 0..4 {
        for node in &mut cluster.nodes {
            node.tick();
        }
        carried.extend(deliver_and_record(&mut cluster));
    }
    let batches: Vec<&AppendRequest> = carried
        .iter()
        .filter(|carried| carried.from == id(leader))
        .filter_map(|carried| match &carried.request {
            Request::Append(request) if !request.entries.is_empty() => Some(request),
            _ => None,
        })
        .collect();
    for batch in &batches {
        let bytes: u64 = batch.entries.iter().map(|entry| charged_bytes(&entry.data)).sum();
        assert!(bytes <= LIMIT, "a batch of {bytes} bytes: {:?}", batch.entries.len());
    }
    let carrying_alone: Vec<&&AppendRequest> =
        batches.iter().filter(|batch| batch.entries.iter().any(|e| e.index == alone)).collect();
    assert!(!carrying_alone.is_empty(), "the entry at the bound was never sent");
    assert!(carrying_alone.iter().all(|batch| batch.entries.len() == 1));
    assert!(batches.iter().any(|batch| batch.entries.len() == 4), "batches are not filled");
    for node in 0..3 {
        assert_eq!(cluster.nodes[node].commit_index(), last, "node {node}");
    }
}

#[test]
fn proposals_between_two_readies_go_out_in_one_append_per_follower() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let heartbeat = cluster.nodes[leader].config().heartbeat_ticks;
    cluster.tick(heartbeat);
    let followers: Vec<usize> = (0..3).filter(|&node| node != leader).collect();
    for &follower in &followers {
        assert_eq!(progress_of(&cluster.nodes[leader], follower), ProgressState::Replicate);
    }

    for n in 0..100u8 {
        cluster.nodes[leader].propose(vec![n]).unwrap();
    }
    let ready = cluster.nodes[leader].ready();
    let appends: Vec<(NodeId, &AppendRequest)> = ready
        .messages
        .iter()
        .chain(&ready.persisted_messages)
        .filter_map(|message| match message {
            Outgoing::Request { to, request: Request::Append(request) } => Some((*to, request)),
            _ => None,
        })
        .collect();
    let mut to: Vec<NodeId> = appends.iter().map(|(to, _)| *to).collect();
    to.sort();
    assert_eq!(to, followers.iter().map(|&node| id(node)).collect::<Vec<_>>());
    for (to, append) in &appends {
        let indices: Vec<Index> = append.entries.iter().map(|entry| entry.index).collect();
        assert_eq!(indices, (1..=100).map(Index).collect::<Vec<_>>(), "to {to}");
    }

    // Carry the Ready out, and the hundred commit everywhere.
    if let Some((index, term)) = ready.persisted() {
        cluster.nodes[leader].on_persisted(index, term);
    }
    cluster.applied[leader].extend(ready.committed);
    for message in ready.messages.into_iter().chain(ready.persisted_messages) {
        cluster.post(id(leader), message);
    }
    cluster.deliver();
    cluster.tick(2);
    for node in 0..3 {
        assert_eq!(cluster.commands(node).len(), 100, "node {node}");
    }
}

#[test]
fn uncommitted_entries_past_the_bound_make_propose_busy() {
    let mut cluster = cluster_with(3, |config| config.max_uncommitted_entries = 5);
    let leader = cluster.elect();
    for follower in (0..3).filter(|&node| node != leader) {
        cluster.isolated.insert(follower as u64);
    }
    for n in 0..5u8 {
        cluster.nodes[leader].propose(vec![n]).unwrap();
    }
    assert_eq!(cluster.nodes[leader].propose(vec![5]), Err(ProposeError::Busy));
    assert!(cluster.nodes[leader].is_busy(0));
    cluster.deliver();
    assert_eq!(cluster.nodes[leader].propose(vec![5]), Err(ProposeError::Busy));

    cluster.isolated.clear();
    let heartbeat = cluster.nodes[leader].config().heartbeat_ticks;
    cluster.tick(heartbeat + 2);
    assert_eq!(cluster.leaders(), vec![leader]);
    assert_eq!(cluster.nodes[leader].commit_index(), Index(5));
    assert!(!cluster.nodes[leader].is_busy(0));
    assert_eq!(cluster.nodes[leader].propose(vec![5]).map(|(index, _)| index), Ok(Index(6)));
}

/// An AppendEntries from node 0, the leader of term 3.
fn append(prev: (u64, u64), entries: &[(u64, u64)], leader_commit: u64) -> Request {
    Request::Append(AppendRequest {
        term: Term(3),
        leader: NodeId(0),
        prev_log_index: Index(prev.0),
        prev_log_term: Term(prev.1),
        entries: entries
            .iter()
            .map(|&(index, term)| Entry::new(Index(index), Term(term), vec![index as u8]))
            .collect(),
        leader_commit: Index(leader_commit),
        read_round: 0,
    })
}

/// Steps a request from node 0 into `raft` and takes the Ready it leaves.
fn step_from_the_leader(raft: &mut Raft, request: Request) -> Ready {
    raft.step(Message::Request { from: NodeId(0), id: RequestId(1), request }).unwrap();
    raft.ready()
}

/// The answer to an AppendEntries in `ready`, if it accepted the request.
fn accepted(ready: &Ready) -> bool {
    match &ready.persisted_messages[..] {
        [Outgoing::Response { response: Response::Append(response), .. }] => response.success,
        other => panic!("expected one AppendEntries answer, got {other:?}"),
    }
}

/// Node 1 of 3 in term 3, whose log (1, 1), (2, 1), (3, 2) the leader, node
/// 0, has told it is committed.
fn a_follower_with_three_committed_entries() -> Raft {
    let entries = [(1, 1), (2, 1), (3, 2)]
        .map(|(index, term)| Entry::new(Index(index), Term(term), vec![index as u8]));
    let state = PersistedState {
        hard_state: HardState { term: Term(3), voted_for: None },
        snapshot: None,
        entries: entries.to_vec(),
    };
    let mut raft = Raft::new(new_test_config(1, 3), state).unwrap();
    let ready = step_from_the_leader(&mut raft, append((3, 2), &[], 3));
    assert!(accepted(&ready));
    assert_eq!(raft.commit_index(), Index(3));
    raft
}

#[test]
fn a_malformed_append_is_refused_whole_leaving_the_log_and_the_update_untouched() {
    let malformed = [
        ("a gap", append((3, 2), &[(4, 3), (6, 3)], 3)),
        ("a decreasing term", append((3, 2), &[(4, 3), (5, 2)], 3)),
        ("a term above the request's", append((3, 2), &[(4, 4)], 3)),
        ("a prev_log_term above the request's", append((3, 4), &[], 3)),
        ("a conflict with a committed entry", append((1, 1), &[(2, 3)], 3)),
    ];
    for (what, request) in malformed {
        let mut raft = a_follower_with_three_committed_entries();
        let before = raft.log().clone();
        let ready = step_from_the_leader(&mut raft, request);
        assert!(!accepted(&ready), "{what} was accepted");
        assert_eq!(raft.log(), &before, "{what} changed the log");
        assert_eq!(ready.update, Update::default(), "{what} left an update");
        assert_eq!(raft.commit_index(), Index(3), "{what} moved the commit index");
    }

    // The same follower takes a well-formed batch.
    let mut raft = a_follower_with_three_committed_entries();
    let ready = step_from_the_leader(&mut raft, append((3, 2), &[(4, 3), (5, 3)], 3));
    assert!(accepted(&ready));
    assert_eq!(raft.log().last_index(), Index(5));
    assert_eq!(ready.update.append.len(), 2);
}

/// Node 1 of 3 in term 3, whose disk holds the log `entries` (index, term),
/// none known committed.
fn a_follower_on_disk(entries: &[(u64, u64)]) -> (Raft, MemPersister) {
    let persister = MemPersister::new();
    let append = entries
        .iter()
        .map(|&(index, term)| Entry::new(Index(index), Term(term), vec![index as u8]))
        .collect();
    let hard_state = Some(HardState { term: Term(3), voted_for: None });
    persister.save(&Update { hard_state, append, ..Update::default() }).unwrap();
    let raft = Raft::new(new_test_config(1, 3), persister.load().unwrap()).unwrap();
    (raft, persister)
}

/// An InstallSnapshot from node 0, the leader of `term`, through `index` of
/// term `index_term`.
fn install_snapshot(term: u64, index: u64, index_term: u64) -> Request {
    Request::Snapshot(SnapshotRequest {
        term: Term(term),
        leader: NodeId(0),
        last_included_index: Index(index),
        last_included_term: Term(index_term),
        data: b"snapshot".to_vec(),
    })
}

/// Saves `ready`'s update and checks that the disk now holds what memory does.
fn save_and_compare(raft: &Raft, persister: &MemPersister, ready: &Ready) {
    persister.save(&ready.update).unwrap();
    let state = persister.load().unwrap();
    let log = raft.log();
    let snapshot = state.snapshot.as_ref().map(|snapshot| (snapshot.index, snapshot.term));
    assert_eq!(snapshot, Some((log.base_index(), log.base_term())), "the snapshot point");
    assert_eq!(state.entries, log.entries_from(log.first_index()).unwrap(), "the tail");
    assert!(
        ready.committed.iter().any(
            |item| matches!(item, Applied::Snapshot { index, .. } if *index == log.base_index())
        ),
        "the service is handed the snapshot"
    );
}

#[test]
fn install_snapshot_keeps_an_agreeing_tail_in_memory_and_on_disk() {
    let (mut raft, persister) =
        a_follower_on_disk(&[(1, 1), (2, 1), (3, 2), (4, 2), (5, 2), (6, 2)]);
    let ready = step_from_the_leader(&mut raft, install_snapshot(3, 4, 2));
    assert_eq!((raft.log().base_index(), raft.log().last_index()), (Index(4), Index(6)));
    assert!(
        ready.update.truncate_from.is_none_or(|from| from > Index(6)),
        "the update drops the kept tail: {:?}",
        ready.update.truncate_from
    );
    save_and_compare(&raft, &persister, &ready);

    // Unsaved entries taken in the same batch as the snapshot are kept too.
    let (mut raft, persister) = a_follower_on_disk(&[(1, 1), (2, 1), (3, 2), (4, 2)]);
    raft.step(Message::Request {
        from: NodeId(0),
        id: RequestId(1),
        request: append((4, 2), &[(5, 2), (6, 3)], 0),
    })
    .unwrap();
    let ready = step_from_the_leader(&mut raft, install_snapshot(3, 5, 2));
    assert_eq!((raft.log().base_index(), raft.log().last_index()), (Index(5), Index(6)));
    assert_eq!(ready.update.truncate_from, None);
    save_and_compare(&raft, &persister, &ready);
}

#[test]
fn install_snapshot_drops_a_conflicting_tail_in_memory_and_on_disk() {
    let (mut raft, persister) =
        a_follower_on_disk(&[(1, 1), (2, 1), (3, 2), (4, 2), (5, 2), (6, 2)]);
    let ready = step_from_the_leader(&mut raft, install_snapshot(4, 4, 3));
    assert_eq!((raft.log().base_index(), raft.log().last_index()), (Index(4), Index(4)));
    assert_eq!(raft.log().base_term(), Term(3));
    assert!(ready.update.truncate_from.is_some_and(|from| from <= Index(5)));
    save_and_compare(&raft, &persister, &ready);

    // Unsaved entries taken in the same batch go as well.
    let (mut raft, persister) = a_follower_on_disk(&[(1, 1), (2, 1), (3, 2), (4, 2)]);
    raft.step(Message::Request {
        from: NodeId(0),
        id: RequestId(1),
        request: append((4, 2), &[(5, 2), (6, 2)], 0),
    })
    .unwrap();
    let ready = step_from_the_leader(&mut raft, install_snapshot(4, 5, 4));
    assert_eq!((raft.log().base_index(), raft.log().last_index()), (Index(5), Index(5)));
    save_and_compare(&raft, &persister, &ready);

    // A snapshot past the end of the log.
    let (mut raft, persister) = a_follower_on_disk(&[(1, 1), (2, 1)]);
    let ready = step_from_the_leader(&mut raft, install_snapshot(4, 8, 4));
    assert_eq!((raft.log().base_index(), raft.log().last_index()), (Index(8), Index(8)));
    save_and_compare(&raft, &persister, &ready);
}

/// Takes the first queued message that `matches` off the cluster's queue.
fn take_queued(cluster: &mut Cluster, matches: impl Fn(&Queued) -> bool) -> Queued {
    let position = cluster.queue.iter().position(matches).expect("a queued message that matches");
    cluster.queue.remove(position).unwrap()
}

fn is_append_to(follower: usize) -> impl Fn(&Queued) -> bool {
    move |(_, to, message)| {
        *to == id(follower)
            && matches!(message, Message::Request { request: Request::Append(request), .. }
                if !request.entries.is_empty())
    }
}

#[test]
fn a_failed_append_moves_a_follower_to_probe() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = (leader + 1) % 3;
    let heartbeat = cluster.nodes[leader].config().heartbeat_ticks;
    cluster.tick(heartbeat);
    assert_eq!(progress_of(&cluster.nodes[leader], follower), ProgressState::Replicate);

    cluster.nodes[leader].propose(vec![1]).unwrap();
    cluster.collect();
    let (from, to, message) = take_queued(&mut cluster, is_append_to(follower));
    cluster.fail(from, to, message);
    assert_eq!(progress_of(&cluster.nodes[leader], follower), ProgressState::Probe);

    // The next heartbeat's probe finds the follower and replication resumes.
    cluster.deliver();
    cluster.tick(heartbeat);
    assert_eq!(progress_of(&cluster.nodes[leader], follower), ProgressState::Replicate);
    assert_eq!(cluster.commands(follower), vec![vec![1]]);
}

#[test]
fn a_rejected_append_moves_a_follower_to_probe() {
    // One 40-byte command per batch.
    let mut cluster = cluster_with(3, |config| config.max_bytes_per_append = 64);
    let leader = cluster.elect();
    let follower = (leader + 1) % 3;
    let heartbeat = cluster.nodes[leader].config().heartbeat_ticks;
    cluster.tick(heartbeat);
    assert_eq!(progress_of(&cluster.nodes[leader], follower), ProgressState::Replicate);

    cluster.nodes[leader].propose(vec![1; 40]).unwrap();
    cluster.nodes[leader].propose(vec![2; 40]).unwrap();
    cluster.collect();
    // The second batch overtakes the first: the follower lacks entry 1.
    let first = take_queued(&mut cluster, is_append_to(follower));
    let (_, to, second) = take_queued(&mut cluster, is_append_to(follower));
    cluster.nodes[to.0 as usize].step(second).unwrap();
    cluster.collect();
    let (_, _, rejection) = take_queued(&mut cluster, |(from, _, message)| {
        *from == id(follower)
            && matches!(message, Message::Response { response: Some(Response::Append(response)), .. }
                if !response.success)
    });
    let rejections = cluster.nodes[leader].status().counters.rejections;
    cluster.nodes[leader].step(rejection).unwrap();
    assert_eq!(cluster.nodes[leader].status().counters.rejections, rejections + 1);
    assert_eq!(progress_of(&cluster.nodes[leader], follower), ProgressState::Probe);

    cluster.queue.push_front(first);
    cluster.deliver();
    cluster.tick(heartbeat);
    assert_eq!(progress_of(&cluster.nodes[leader], follower), ProgressState::Replicate);
    assert_eq!(cluster.commands(follower), vec![vec![1; 40], vec![2; 40]]);
}

#[test]
fn a_follower_in_probe_costs_one_message_per_heartbeat_while_unreachable() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let unreachable = (leader + 1) % 3;
    let heartbeat = cluster.nodes[leader].config().heartbeat_ticks;
    cluster.tick(heartbeat);
    cluster.isolated.insert(unreachable as u64);

    // A first heartbeat interval for the leader to find out.
    let mut sent = Vec::new();
    for tick in 0..6 * heartbeat {
        for node in &mut cluster.nodes {
            node.tick();
        }
        if tick % 3 == 0 {
            // Proposals while it is unreachable cost it nothing either.
            cluster.nodes[leader].propose(vec![tick as u8]).unwrap();
        }
        let carried = deliver_and_record(&mut cluster);
        sent.push(
            carried.iter().filter(|c| c.from == id(leader) && c.to == id(unreachable)).count(),
        );
    }
    assert_eq!(progress_of(&cluster.nodes[leader], unreachable), ProgressState::Probe);
    cluster.tick(3);
    for (interval, ticks) in sent.chunks(heartbeat as usize).enumerate().skip(1) {
        assert_eq!(ticks.iter().sum::<usize>(), 1, "heartbeat interval {interval}: {ticks:?}");
    }
    // The other follower kept up all along.
    let other = 3 - leader - unreachable;
    assert_eq!(cluster.commands(other).len(), 20);
}

/// Found by the simulator: a leader whose log held `max_uncommitted_entries`
/// entries of earlier terms past its commit index (after a restart of the
/// whole cluster, the commit index starts again from the snapshot's) refused
/// every proposal as busy, and so never appended the entry of its own term
/// that would commit them (Raft §5.4.2): nothing committed again.
#[test]
fn a_leader_with_a_full_backlog_of_earlier_terms_still_commits() {
    const BOUND: u64 = 5;
    let backlog: Vec<Entry> =
        (1..=BOUND).map(|index| Entry::new(Index(index), Term(1), vec![index as u8])).collect();
    let mut cluster = Cluster::new(3);
    cluster.nodes = (0..3)
        .map(|id| {
            let mut config = new_test_config(id, 3);
            config.max_uncommitted_entries = BOUND;
            let state = PersistedState {
                hard_state: HardState { term: Term(1), voted_for: None },
                snapshot: None,
                entries: backlog.clone(),
            };
            Raft::new(config, state).unwrap()
        })
        .collect();
    let leader = cluster.elect();
    assert_eq!(cluster.nodes[leader].commit_index(), Index(0), "nothing is known committed yet");
    let (index, _) = cluster.nodes[leader]
        .propose(vec![6])
        .expect("the leader's first entry of its term is not refused as busy");
    assert_eq!(index, Index(BOUND + 1));
    cluster.tick(20);
    for node in 0..3 {
        assert_eq!(cluster.commands(node).len() as u64, BOUND + 1, "node {node} is stuck");
    }
}
