//! `kill -9` under load: clients read and write through the HTTP API of a
//! three-process cluster while leaders and followers are SIGKILLed and
//! restarted. The history, unknown outcomes included, must be linearizable,
//! every acknowledged write must be on every node at the end, and every
//! restart must succeed.

#[path = "support/cluster.rs"]
mod cluster;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cluster::{Cluster, get, put};
use raft_testkit::{CheckResult, KvInput, KvModel, KvOutput, Operation, PutOutcome, check};

/// Clients running at once.
const CLIENTS: usize = 4;

/// The keys they share, so that their operations contend.
const KEYS: usize = 6;

/// Kills per run; they alternate between the leader and a follower.
const KILLS: usize = 6;

/// How long a killed node stays down, and how long the cluster runs between
/// one restart and the next kill: the fault schedule, not a wait for a state.
const DOWN_FOR: Duration = Duration::from_millis(800);
const UP_FOR: Duration = Duration::from_millis(1500);

/// How long the checker may search.
const CHECK_TIME_LIMIT: Duration = Duration::from_secs(60);

/// One acknowledged write: the key reached `version` with `value`.
#[derive(Clone, Debug)]
struct Acknowledged {
    key: String,
    value: String,
    version: u64,
}

/// What the clients share.
struct Shared {
    origin: Instant,
    urls: Vec<String>,
    history: Mutex<Vec<Operation<KvInput, KvOutput>>>,
    acknowledged: Mutex<Vec<Acknowledged>>,
    stop: AtomicBool,
}

impl Shared {
    fn now(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    fn record(&self, operation: Operation<KvInput, KvOutput>) {
        self.history.lock().unwrap().push(operation);
    }
}

/// One client: reads a key, then writes it at the version it saw (or the
/// one its last write made), round and round, against a node picked in
/// turn (the nodes forward to the leader). Outcomes it cannot know (no
/// answer, a timeout, 503) are recorded as `Maybe` for writes, with no
/// return time, since such a write may take effect at any later moment; a
/// read without an answer is left out (it changed nothing).
fn run_client(client: usize, shared: &Shared) {
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut step = client;
    let mut writes = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        step += 1;
        let url = &shared.urls[step % shared.urls.len()];
        let key = format!("key-{}", (step * 7 + client) % KEYS);
        let read_first = step.is_multiple_of(2) || !versions.contains_key(&key);
        if read_first {
            let call = shared.now();
            let answer = get(&format!("{url}/kv/{key}"));
            let returned = shared.now();
            let value = match answer {
                Ok(answer) if answer.status == 200 => {
                    versions.insert(key.clone(), answer.body["version"].as_u64().unwrap());
                    answer.body["value"].as_str().unwrap().to_owned()
                }
                Ok(answer) if answer.status == 404 => {
                    assert_eq!(answer.body["error"], "no_key", "{:?}", answer.body);
                    versions.insert(key.clone(), 0);
                    String::new()
                }
                Ok(answer) => {
                    assert_eq!(
                        answer.status, 503,
                        "a read gets 200, 404 or 503: {:?}",
                        answer.body
                    );
                    continue;
                }
                Err(_) => continue,
            };
            let input = KvInput::Get { key: key.clone() };
            shared.record(Operation {
                client,
                input,
                call,
                output: KvOutput::Get { value },
                returned,
            });
            continue;
        }
        let version = versions[&key];
        writes += 1;
        let value = format!("c{client}-w{writes}");
        let call = shared.now();
        let answer = put(url, &key, &value, Some(version));
        let mut returned = shared.now();
        let outcome = match answer {
            Ok(answer) if answer.status == 200 => {
                assert_eq!(answer.body["version"], version + 1, "{:?}", answer.body);
                versions.insert(key.clone(), version + 1);
                let acknowledged =
                    Acknowledged { key: key.clone(), value: value.clone(), version: version + 1 };
                shared.acknowledged.lock().unwrap().push(acknowledged);
                PutOutcome::Ok
            }
            Ok(answer) if answer.status == 409 => {
                versions.remove(&key);
                PutOutcome::Version
            }
            Ok(answer) if answer.status == 404 => PutOutcome::NoKey,
            Ok(answer) => {
                assert_eq!(answer.status, 503, "a write gets 200, 409 or 503: {:?}", answer.body);
                versions.remove(&key);
                returned = u64::MAX;
                PutOutcome::Maybe
            }
            Err(_) => {
                versions.remove(&key);
                returned = u64::MAX;
                PutOutcome::Maybe
            }
        };
        let input = KvInput::Put { key, value, version };
        shared.record(Operation { client, input, call, output: KvOutput::Put(outcome), returned });
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_of_leaders_and_followers_and_the_history_is_linearizable() {
    // Snapshots every 64 KiB of Raft state, so restarts recover from a
    // snapshot and the log after it.
    let mut cluster =
        Cluster::start(3, &["--submit-timeout-ms", "2000", "--snapshot-bytes", "65536"]);
    cluster.wait_for_leader(&[0, 1, 2]);
    let shared = Arc::new(Shared {
        origin: Instant::now(),
        urls: (0..3).map(|node| cluster.url(node)).collect(),
        history: Mutex::new(Vec::new()),
        acknowledged: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || run_client(client, &shared))
        })
        .collect();

    let mut kills = 0;
    let mut leaders_killed = 0;
    for round in 0..KILLS {
        thread::sleep(UP_FOR);
        let leader = cluster.wait_for_leader(&[0, 1, 2]);
        let victim =
            if round.is_multiple_of(2) { leader } else { (leader + 1 + round / 2 % 2) % 3 };
        cluster.kill(victim);
        kills += 1;
        leaders_killed += usize::from(victim == leader);
        thread::sleep(DOWN_FOR);
        // Panics, with the node's log, unless it answers on its old data.
        cluster.restart(victim);
    }
    thread::sleep(UP_FOR);
    shared.stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("a client panicked");
    }

