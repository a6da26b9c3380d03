//! Unit tests of SimTransport's serving side: the handler answers through its
//! responder, at once or from another thread.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Sender, bounded, unbounded};
use raft_log::NodeId;
use raft_transport::{CallError, Handler, Responder, Transport};

use super::SimTransport;
use crate::network::Network;

const WAIT: Duration = Duration::from_secs(10);

/// Node 1, with an end towards node 2, and node 2, on a reliable network.
fn two_nodes() -> (Network, SimTransport, SimTransport) {
    let network = Network::new();
    network.make_end("1-2");
    network.connect("1-2", "server-2");
    network.enable("1-2", true);
    let one = SimTransport::new(&network, NodeId(1), "server-1", vec![(NodeId(2), "1-2".into())]);
    let two = SimTransport::new(&network, NodeId(2), "server-2", Vec::new());
    (network, one, two)
}

fn call(from: &SimTransport, n: u64) -> Result<u64, CallError> {
    let (tx, rx) = bounded(1);
    Transport::<u64, u64>::call(
        from,
        NodeId(2),
        n,
        Box::new(move |outcome| tx.send(outcome).unwrap()),
    );
    rx.recv_timeout(WAIT).expect("no outcome within 10 s")
}

/// Hands each request, with its responder, to a thread that answers it.
struct Answering(Sender<(u64, Responder<u64>)>);

impl Handler<u64, u64> for Answering {
    fn handle(&self, n: u64, responder: Responder<u64>) {
        self.0.send((n, responder)).unwrap();
    }
}

/// A handler whose answering thread runs `answer` on each request.
fn answering_later(
    answer: impl Fn(u64, Responder<u64>) + Send + 'static,
) -> Arc<dyn Handler<u64, u64>> {
    let (queue, work) = unbounded::<(u64, Responder<u64>)>();
    thread::spawn(move || {
        for (n, responder) in work {
            answer(n, responder);
        }
    });
    Arc::new(Answering(queue))
}

#[test]
fn a_handler_that_answers_at_once_is_heard() {
    let (network, one, two) = two_nodes();
    two.serve(Arc::new(|n: u64| Some(n + 1))).unwrap();
    assert_eq!(call(&one, 1), Ok(2));
    network.cleanup();
}

#[test]
fn a_handler_that_answers_later_from_another_thread_is_heard() {
    let (network, one, two) = two_nodes();
    two.serve(answering_later(|n, responder| responder.respond(n * 2))).unwrap();
    assert_eq!(call(&one, 21), Ok(42));
    network.cleanup();
}

#[test]
fn a_refused_or_dropped_responder_gives_no_answer() {
    let (network, one, two) = two_nodes();
    two.serve(answering_later(|n, responder| {
        if n == 0 {
            responder.refuse();
        } else {
            drop(responder);
        }
    }))
    .unwrap();
    assert_eq!(call(&one, 0), Err(CallError::Unreachable(NodeId(2))));
    assert_eq!(call(&one, 1), Err(CallError::Unreachable(NodeId(2))));
    network.cleanup();
}
