//! Lab 3B: log replication (the lab's `TestBasicAgree3B` through
//! `TestCount3B`).

use std::thread;
use std::time::Duration;

use raft_testkit::{Command, Index, RAFT_ELECTION_TIMEOUT, Tester};

#[test]
fn basic_agree_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): basic agreement");

    let iters = 3;
    for index in 1..=iters {
        let (nd, _) = t.n_committed(Index(index));
        if nd > 0 {
            t.fatal("some have committed before Start()");
        }

        let xindex = t.one(index as i64 * 100, servers, false);
        if xindex != Index(index) {
            t.fatal(format!("got index {xindex} but expected {index}"));
        }
    }

    t.end();
}

/// Check, based on counting bytes of RPCs, that each command is sent to each
/// peer just once.
#[test]
fn rpc_bytes_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): RPC byte count");

    t.one(99, servers, false);
    let bytes0 = t.bytes_total();

    let iters = 10;
    let mut sent = 0;
    for index in 2..iters + 2 {
        let cmd = t.random_string(5000);
        let length = cmd.len() as u64;
        let xindex = t.one(cmd, servers, false);
        if xindex != Index(index) {
            t.fatal(format!("got index {xindex} but expected {index}"));
        }
        sent += length;
    }

    let bytes1 = t.bytes_total();
    let got = bytes1 - bytes0;
    let expected = servers as u64 * sent;
    if got > expected + 50_000 {
        t.fatal(format!("too many RPC bytes; got {got}, expected {expected}"));
    }

    t.end();
}

/// Test just failure of followers.
#[test]
fn follower_failure_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): test progressive failure of followers");

    t.one(101, servers, false);

    // disconnect one follower from the network.
    let leader1 = t.check_one_leader();
    t.disconnect((leader1 + 1) % servers);

    // the leader and remaining follower should be
    // able to agree despite the disconnected follower.
    t.one(102, servers - 1, false);
    thread::sleep(RAFT_ELECTION_TIMEOUT);
    t.one(103, servers - 1, false);

    // disconnect the remaining follower
    let leader2 = t.check_one_leader();
    t.disconnect((leader2 + 1) % servers);
    t.disconnect((leader2 + 2) % servers);

    // submit a command.
    let Some(proposal) = t.propose(leader2, 104) else {
        t.fatal("leader rejected Start()");
    };
    if proposal.index != Index(4) {
        t.fatal(format!("expected index 4, got {}", proposal.index));
    }

    thread::sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that command 104 did not commit.
    t.check_no_agreement(proposal.index);

    t.end();
}

/// Test just failure of leaders.
#[test]
fn leader_failure_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): test failure of leaders");

    t.one(101, servers, false);

    // disconnect the first leader.
    let leader1 = t.check_one_leader();
    t.disconnect(leader1);

    // the remaining followers should elect
    // a new leader.
    t.one(102, servers - 1, false);
    thread::sleep(RAFT_ELECTION_TIMEOUT);
    t.one(103, servers - 1, false);

    // disconnect the new leader.
    let leader2 = t.check_one_leader();
    t.disconnect(leader2);

    // submit a command to each server.
    for i in 0..servers {
        t.propose(i, 104);
    }

    thread::sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that command 104 did not commit.
    t.check_no_agreement(Index(4));

    t.end();
}

/// Test that a follower participates after disconnect and re-connect.
#[test]
fn fail_agree_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): agreement after follower reconnects");

    t.one(101, servers, false);

    // disconnect one follower from the network.
    let leader = t.check_one_leader();
    t.disconnect((leader + 1) % servers);

    // the leader and remaining follower should be
    // able to agree despite the disconnected follower.
    t.one(102, servers - 1, false);
    t.one(103, servers - 1, false);
    thread::sleep(RAFT_ELECTION_TIMEOUT);
    t.one(104, servers - 1, false);
    t.one(105, servers - 1, false);

    // re-connect
    t.connect((leader + 1) % servers);

    // the full set of servers should preserve
    // previous agreements, and be able to agree
    // on new commands.
    t.one(106, servers, true);
    thread::sleep(RAFT_ELECTION_TIMEOUT);
    t.one(107, servers, true);

    t.end();
}

