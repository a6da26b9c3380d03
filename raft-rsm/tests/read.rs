//! [`Rsm::read`] on a real three-node cluster (channel transport, memory
//! persisters): reads through any node, while a writer runs, see every write
//! acknowledged before they began.

// Real nodes run in real time here: waiting on them needs the clock.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use raft_core::{Config, Node, NodeId, Request, Response};
use raft_persist::MemPersister;
use raft_rsm::{Rsm, RsmConfig, StateMachine, SubmitError};
use raft_transport::ChannelNetwork;

/// A counter: each command adds to it.
struct Counter(u64);

impl StateMachine for Counter {
    type Command = u64;
    type Output = u64;
    fn apply(&mut self, add: u64) -> u64 {
        self.0 += add;
        self.0
    }
    fn snapshot(&self) -> Vec<u8> {
        self.0.to_le_bytes().to_vec()
    }
    fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        let bytes: [u8; 8] = bytes.try_into().map_err(|_| "not a counter".to_owned())?;
        self.0 = u64::from_le_bytes(bytes);
        Ok(())
    }
}

const RUN: Duration = Duration::from_secs(2);

#[test]
fn reads_through_any_node_see_every_write_acknowledged_before_they_began() {
    let network = ChannelNetwork::<Request, Response>::new();
    let ids: Vec<NodeId> = (1..=3).map(NodeId).collect();
    let replicas: Vec<Rsm<Counter>> = ids
        .iter()
        .map(|&id| {
            let builder = Node::builder(Config::new(id, ids.clone()))
                .persister(MemPersister::new())
                .transport(network.transport(id).unwrap());
            Rsm::start(builder, Counter(0), RsmConfig::default()).unwrap()
        })
        .collect();
    let acknowledged = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));

    let writer = {
        let (replicas, acknowledged, done) =
            (replicas.clone(), Arc::clone(&acknowledged), Arc::clone(&done));
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                for replica in &replicas {
                    if let Ok(total) = replica.submit(1) {
                        acknowledged.fetch_max(total, Ordering::SeqCst);
                    }
                }
            }
        })
    };
    let readers: Vec<_> = replicas
        .iter()
        .cloned()
        .map(|replica| {
            let (acknowledged, done) = (Arc::clone(&acknowledged), Arc::clone(&done));
            thread::spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::SeqCst) {
                    let before = acknowledged.load(Ordering::SeqCst);
                    match replica.read(|counter| counter.0) {
                        Ok(value) => {
                            assert!(
                                value >= before,
                                "read {value} after {before} was acknowledged"
                            );
                            reads += 1;
                        }
                        Err(SubmitError::WrongLeader { .. }) => {
                            thread::sleep(Duration::from_millis(5))
                        }
                        Err(error) => panic!("a read failed: {error}"),
                    }
                }
                reads
            })
        })
        .collect();

    let started = Instant::now();
    while started.elapsed() < RUN {
        thread::sleep(Duration::from_millis(50));
    }
    done.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    for (node, reader) in readers.into_iter().enumerate() {
        let reads = reader.join().unwrap();
        assert!(reads > 0, "node {node} served no read");
    }
    assert!(acknowledged.load(Ordering::SeqCst) > 0, "no write was acknowledged");
    for replica in &replicas {
        replica.shutdown();
    }
}

/// Runs a future to its end on this thread, parking between polls.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        assert!(Instant::now() < deadline, "the future did not resolve");
        thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn async_submits_and_reads_answer_as_the_blocking_ones_do() {
    let network = ChannelNetwork::<Request, Response>::new();
    let builder = Node::builder(Config::new(NodeId(1), vec![NodeId(1)]))
        .persister(MemPersister::new())
        .transport(network.transport(NodeId(1)).unwrap());
    let counter = Rsm::start(builder, Counter(0), RsmConfig::default()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = loop {
        match block_on(counter.submit_async(5)) {
            Err(SubmitError::WrongLeader { .. }) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10))
            }
            other => break other,
        }
    };
    assert_eq!(first, Ok(5));
    assert_eq!(block_on(counter.submit_async(2)), Ok(7));
    assert_eq!(block_on(counter.read_async(|machine| machine.0)), Ok(7));
    assert_eq!(counter.read(|machine| machine.0), Ok(7));
    counter.shutdown();
    assert_eq!(block_on(counter.submit_async(1)), Err(SubmitError::Stopped));
    assert_eq!(block_on(counter.read_async(|machine| machine.0)), Err(SubmitError::Stopped));
}
