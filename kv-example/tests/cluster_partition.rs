//! Partitions of a three-process cluster, made by freezing processes
//! (SIGSTOP: a frozen node neither sends nor answers, as if cut off from
//! everyone) and by stopping and starting them. An isolated leader is
//! replaced and rejoins as a follower, a minority acknowledges nothing, a
//! node stopped and started again catches up, and the lead moved on purpose
//! (`POST /admin/transfer-leader`) away from a node about to be stopped
//! loses nothing acknowledged.

#[path = "support/cluster.rs"]
mod cluster;

use std::time::{Duration, Instant};

use cluster::{Cluster, get, put, request};

/// Writes `count` fresh keys `{prefix}-{n}` through `url`; each must be
/// acknowledged. Returns the keys.
fn write_keys(url: &str, prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| {
            let key = format!("{prefix}-{n}");
            let answer = put(url, &key, &key, None).expect("the write is answered");
            assert_eq!(answer.status, 200, "writing {key}: {:?}", answer.body);
            key
        })
        .collect()
}

/// Asserts that every node holds every one of `keys` (each key's value is
/// its name).
fn assert_everywhere(cluster: &Cluster, keys: &[String]) {
    cluster.wait_converged();
    for node in 0..cluster.size() {
        for key in keys {
            let answer = get(&format!("{}/kv/{key}?stale=true", cluster.url(node))).unwrap();
            assert_eq!(answer.status, 200, "node {} lacks {key}: {:?}", node + 1, answer.body);
            assert_eq!(answer.body["value"], key.as_str());
        }
    }
}

fn term_of(cluster: &Cluster, node: usize) -> u64 {
    cluster.status(node).expect("the node answers")["term"].as_u64().unwrap()
}

#[test]
fn an_isolated_leader_is_replaced_then_rejoins_as_a_follower_and_nothing_acknowledged_is_lost() {
    let cluster = Cluster::start(3, &["--submit-timeout-ms", "2000"]);
    let old = cluster.wait_for_leader(&[0, 1, 2]);
    let old_term = term_of(&cluster, old);
    let mut acknowledged = write_keys(&cluster.url(old), "before", 20);

    cluster.pause(old);
    let others: Vec<usize> = (0..3).filter(|&node| node != old).collect();
    let new = cluster.wait_for_leader(&others);
    let new_term = term_of(&cluster, new);
    assert!(new_term > old_term, "the new leader's term {new_term} is past {old_term}");
    // A request to the frozen leader waits in its socket until it resumes.
    let frozen_url = cluster.url(old);
    let stranded = std::thread::spawn(move || put(&frozen_url, "stranded", "stranded", None));
    // The majority goes on without it; the write enters at the follower and
    // is forwarded.
    let follower = others.iter().copied().find(|&node| node != new).unwrap();
    acknowledged.extend(write_keys(&cluster.url(follower), "during", 20));

    cluster.resume(old);
    let leader = cluster.wait_for_leader(&[0, 1, 2]);
    assert_eq!(leader, new, "the old leader rejoined as a follower");
    assert!(term_of(&cluster, old) >= new_term, "the old leader took the new term");
    match stranded.join().unwrap() {
        Ok(answer) if answer.status == 200 => acknowledged.push("stranded".to_owned()),
        Ok(answer) => assert_eq!(answer.status, 503, "{:?}", answer.body),
        Err(_) => {}
    }
    acknowledged.extend(write_keys(&cluster.url(old), "after", 20));
    assert_everywhere(&cluster, &acknowledged);
}

