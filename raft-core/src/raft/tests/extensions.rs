//! Tests of the thesis' extensions in the deterministic core, driven by
//! ticks and messages only: PreVote, CheckQuorum and leader stickiness,
//! ReadIndex (leader, follower, lease), leadership transfer, and the
//! leader's no-op entry.

use raft_log::{Entry, EntryKind, Index, NodeId, Term};

use super::Cluster;
use crate::{
    Applied, Config, Message, ProposeError, ReadError, ReadId, ReadOutcome, Request, Role,
    TransferError, VoteRequest,
};

/// The default configuration's timing, which every test here keeps.
const ELECTION_MIN: u32 = crate::DEFAULT_ELECTION_TICKS_MIN;
const ELECTION_MAX: u32 = crate::DEFAULT_ELECTION_TICKS_MAX;

fn read_outcomes(cluster: &Cluster, node: usize) -> Vec<ReadOutcome> {
    cluster.reads[node].clone()
}

fn requests_in_queue(cluster: &Cluster, kind: fn(&Request) -> bool) -> usize {
    cluster
        .queue
        .iter()
        .filter(
            |(_, _, message)| matches!(message, Message::Request { request, .. } if kind(request)),
        )
        .count()
}

#[test]
fn pre_vote_a_partitioned_follower_rejoins_and_the_term_stays_where_it_was() {
    for pre_vote in [true, false] {
        let mut cluster = Cluster::with(3, |config| config.pre_vote = pre_vote);
        let leader = cluster.elect();
        let term = cluster.nodes[leader].term();
        let cut_off = (leader + 1) % 3;
        cluster.isolated.insert(cut_off as u64);
        cluster.tick(10 * ELECTION_MAX);
        let cut_off_term = cluster.nodes[cut_off].term();
        cluster.isolated.clear();
        cluster.tick(3 * ELECTION_MAX);
        if pre_vote {
            assert_eq!(cut_off_term, term, "a node that cannot win must not bump its term");
            assert!(cluster.nodes[cut_off].counters.pre_votes > 0, "it kept asking");
            assert_eq!(cluster.leaders(), vec![leader], "the healthy leader keeps the lead");
            assert_eq!(cluster.nodes[leader].term(), term);
        } else {
            // The control: without PreVote the same schedule disrupts.
            assert!(cut_off_term > term, "without PreVote the cut-off node bumps its term");
            assert!(cluster.nodes[leader].term() > term, "and deposes the leader on its return");
        }
    }
}

#[test]
fn a_pre_vote_changes_nothing_on_the_nodes_it_asks() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let voter = (leader + 1) % 3;
    let before = (cluster.nodes[voter].term(), cluster.nodes[voter].voted_for());
    let request = VoteRequest {
        term: Term(before.0.0 + 5),
        candidate: NodeId(((leader + 2) % 3) as u64),
        last_log_index: Index(100),
        last_log_term: Term(before.0.0 + 4),
        transfer: false,
    };
    // It heard from the leader just now: no pre-vote, whatever the log.
    assert!(!cluster.nodes[voter].handle_pre_vote_request(request.clone()).granted);
    // Once the leader is silent for an election timeout, it would vote...
    cluster.nodes[voter].election_elapsed = ELECTION_MIN;
    assert!(cluster.nodes[voter].handle_pre_vote_request(request).granted);
    // ...but a pre-vote moves neither its term nor its vote.
    assert_eq!((cluster.nodes[voter].term(), cluster.nodes[voter].voted_for()), before);
}