#[test]
fn fail_no_agree_3b() {
    let servers = 5;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): no agreement if too many followers disconnect");

    t.one(10, servers, false);

    // 3 of 5 followers disconnect
    let leader = t.check_one_leader();
    t.disconnect((leader + 1) % servers);
    t.disconnect((leader + 2) % servers);
    t.disconnect((leader + 3) % servers);

    let Some(proposal) = t.propose(leader, 20) else {
        t.fatal("leader rejected Start()");
    };
    if proposal.index != Index(2) {
        t.fatal(format!("expected index 2, got {}", proposal.index));
    }

    thread::sleep(2 * RAFT_ELECTION_TIMEOUT);

    t.check_no_agreement(proposal.index);

    // repair
    t.connect((leader + 1) % servers);
    t.connect((leader + 2) % servers);
    t.connect((leader + 3) % servers);

    // the disconnected majority may have chosen a leader from
    // among their own ranks, forgetting index 2.
    let leader2 = t.check_one_leader();
    let Some(proposal2) = t.propose(leader2, 30) else {
        t.fatal("leader2 rejected Start()");
    };
    if proposal2.index < Index(2) || proposal2.index > Index(3) {
        t.fatal(format!("unexpected index {}", proposal2.index));
    }

    t.one(1000, servers, true);

    t.end();
}

#[test]
fn concurrent_starts_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): concurrent Start()s");

    let mut success = false;
    'attempts: for attempt in 0..5 {
        if attempt > 0 {
            // give solution some time to settle
            thread::sleep(Duration::from_secs(3));
        }

        let leader = t.check_one_leader();
        let Some(first) = t.propose(leader, 1) else {
            // leader moved on really quickly
            continue;
        };
        let term = first.term;

        let iters = 5;
        let (accepted, indices) = crossbeam_channel::unbounded();
        thread::scope(|scope| {
            for i in 0..iters {
                let (t, accepted) = (&t, accepted.clone());
                scope.spawn(move || {
                    let Some(proposal) = t.propose(leader, 100 + i) else {
                        return;
                    };
                    if proposal.term == term {
                        let _ = accepted.send(proposal.index);
                    }
                });
            }
        });
        drop(accepted);

        for j in 0..servers {
            if t.state(j).0 != term {
                // term changed -- can't expect low RPC counts
                continue 'attempts;
            }
        }

        let mut cmds = Vec::new();
        for index in indices {
            match t.wait(index, servers, Some(term)) {
                // peers have moved on to later terms
                // so we can't expect all Start()s to
                // have succeeded
                None => continue 'attempts,
                Some(Command::Int(ix)) => cmds.push(ix),
                Some(cmd) => t.fatal(format!("value {cmd} is not an int")),
            }
        }

        for ii in 0..iters {
            let x = 100 + i64::from(ii);
            if !cmds.contains(&x) {
                t.fatal(format!("cmd {x} missing in {}", go_slice(&cmds)));
            }
        }

        success = true;
        break;
    }

    if !success {
        t.fatal("term changed too often");
    }

    t.end();
}

#[test]
fn rejoin_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): rejoin of partitioned leader");

    t.one(101, servers, true);

    // leader network failure
    let leader1 = t.check_one_leader();
    t.disconnect(leader1);

    // make old leader try to agree on some entries
    t.propose(leader1, 102);
    t.propose(leader1, 103);
    t.propose(leader1, 104);

    // new leader commits, also for index=2
    t.one(103, 2, true);

    // new leader network failure
    let leader2 = t.check_one_leader();
    t.disconnect(leader2);

    // old leader connected again
    t.connect(leader1);

    t.one(104, 2, true);

    // all together now
    t.connect(leader2);

    t.one(105, servers, true);

    t.end();
}

