//! Lab 3C: persistence (the lab's `TestPersist13C` through
//! `TestUnreliableChurn3C`), with Spring 2025's crashes: a crashed server is
//! shut down and restarted from a copy of its persister, and every restart
//! connects all servers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use raft_testkit::{Command, Index, RAFT_ELECTION_TIMEOUT, Tester};

#[test]
fn persist1_3c() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3C): basic persistence");

    t.one(11, servers, true);

    t.shutdown_servers();
    t.start_servers();

    t.one(12, servers, true);

    let leader1 = t.check_one_leader();
    t.shutdown_server(leader1);
    t.restart(leader1);

    t.one(13, servers, true);

    let leader2 = t.check_one_leader();
    t.shutdown_server(leader2);

    t.one(14, servers - 1, true);

    t.restart(leader2);

    // wait for leader2 to join before killing i3
    t.wait(Index(4), servers, None);

    let i3 = (t.check_one_leader() + 1) % servers;
    t.shutdown_server(i3);

    t.one(15, servers - 1, true);

    t.restart(i3);

    t.one(16, servers, true);

    t.end();
}

#[test]
fn persist2_3c() {
    let servers = 5;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3C): more persistence");

    let mut index = 1;
    for _ in 0..5 {
        t.one(10 + index, servers, true);
        index += 1;

        let leader1 = t.check_one_leader();

        t.shutdown_server((leader1 + 1) % servers);
        t.shutdown_server((leader1 + 2) % servers);

        t.one(10 + index, servers - 2, true);
        index += 1;

        t.shutdown_server(leader1 % servers);
        t.shutdown_server((leader1 + 3) % servers);
        t.shutdown_server((leader1 + 4) % servers);

        t.restart((leader1 + 1) % servers);
        t.restart((leader1 + 2) % servers);

        thread::sleep(RAFT_ELECTION_TIMEOUT);

        t.restart((leader1 + 3) % servers);

        t.one(10 + index, servers - 2, true);
        index += 1;

        t.restart((leader1 + 4) % servers);
        t.restart(leader1 % servers);
    }

    t.one(1000, servers, true);

    t.end();
}

#[test]
fn persist3_3c() {
    let servers = 3;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3C): partitioned leader and one follower crash, leader restarts");

    t.one(101, 3, true);

    let leader = t.check_one_leader();
    t.disconnect((leader + 2) % servers);

    t.one(102, 2, true);

    t.shutdown_server(leader % servers);
    t.shutdown_server((leader + 1) % servers);
    t.connect((leader + 2) % servers);
    t.restart(leader % servers);

    t.one(103, 2, true);

    t.restart((leader + 1) % servers);

    t.one(104, servers, true);

    t.end();
}

/// Sleeps as the Figure 8 tests do between rounds: 10 % of the time up to half
/// an election timeout, otherwise up to 12 ms.
fn figure8_pause(t: &Tester) {
    let ms = if t.random_int() % 1000 < 100 {
        t.random_int() % (RAFT_ELECTION_TIMEOUT.as_millis() as i64 / 2)
    } else {
        t.random_int() % 13
    };
    thread::sleep(Duration::from_millis(ms.unsigned_abs()));
}