#[test]
fn check_quorum_a_leader_cut_off_in_a_minority_steps_down_within_an_election_timeout() {
    let mut cluster = Cluster::new(5);
    let old = cluster.elect();
    let term = cluster.nodes[old].term();
    // The leader and one follower on one side, three nodes on the other.
    let buddy = (old + 1) % 5;
    cluster.isolated.extend([old as u64, buddy as u64]);
    let mut stepped_down_after = None;
    for tick in 1..=ELECTION_MIN + 1 {
        cluster.tick(1);
        if cluster.nodes[old].role() != Role::Leader {
            stepped_down_after = Some(tick);
            break;
        }
    }
    let ticks = stepped_down_after.expect("the cut-off leader must step down");
    assert!(ticks <= ELECTION_MIN + 1, "stepped down after {ticks} ticks");
    assert_eq!(cluster.nodes[old].counters.quorum_losses, 1);
    assert_eq!(cluster.nodes[old].term(), term, "stepping down is no new term");
    let majority: Vec<usize> = (0..5).filter(|&n| n != old && n != buddy).collect();
    let mut new_leader = None;
    for _ in 0..10 * ELECTION_MAX {
        cluster.tick(1);
        new_leader = majority.iter().copied().find(|&n| cluster.nodes[n].role() == Role::Leader);
        if new_leader.is_some() {
            break;
        }
    }
    assert!(new_leader.is_some(), "the majority elects a new leader");
}

#[test]
fn check_quorum_a_leader_elected_just_before_a_partition_does_not_lead_on_in_the_minority() {
    // The lab's "election after network failure" failure: the new leader is
    // cut off from everyone right after its election.
    for check_quorum in [true, false] {
        let mut cluster = Cluster::with(3, |config| config.check_quorum = check_quorum);
        let first = cluster.elect();
        cluster.isolated.insert(first as u64);
        let second = cluster.elect();
        assert_ne!(first, second);
        // Right after its election, the new leader is alone.
        cluster.isolated = (0..3).collect();
        cluster.tick(2 * ELECTION_MAX);
        let claims = cluster.nodes[second].role() == Role::Leader;
        if check_quorum {
            assert!(!claims, "within two election timeouts, nobody in the minority leads");
        } else {
            assert!(claims, "the control: without CheckQuorum it leads on, alone");
        }
    }
}

#[test]
fn stickiness_a_follower_that_hears_its_leader_refuses_votes_unless_for_a_transfer() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let voter = (leader + 1) % 3;
    let term = cluster.nodes[voter].term();
    let request = VoteRequest {
        term: Term(term.0 + 1),
        candidate: NodeId(((leader + 2) % 3) as u64),
        last_log_index: Index(50),
        last_log_term: term,
        transfer: false,
    };
    let refused = cluster.nodes[voter].handle_vote_request(request.clone());
    assert!(!refused.granted);
    assert_eq!(cluster.nodes[voter].term(), term, "the refused request's term is not taken up");
    assert_eq!(cluster.nodes[voter].leader(), Some(NodeId(leader as u64)));
    let transfer = VoteRequest { transfer: true, ..request };
    assert!(cluster.nodes[voter].handle_vote_request(transfer).granted);
    assert_eq!(cluster.nodes[voter].term(), Term(term.0 + 1));
}

#[test]
fn read_index_a_leaders_reads_share_one_heartbeat_round_and_get_the_commit_index() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    cluster.nodes[leader].propose(vec![1]).unwrap();
    cluster.deliver();
    let commit = cluster.nodes[leader].commit_index();
    assert_eq!(commit, Index(1));
    cluster.nodes[leader].read_index(ReadId(1));
    cluster.nodes[leader].read_index(ReadId(2));
    cluster.collect();
    // One round: one heartbeat per follower, for both reads.
    assert_eq!(requests_in_queue(&cluster, |r| matches!(r, Request::Append(_))), 2);
    assert!(read_outcomes(&cluster, leader).is_empty(), "no answer before the round");
    cluster.deliver();
    let outcomes = read_outcomes(&cluster, leader);
    assert_eq!(
        outcomes,
        vec![
            ReadOutcome { id: ReadId(1), result: Ok(commit) },
            ReadOutcome { id: ReadId(2), result: Ok(commit) }
        ]
    );
}

#[test]
fn read_index_is_not_confirmed_without_a_majority_and_fails_when_the_lead_is_lost() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    cluster.nodes[leader].propose(vec![1]).unwrap();
    cluster.deliver();
    cluster.isolated.insert(leader as u64);
    cluster.nodes[leader].read_index(ReadId(7));
    cluster.tick(ELECTION_MIN - 1);
    assert!(read_outcomes(&cluster, leader).is_empty(), "confirmed without a majority");
    cluster.tick(2);
    assert_eq!(
        read_outcomes(&cluster, leader),
        vec![ReadOutcome { id: ReadId(7), result: Err(ReadError::LeadershipLost) }]
    );
}

