//! Lab 3D: log compaction (the lab's `TestSnapshotBasic3D` through
//! `TestSnapshotInit3D`). The tester snapshots every server after indices 9,
//! 19, 29, ...; as in Spring 2025, the crash-everything tests run on an
//! unreliable network.

use raft_testkit::{SNAPSHOT_INTERVAL, Tester};

/// The largest raft state (hard state and log) a server may persist, in bytes.
const MAX_LOG_SIZE: u64 = 2000;

/// The lab's `snapcommon`: 30 rounds of commands, with a follower (or the
/// leader) disconnected or crashed in each, that must keep every log small.
fn snap_common(name: &str, disconnect: bool, reliable: bool, crash: bool) {
    let iters = 30;
    let servers = 3;
    let t = Tester::new(servers, reliable, true);
    t.begin(name);

    t.one(t.random_int(), servers, true);
    let mut leader1 = t.check_one_leader();

    for i in 0..iters {
        let mut victim = (leader1 + 1) % servers;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }

        if disconnect {
            t.disconnect(victim);
            t.one(t.random_int(), servers - 1, true);
        }
        if crash {
            t.shutdown_server(victim);
            t.one(t.random_int(), servers - 1, true);
        }

        // perhaps send enough to get a snapshot
        let nn = SNAPSHOT_INTERVAL / 2 + t.random_int().unsigned_abs() % SNAPSHOT_INTERVAL;
        for _ in 0..nn {
            t.propose(sender, t.random_int());
        }

        // let applier threads catch up with the Start()'s
        if !disconnect && !crash {
            // make sure all followers have caught up, so that
            // an InstallSnapshot RPC isn't required for
            // TestSnapshotBasic3D().
            t.one(t.random_int(), servers, true);
        } else {
            t.one(t.random_int(), servers - 1, true);
        }

        if t.log_size() >= MAX_LOG_SIZE {
            t.fatal("Log size too large");
        }
        if disconnect {
            // reconnect a follower, who maybe behind and
            // needs to receive a snapshot to catch up.
            t.connect(victim);
            t.one(t.random_int(), servers, true);
            leader1 = t.check_one_leader();
        }
        if crash {
            t.restart(victim);
            t.one(t.random_int(), servers, true);
            leader1 = t.check_one_leader();
        }
    }

    t.end();
}

#[test]
fn snapshot_basic_3d() {
    snap_common("Test (3D): snapshots basic", false, true, false);
}

#[test]
fn snapshot_install_3d() {
    snap_common("Test (3D): install snapshots (disconnect)", true, true, false);
}

#[test]
fn snapshot_install_unreliable_3d() {
    snap_common("Test (3D): install snapshots (disconnect+unreliable)", true, false, false);
}

#[test]
fn snapshot_install_crash_3d() {
    snap_common("Test (3D): install snapshots (crash)", false, true, true);
}

#[test]
fn snapshot_install_unreliable_crash_3d() {
    snap_common("Test (3D): install snapshots (unreliable+crash)", false, false, true);
}

/// Do the servers persist the snapshots, and restart using snapshot along with
/// the tail of the log?
#[test]
fn snapshot_all_crash_3d() {
    let servers = 3;
    let iters = 5;
    let t = Tester::new(servers, false, true);
    t.begin("Test (3D): crash and restart all servers");

    t.one(t.random_int(), servers, true);

    for _ in 0..iters {
        // perhaps enough to get a snapshot
        let nn = SNAPSHOT_INTERVAL / 2 + t.random_int().unsigned_abs() % SNAPSHOT_INTERVAL;
        for _ in 0..nn {
            t.one(t.random_int(), servers, true);
        }

        let index1 = t.one(t.random_int(), servers, true);

        // crash all
        t.shutdown_servers();
        t.start_servers();

        let index2 = t.one(t.random_int(), servers, true);
        if index2.0 < index1.0 + 1 {
            t.fatal(format!("index decreased from {index1} to {index2}"));
        }
    }

    t.end();
}

/// Do servers correctly initialize their in-memory copy of the snapshot,
/// making sure that future writes to persistent state don't lose state?
#[test]
fn snapshot_init_3d() {
    let servers = 3;
    let t = Tester::new(servers, false, true);
    t.begin("Test (3D): snapshot initialization after crash");
    t.one(t.random_int(), servers, true);

    // enough ops to make a snapshot
    let nn = SNAPSHOT_INTERVAL + 1;
    for _ in 0..nn {
        t.one(t.random_int(), servers, true);
    }

    t.shutdown_servers();
    t.start_servers();

    // a single op, to get something to be written back to persistent storage.
    t.one(t.random_int(), servers, true);

    t.shutdown_servers();
    t.start_servers();

    // do another op to trigger potential bug
    t.one(t.random_int(), servers, true);

    t.end();
}
