//! Lab 3A: leader election (the lab's `TestInitialElection3A`,
//! `TestReElection3A`, `TestManyElections3A`).

use std::thread;
use std::time::Duration;

use raft_testkit::{RAFT_ELECTION_TIMEOUT, Term, Tester};

#[test]
fn initial_election_3a() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3A): initial election");

    // is a leader elected?
    t.check_one_leader();

    // sleep a bit to avoid racing with followers learning of the
    // election, then check that all peers agree on the term.
    thread::sleep(Duration::from_millis(50));
    let term1 = t.check_terms();
    if term1 < Some(Term(1)) {
        let shown = term1.map_or(-1, |term| term.0 as i64);
        t.fatal(format!("term is {shown}, but should be at least 1"));
    }

    // does the leader+term stay the same if there is no network failure?
    thread::sleep(2 * RAFT_ELECTION_TIMEOUT);
    let term2 = t.check_terms();
    if term1 != term2 {
        println!("warning: term changed even though there were no failures");
    }

    // there should still be a leader.
    t.check_one_leader();

    t.end();
}

#[test]
fn re_election_3a() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3A): election after network failure");

    let leader1 = t.check_one_leader();

    // if the leader disconnects, a new one should be elected.
    t.disconnect(leader1);
    t.check_one_leader();

    // if the old leader rejoins, that shouldn't
    // disturb the new leader. and the old leader
    // should switch to follower.
    t.connect(leader1);
    let leader2 = t.check_one_leader();

    // if there's no quorum, no new leader should
    // be elected.
    t.disconnect(leader2);
    t.disconnect((leader2 + 1) % servers);
    thread::sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that the one connected server
    // does not think it is the leader.
    t.check_no_leader();

    // if a quorum arises, it should elect a leader.
    t.connect((leader2 + 1) % servers);
    t.check_one_leader();

    // re-join of last node shouldn't prevent leader from existing.
    t.connect(leader2);
    t.check_one_leader();

    t.end();
}

#[test]
fn many_elections_3a() {
    let servers = 7;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3A): multiple elections");

    t.check_one_leader();

    let iters = 10;
    for _ in 1..iters {
        // disconnect three nodes
        let i1 = t.random_int() as usize % servers;
        let i2 = t.random_int() as usize % servers;
        let i3 = t.random_int() as usize % servers;
        t.disconnect(i1);
        t.disconnect(i2);
        t.disconnect(i3);

        // either the current leader should still be alive,
        // or the remaining four should elect a new one.
        t.check_one_leader();

        t.connect(i1);
        t.connect(i2);
        t.connect(i3);
    }

    t.check_one_leader();

    t.end();
}