#[test]
fn read_index_a_new_leader_serves_reads_only_once_an_entry_of_its_term_commits() {
    for noop in [false, true] {
        let mut cluster = Cluster::with(3, |config| config.noop_on_election = noop);
        let leader = cluster.elect();
        cluster.nodes[leader].read_index(ReadId(1));
        cluster.tick(3 * ELECTION_MAX);
        let outcomes = read_outcomes(&cluster, leader);
        if noop {
            // The no-op committed at once, at index 1.
            assert_eq!(outcomes, vec![ReadOutcome { id: ReadId(1), result: Ok(Index(1)) }]);
        } else {
            assert!(outcomes.is_empty(), "served before an entry of its term committed");
            cluster.nodes[leader].propose(vec![9]).unwrap();
            cluster.tick(1);
            let outcomes = read_outcomes(&cluster, leader);
            assert_eq!(outcomes, vec![ReadOutcome { id: ReadId(1), result: Ok(Index(1)) }]);
        }
    }
}

#[test]
fn read_index_a_followers_read_is_forwarded_to_the_leader_and_answered_with_its_index() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    for n in 1..=3u8 {
        cluster.nodes[leader].propose(vec![n]).unwrap();
    }
    cluster.deliver();
    let follower = (leader + 1) % 3;
    cluster.nodes[follower].read_index(ReadId(1));
    cluster.nodes[follower].read_index(ReadId(2));
    cluster.collect();
    assert_eq!(requests_in_queue(&cluster, |r| matches!(r, Request::ReadIndex(_))), 1);
    cluster.deliver();
    let index = cluster.nodes[leader].commit_index();
    assert_eq!(index, Index(3));
    assert_eq!(
        read_outcomes(&cluster, follower),
        vec![
            ReadOutcome { id: ReadId(1), result: Ok(index) },
            ReadOutcome { id: ReadId(2), result: Ok(index) }
        ]
    );
    // With no leader known, a read fails at once.
    let mut lonely = Cluster::new(3);
    lonely.nodes[0].read_index(ReadId(3));
    lonely.collect();
    assert_eq!(
        read_outcomes(&lonely, 0),
        vec![ReadOutcome {
            id: ReadId(3),
            result: Err(ReadError::NotLeader { leader_hint: None })
        }]
    );
}

#[test]
fn lease_reads_are_served_at_once_within_the_lease_and_by_a_round_after_it() {
    let mut cluster = Cluster::with(3, |config| config.lease_reads = true);
    let leader = cluster.elect();
    cluster.nodes[leader].propose(vec![1]).unwrap();
    // A heartbeat round confirms the lease.
    cluster.tick(crate::DEFAULT_HEARTBEAT_TICKS);
    cluster.nodes[leader].read_index(ReadId(1));
    assert_eq!(cluster.nodes[leader].read_outcomes.len(), 1, "served at once, with no round");
    // Cut off, the lease runs out and reads wait for a round again.
    cluster.isolated.insert(leader as u64);
    cluster.tick(ELECTION_MIN - 1);
    assert_eq!(cluster.nodes[leader].role(), Role::Leader, "CheckQuorum has not struck yet");
    cluster.nodes[leader].read_index(ReadId(2));
    cluster.collect();
    let served: Vec<ReadId> = read_outcomes(&cluster, leader).iter().map(|o| o.id).collect();
    assert_eq!(served, vec![ReadId(1)], "a read was served past the lease");
}

#[test]
fn lease_reads_without_check_quorum_are_a_contradiction() {
    let mut config = Config::new(NodeId(1), vec![NodeId(1), NodeId(2), NodeId(3)]);
    config.lease_reads = true;
    config.check_quorum = false;
    assert!(matches!(config.validate(), Err(crate::ConfigError::Contradiction(_))));
    config.check_quorum = true;
    assert_eq!(config.validate(), Ok(()));
    // A lease that runs out before the next heartbeat could renew it.
    config.heartbeat_ticks = config.election_ticks_min - 1;
    assert!(matches!(config.validate(), Err(crate::ConfigError::Contradiction(_))));
}