#[test]
fn a_leader_without_a_majority_acknowledges_nothing_and_recovers_when_the_majority_returns() {
    let cluster = Cluster::start(3, &["--submit-timeout-ms", "1500"]);
    let leader = cluster.wait_for_leader(&[0, 1, 2]);
    let mut acknowledged = write_keys(&cluster.url(leader), "before", 10);
    let followers: Vec<usize> = (0..3).filter(|&node| node != leader).collect();
    for &node in &followers {
        cluster.pause(node);
    }

    let started = Instant::now();
    let answer = put(&cluster.url(leader), "minority", "minority", None).expect("an answer");
    assert_eq!(
        answer.status, 503,
        "a write without a majority is not acknowledged: {:?}",
        answer.body
    );
    assert!(started.elapsed() < Duration::from_secs(8), "it is refused within the submit timeout");
    let read = get(&format!("{}/kv/minority?stale=true", cluster.url(leader))).unwrap();
    assert_eq!(read.status, 404, "the write was not applied without a commit: {:?}", read.body);

    for &node in &followers {
        cluster.resume(node);
    }
    let leader = cluster.wait_for_leader(&[0, 1, 2]);
    acknowledged.extend(write_keys(&cluster.url(leader), "after", 10));
    assert_everywhere(&cluster, &acknowledged);
}

#[test]
fn a_follower_stopped_and_started_again_catches_up_through_a_snapshot() {
    // Snapshots every few kilobytes, so the returning follower is sent one.
    let mut cluster = Cluster::start(3, &["--snapshot-bytes", "4096"]);
    let leader = cluster.wait_for_leader(&[0, 1, 2]);
    let follower = (leader + 1) % 3;
    let mut acknowledged = write_keys(&cluster.url(leader), "before", 10);

    stop_cleanly(&mut cluster, follower);
    acknowledged.extend(write_keys(&cluster.url(leader), "while-stopped", 200));
    let deadline = Instant::now() + cluster::SETTLE_WITHIN;
    loop {
        let status = cluster.status(leader).unwrap();
        if status["snapshot_index"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the leader never compacted its log: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.restart(follower);
    assert_everywhere(&cluster, &acknowledged);
    let status = cluster.status(follower).unwrap();
    assert!(
        status["snapshot_index"].as_u64().unwrap() > 0,
        "the follower holds a snapshot: {status}"
    );
}

/// Stops `node` with SIGTERM and waits for a clean exit.
fn stop_cleanly(cluster: &mut Cluster, node: usize) {
    let status = cluster.terminate(node);
    assert!(status.success(), "node {} stopped cleanly on SIGTERM: {status}", node + 1);
}

#[test]
fn the_lead_moves_on_request_before_its_node_is_stopped_and_nothing_acknowledged_is_lost() {
    let mut cluster = Cluster::start(3, &[]);
    let old = cluster.wait_for_leader(&[0, 1, 2]);
    let old_term = term_of(&cluster, old);
    let mut acknowledged = write_keys(&cluster.url(old), "before", 20);

    // Asked through a follower, which forwards it to the leader.
    let target = (old + 1) % 3;
    let follower = (old + 2) % 3;
    let url = format!("{}/admin/transfer-leader", cluster.url(follower));
    let body = format!(r#"{{"to": {}}}"#, target + 1);
    let answer = request("POST", &url, Some(body.as_bytes())).unwrap();
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(answer.body["transferring_to"], target as u64 + 1);
    let leader = cluster.wait_for_leader(&[0, 1, 2]);
    assert_eq!(leader, target, "the target took the lead");
    assert!(term_of(&cluster, target) > old_term);

    // The old leader, now a follower, can be stopped without an election.
    stop_cleanly(&mut cluster, old);
    acknowledged.extend(write_keys(&cluster.url(target), "after", 20));
    cluster.restart(old);
    assert_everywhere(&cluster, &acknowledged);

    // A bad target is refused; the leader stays.
    let url = format!("{}/admin/transfer-leader", cluster.url(target));
    let answer = request("POST", &url, Some(br#"{"to": 9}"#)).unwrap();
    assert_eq!(answer.status, 400, "{:?}", answer.body);
    assert_eq!(cluster.wait_for_leader(&[0, 1, 2]), target);
}