    cluster.wait_converged();
    let acknowledged = shared.acknowledged.lock().unwrap().clone();
    let mut latest: HashMap<&str, &Acknowledged> = HashMap::new();
    for write in &acknowledged {
        let entry = latest.entry(&write.key).or_insert(write);
        if write.version > entry.version {
            *entry = write;
        }
    }
    for key in (0..KEYS).map(|key| format!("key-{key}")) {
        let reads: Vec<(u64, String)> = (0..3)
            .map(|node| {
                let answer = get(&format!("{}/kv/{key}?stale=true", cluster.url(node))).unwrap();
                match answer.status {
                    200 => (
                        answer.body["version"].as_u64().unwrap(),
                        answer.body["value"].as_str().unwrap().to_owned(),
                    ),
                    404 => (0, String::new()),
                    status => panic!("a stale read of {key} on node {} got {status}", node + 1),
                }
            })
            .collect();
        assert!(
            reads.iter().all(|read| *read == reads[0]),
            "the nodes disagree on {key}: {reads:?}"
        );
        if let Some(write) = latest.get(key.as_str()) {
            assert!(
                reads[0].0 >= write.version,
                "acknowledged write {write:?} is missing: the nodes hold {:?}",
                reads[0]
            );
            if reads[0].0 == write.version {
                assert_eq!(
                    reads[0].1, write.value,
                    "{key} at version {} holds another value",
                    write.version
                );
            }
        }
    }

    let history = shared.history.lock().unwrap().clone();
    let maybes = history.iter().filter(|op| op.output == KvOutput::Put(PutOutcome::Maybe)).count();
    let report = check(&KvModel, &history, CHECK_TIME_LIMIT).expect("a well-formed history");
    let snapshots: Vec<u64> = (0..3)
        .map(|node| cluster.status(node).unwrap()["snapshot_index"].as_u64().unwrap())
        .collect();
    assert!(snapshots.iter().all(|&index| index > 0), "every node snapshotted: {snapshots:?}");
    println!(
        "kill -9 run: {kills} kills ({leaders_killed} of the leader), {} writes acknowledged, \
         {} operations checked ({maybes} with unknown outcome): {:?}",
        acknowledged.len(),
        history.len(),
        report.result
    );
    assert_eq!(report.result, CheckResult::Ok, "the history is not known to be linearizable");
    assert!(
        acknowledged.len() >= 50,
        "the clients made progress between kills: {}",
        acknowledged.len()
    );
}