#[test]
fn transfer_the_target_takes_the_lead_at_once_and_proposals_wait_meanwhile() {
    let mut cluster = Cluster::new(3);
    let old = cluster.elect();
    let term = cluster.nodes[old].term();
    let target = (old + 1) % 3;
    let lagging = (old + 2) % 3;
    // The target lags: the leader must bring it up to date first.
    cluster.isolated.insert(target as u64);
    cluster.nodes[old].propose(vec![1]).unwrap();
    cluster.deliver();
    cluster.isolated.clear();
    assert_eq!(cluster.nodes[old].transfer_leadership(NodeId(target as u64)), Ok(()));
    assert_eq!(cluster.nodes[old].status().transfer, Some(NodeId(target as u64)));
    assert_eq!(
        cluster.nodes[old].propose(vec![2]),
        Err(ProposeError::Transferring { to: NodeId(target as u64) })
    );
    // The target is probed again at the next tick, then brought up to date.
    for _ in 0..3 {
        cluster.tick(1);
    }
    assert_eq!(cluster.nodes[target].role(), Role::Leader, "the target campaigned at once");
    assert_eq!(cluster.nodes[target].term(), term.next());
    assert_eq!(cluster.nodes[old].role(), Role::Follower);
    assert_eq!(cluster.nodes[lagging].leader(), Some(NodeId(target as u64)));
    assert_eq!(cluster.nodes[old].status().transfer, None);
    assert!(matches!(
        cluster.nodes[old].transfer_leadership(NodeId(lagging as u64)),
        Err(TransferError::NotLeader { .. })
    ));
}

#[test]
fn transfer_to_an_unreachable_target_ends_after_an_election_timeout() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let target = (leader + 1) % 3;
    cluster.isolated.insert(target as u64);
    cluster.nodes[leader].transfer_leadership(NodeId(target as u64)).unwrap();
    assert_eq!(
        cluster.nodes[leader].transfer_leadership(NodeId(99)),
        Err(TransferError::UnknownPeer(NodeId(99)))
    );
    cluster.tick(ELECTION_MIN - 1);
    assert!(cluster.nodes[leader].status().transfer.is_some());
    assert!(cluster.nodes[leader].propose(vec![1]).is_err());
    cluster.tick(1);
    assert_eq!(cluster.nodes[leader].status().transfer, None, "the transfer ended");
    assert_eq!(cluster.nodes[leader].role(), Role::Leader);
    assert!(cluster.nodes[leader].propose(vec![1]).is_ok(), "proposals are taken again");
}

#[test]
fn noop_a_new_leader_appends_one_and_the_apply_side_shows_it_in_index_order() {
    let mut cluster = Cluster::with(3, |config| config.noop_on_election = true);
    let leader = cluster.elect();
    let term = cluster.nodes[leader].term();
    assert_eq!(cluster.nodes[leader].log().entry(Index(1)).map(|e| e.kind), Some(EntryKind::Noop));
    let (index, _) = cluster.nodes[leader].propose(vec![7]).unwrap();
    assert_eq!(index, Index(2));
    cluster.tick(2 * crate::DEFAULT_HEARTBEAT_TICKS);
    for node in 0..3 {
        let applied = &cluster.applied[node];
        assert!(
            matches!(
                applied[..],
                [Applied::Noop { index: Index(1), term: t }, Applied::Command { index: Index(2), .. }]
                    if t == term
            ),
            "node {node} applied {applied:?}"
        );
    }
}

#[test]
fn a_configuration_entry_is_refused_until_membership_changes_exist() {
    let mut cluster = Cluster::new(3);
    let leader = cluster.elect();
    let follower = (leader + 1) % 3;
    let term = cluster.nodes[leader].term();
    let mut entry = Entry::new(Index(1), term, Vec::new());
    entry.kind = EntryKind::Configuration;
    let request = crate::AppendRequest {
        term,
        leader: NodeId(leader as u64),
        prev_log_index: Index(0),
        prev_log_term: Term(0),
        entries: vec![entry],
        leader_commit: Index(0),
        read_round: 0,
    };
    let response = cluster.nodes[follower].handle_append_request(request);
    assert!(!response.success);
    assert_eq!(cluster.nodes[follower].log().last_index(), Index(0), "nothing was appended");
}