/// Test the scenarios described in Figure 8 of the extended Raft paper. Each
/// iteration asks a leader, if there is one, to insert a command in the Raft
/// log. If there is a leader, that leader will fail quickly with a high
/// probability (perhaps without committing the command), or crash after a
/// while with low probability (most likely committing the command). If the
/// number of alive servers isn't enough to form a majority, perhaps start a
/// new server. The leader in a new term may try to finish replicating log
/// entries that haven't been committed yet.
#[test]
fn figure8_3c() {
    let servers = 5;
    let t = Tester::new(servers, true, false);
    t.begin("Test (3C): Figure 8");

    t.one(t.random_int(), 1, true);

    let mut nup = servers;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..servers {
            if t.node(i).is_some() && t.propose(i, t.random_int()).is_some() {
                leader = Some(i);
            }
        }

        figure8_pause(&t);

        if let Some(leader) = leader {
            t.shutdown_server(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = t.random_int() as usize % servers;
            if t.node(s).is_none() {
                t.restart(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if t.node(i).is_none() {
            t.restart(i);
        }
    }

    t.one(t.random_int(), servers, true);

    t.end();
}

#[test]
fn unreliable_agree_3c() {
    let servers = 5;
    let t = Tester::new(servers, false, false);
    t.begin("Test (3C): unreliable agreement");

    thread::scope(|scope| {
        for iters in 1..50 {
            for j in 0..4 {
                let t = &t;
                scope.spawn(move || {
                    t.one(100 * iters + j, 1, true);
                });
            }
            t.one(iters, 1, true);
        }

        t.set_reliable(true);

        // the scope waits for the clients
    });

    t.one(100, servers, true);

    t.end();
}

#[test]
fn figure8_unreliable_3c() {
    let servers = 5;
    let t = Tester::new(servers, false, false);
    t.begin("Test (3C): Figure 8 (unreliable)");

    t.one(t.random_int() % 10000, 1, true);

    let mut nup = servers;
    for iters in 0..1000 {
        if iters == 200 {
            t.set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..servers {
            let ok = t.propose(i, t.random_int() % 10000).is_some();
            if ok && t.is_connected(i) {
                leader = Some(i);
            }
        }

        figure8_pause(&t);

        if let Some(leader) = leader
            && t.random_int() % 1000 < RAFT_ELECTION_TIMEOUT.as_millis() as i64 / 2
        {
            t.disconnect(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = t.random_int() as usize % servers;
            if !t.is_connected(s) {
                t.connect(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if !t.is_connected(i) {
            t.connect(i);
        }
    }

    t.one(t.random_int() % 10000, servers, true);

    t.end();
}

/// Sets the flag when dropped, so the churn clients stop even if the test
/// fails while they run.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// One churn client: offers random commands to every running server until
/// `stop`, and returns those it saw committed at the index it was given.
fn churn_client(t: &Tester, stop: &AtomicBool, me: u64) -> Vec<i64> {
    let mut values = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let x = t.random_int();
        let mut index = None;
        for i in 0..t.servers() {
            // try them all, maybe one of them is a leader
            if let Some(proposal) = t.propose(i, x) {
                index = Some(proposal.index);
            }
        }
        if let Some(index) = index {
            // maybe leader will commit our value, maybe not.
            // but don't wait forever.
            for to in [10, 20, 50, 100, 200] {
                let (nd, cmd) = t.n_committed(index);
                if nd > 0 {
                    match cmd {
                        Some(Command::Int(xx)) => {
                            if xx == x {
                                values.push(x);
                            }
                        }
                        _ => t.fatal("wrong command type"),
                    }
                    break;
                }
                thread::sleep(Duration::from_millis(to));
            }
        } else {
            thread::sleep(Duration::from_millis(79 + me * 17));
        }
    }
    values
}

fn internal_churn(reliable: bool) {
    let servers = 5;
    let t = Tester::new(servers, reliable, false);
    if t.is_reliable() {
        t.begin("Test (3C): churn");
    } else {
        t.begin("Test (3C): unreliable churn");
    }

    let stop = AtomicBool::new(false);

    let values = thread::scope(|scope| {
        // create concurrent clients
        let ncli = 3;
        let clients: Vec<_> = (0..ncli)
            .map(|me| {
                let (t, stop) = (&t, &stop);
                scope.spawn(move || churn_client(t, stop, me))
            })
            .collect();
        let stop_guard = StopOnDrop(&stop);

        for _ in 0..20 {
            if t.random_int() % 1000 < 200 {
                let i = t.random_int() as usize % servers;
                t.disconnect(i);
            }

            if t.random_int() % 1000 < 500 {
                let i = t.random_int() as usize % servers;
                if t.node(i).is_none() {
                    t.restart(i);
                }
                t.connect(i);
            }

            if t.random_int() % 1000 < 200 {
                let i = t.random_int() as usize % servers;
                if t.node(i).is_some() {
                    t.shutdown_server(i);
                }
            }

            // Make crash/restart infrequent enough that the peers can often
            // keep up, but not so infrequent that everything has settled
            // down from one change to the next. Pick a value smaller than
            // the election timeout, but not hugely smaller.
            thread::sleep(RAFT_ELECTION_TIMEOUT * 7 / 10);
        }

        thread::sleep(RAFT_ELECTION_TIMEOUT);
        t.set_reliable(true);
        for i in 0..servers {
            if t.node(i).is_none() {
                t.restart(i);
            }
            t.connect(i);
        }

        drop(stop_guard);

        let mut values = Vec::new();
        for client in clients {
            match client.join() {
                Ok(seen) => values.extend(seen),
                Err(_) => t.fatal("client failed"),
            }
        }
        values
    });

    thread::sleep(RAFT_ELECTION_TIMEOUT);

    let last_index = t.one(t.random_int(), servers, true);

    let mut really = Vec::new();
    for index in 1..=last_index.0 {
        match t.wait(Index(index), servers, None) {
            Some(Command::Int(v)) => really.push(v),
            _ => t.fatal("not an int"),
        }
    }

    for v1 in values {
        if !really.contains(&v1) {
            t.fatal("didn't find a value");
        }
    }

    t.end();
}

#[test]
fn reliable_churn_3c() {
    internal_churn(true);
}

#[test]
fn unreliable_churn_3c() {
    internal_churn(false);
}