#[test]
fn backup_3b() {
    let servers = 5;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): leader backs up quickly over incorrect follower logs");

    t.one(t.random_int(), servers, true);

    // put leader and one follower in a partition
    let leader1 = t.check_one_leader();
    t.disconnect((leader1 + 2) % servers);
    t.disconnect((leader1 + 3) % servers);
    t.disconnect((leader1 + 4) % servers);

    // submit lots of commands that won't commit
    for _ in 0..50 {
        t.propose(leader1, t.random_int());
    }

    thread::sleep(RAFT_ELECTION_TIMEOUT / 2);

    t.disconnect(leader1 % servers);
    t.disconnect((leader1 + 1) % servers);

    // allow other partition to recover
    t.connect((leader1 + 2) % servers);
    t.connect((leader1 + 3) % servers);
    t.connect((leader1 + 4) % servers);

    // lots of successful commands to new group.
    for _ in 0..50 {
        t.one(t.random_int(), 3, true);
    }

    // now another partitioned leader and one follower
    let leader2 = t.check_one_leader();
    let mut other = (leader1 + 2) % servers;
    if leader2 == other {
        other = (leader2 + 1) % servers;
    }
    t.disconnect(other);

    // lots more commands that won't commit
    for _ in 0..50 {
        t.propose(leader2, t.random_int());
    }

    thread::sleep(RAFT_ELECTION_TIMEOUT / 2);

    // bring original leader back to life,
    for i in 0..servers {
        t.disconnect(i);
    }
    t.connect(leader1 % servers);
    t.connect((leader1 + 1) % servers);
    t.connect(other);

    // lots of successful commands to new group.
    for _ in 0..50 {
        t.one(t.random_int(), 3, true);
    }

    // now everyone
    for i in 0..servers {
        t.connect(i);
    }
    t.one(t.random_int(), servers, true);

    t.end();
}

#[test]
fn count_3b() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3B): RPC counts aren't too high");

    let rpcs = || (0..servers).map(|j| t.rpc_count(j)).sum::<u64>();

    t.check_one_leader();

    let mut total1 = rpcs();

    if !(1..=30).contains(&total1) {
        t.fatal(format!("too many or few RPCs ({total1}) to elect initial leader"));
    }

    let mut total2 = 0;
    let mut success = false;
    'attempts: for attempt in 0..5 {
        if attempt > 0 {
            // give solution some time to settle
            thread::sleep(Duration::from_secs(3));
        }

        let leader = t.check_one_leader();
        total1 = rpcs();

        let iters = 10;
        let Some(first) = t.propose(leader, 1) else {
            // leader moved on really quickly
            continue;
        };
        let (starti, term) = (first.index.0, first.term);

        let mut cmds = Vec::new();
        for i in 1..iters + 2 {
            // rand.Int31()
            let x = t.random_int() >> 32;
            cmds.push(x);
            match t.propose(leader, x) {
                // no longer the leader, so term has changed
                None => continue 'attempts,
                // term changed while starting
                Some(proposal) if proposal.term != term => continue 'attempts,
                Some(proposal) if proposal.index != Index(starti + i) => t.fatal("Start() failed"),
                Some(_) => {}
            }
        }

        for i in 1..iters + 1 {
            let cmd = t.wait(Index(starti + i), servers, Some(term));
            let expected = cmds[i as usize - 1];
            match cmd {
                Some(Command::Int(ix)) if ix == expected => {}
                // term changed -- try again
                None => continue 'attempts,
                Some(cmd) => t.fatal(format!(
                    "wrong value {cmd} committed for index {}; expected {}",
                    starti + i,
                    go_slice(&cmds)
                )),
            }
        }

        let mut failed = false;
        total2 = 0;
        for j in 0..servers {
            if t.state(j).0 != term {
                // term changed -- can't expect low RPC counts
                // need to keep going to update total2
                failed = true;
            }
            total2 += t.rpc_count(j);
        }

        if failed {
            continue;
        }

        if total2 - total1 > (iters + 1 + 3) * 3 {
            t.fatal(format!("too many RPCs ({}) for {iters} entries", total2 - total1));
        }

        success = true;
        break;
    }

    if !success {
        t.fatal("term changed too often");
    }

    thread::sleep(RAFT_ELECTION_TIMEOUT);

    let total3 = rpcs();

    if total3 - total2 > 3 * 20 {
        t.fatal(format!("too many RPCs ({}) for 1 second of idleness", total3 - total2));
    }

    t.end();
}

/// A list as Go's `%v` prints it, `[1 2 3]`, so failure messages read as the
/// lab's do.
fn go_slice(values: &[i64]) -> String {
    let items: Vec<String> = values.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(" "))
}
