//! Unit tests of the in-process channel network and its transports.

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use raft_log::NodeId;

use crate::{
    CallError, ChannelNetwork, ChannelTransport, Handler, Responder, Transport, TransportConfig,
};

const WAIT: Duration = Duration::from_secs(10);

type Outcome = Result<u64, CallError>;

fn new_test_network() -> ChannelNetwork<u64, u64> {
    let config = TransportConfig { call_timeout: Duration::from_secs(60) };
    ChannelNetwork::with_config(config).unwrap()
}

/// Requests as a handler received them, with their responders.
type Requests = Receiver<(u64, Responder<u64>)>;

/// A handler that hands each request, with its responder, to the test.
struct Keeping(Sender<(u64, Responder<u64>)>);

impl Handler<u64, u64> for Keeping {
    fn handle(&self, n: u64, responder: Responder<u64>) {
        self.0.send((n, responder)).unwrap();
    }
}

/// Node `id`, handing its requests to the returned receiver.
fn keeping_node(
    network: &ChannelNetwork<u64, u64>,
    id: u64,
) -> (ChannelTransport<u64, u64>, Requests) {
    let node = network.transport(NodeId(id)).unwrap();
    let (kept, requests) = unbounded();
    node.serve(Arc::new(Keeping(kept))).unwrap();
    (node, requests)
}

fn kept(requests: &Requests) -> (u64, Responder<u64>) {
    requests.recv_timeout(WAIT).expect("no request reached the handler within 10 s")
}

/// Node `id`, answering `n` with `n + id`.
fn adding_node(network: &ChannelNetwork<u64, u64>, id: u64) -> ChannelTransport<u64, u64> {
    let node = network.transport(NodeId(id)).unwrap();
    node.serve(Arc::new(move |n: u64| Some(n + id))).unwrap();
    node
}

fn call(from: &ChannelTransport<u64, u64>, to: u64, n: u64) -> Receiver<Outcome> {
    let (tx, rx) = bounded(1);
    from.call(NodeId(to), n, Box::new(move |outcome| tx.send(outcome).unwrap()));
    rx
}

fn outcome(rx: &Receiver<Outcome>) -> Outcome {
    rx.recv_timeout(WAIT).expect("no outcome within 10 s")
}

#[test]
fn a_disconnected_node_can_neither_call_nor_be_called_until_it_reconnects() {
    let network = new_test_network();
    let one = adding_node(&network, 1);
    let two = adding_node(&network, 2);

    network.disconnect(NodeId(2));
    assert!(!network.is_connected(NodeId(2)));
    assert_eq!(outcome(&call(&one, 2, 5)), Err(CallError::Unreachable(NodeId(2))));
    assert_eq!(outcome(&call(&two, 1, 5)), Err(CallError::Unreachable(NodeId(1))));

    network.connect(NodeId(2));
    assert_eq!(outcome(&call(&one, 2, 5)), Ok(7));
    assert_eq!(outcome(&call(&two, 1, 5)), Ok(6));
}

#[test]
fn disconnecting_the_callee_fails_a_call_in_flight_and_drops_its_late_reply() {
    let network = new_test_network();
    let one = adding_node(&network, 1);
    let (_two, requests) = keeping_node(&network, 2);

    let in_flight = call(&one, 2, 1);
    let (_, late) = kept(&requests);
    network.disconnect(NodeId(2));
    assert_eq!(outcome(&in_flight), Err(CallError::Unreachable(NodeId(2))));
    network.connect(NodeId(2));
    late.respond(1);
    let next = call(&one, 2, 9);
    let (n, responder) = kept(&requests);
    responder.respond(n);
    assert_eq!(outcome(&next), Ok(9));
    assert!(in_flight.try_recv().is_err(), "a second outcome for one call");
}

#[test]
fn a_reply_given_later_completes_the_call_on_the_answering_thread() {
    let network = new_test_network();
    let one = adding_node(&network, 1);
    let (_two, requests) = keeping_node(&network, 2);
    let (tx, rx) = bounded(1);
    one.call(
        NodeId(2),
        4,
        Box::new(move |outcome| tx.send((outcome, thread::current().id())).unwrap()),
    );
    let (n, responder) = kept(&requests);
    let answering = thread::spawn(move || {
        responder.respond(n * 10);
        thread::current().id()
    });
    let answering = answering.join().unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), (Ok(40), answering));
}

thread_local! {
    /// Set by the test around a call, so that a callback can tell whether it
    /// runs inside it.
    static IN_TEST_CALL: Cell<bool> = const { Cell::new(false) };
}

/// A handler that answers the previous request when the next one comes.
struct AnswersThePrevious(Mutex<Option<(u64, Responder<u64>)>>);

impl Handler<u64, u64> for AnswersThePrevious {
    fn handle(&self, n: u64, responder: Responder<u64>) {
        let previous = self.0.lock().unwrap().replace((n, responder));
        if let Some((previous, responder)) = previous {
            responder.respond(previous);
        }
    }
}

#[test]
fn an_answer_given_inside_a_later_call_does_not_run_its_callback_inside_that_call() {
    let network = new_test_network();
    let one = adding_node(&network, 1);
    let two = network.transport(NodeId(2)).unwrap();
    two.serve(Arc::new(AnswersThePrevious(Mutex::new(None)))).unwrap();
    let (tx, outcomes) = unbounded();
    for n in 0..20 {
        let tx = tx.clone();
        IN_TEST_CALL.set(true);
        one.call(
            NodeId(2),
            n,
            Box::new(move |outcome| tx.send((outcome, IN_TEST_CALL.get())).unwrap()),
        );
        IN_TEST_CALL.set(false);
        if n > 0 {
            assert_eq!(outcomes.recv_timeout(WAIT).unwrap(), (Ok(n - 1), false), "call {}", n - 1);
        }
    }
    drop(two);
    assert_eq!(outcomes.recv_timeout(WAIT).unwrap().0, Err(CallError::Unreachable(NodeId(2))));
}

#[test]
fn a_new_transport_for_a_live_id_replaces_the_old_one() {
    let network = new_test_network();
    let one = adding_node(&network, 1);
    let old = adding_node(&network, 2);
    let new = network.transport(NodeId(2)).unwrap();
    new.serve(Arc::new(|n: u64| Some(n * 100))).unwrap();

    assert_eq!(outcome(&call(&one, 2, 3)), Ok(300));
    assert_eq!(outcome(&call(&old, 1, 3)), Err(CallError::Unreachable(NodeId(1))));
    old.shutdown();
    assert_eq!(
        outcome(&call(&one, 2, 3)),
        Ok(300),
        "shutting the replaced one down cut the new one off"
    );
    drop(new);
}

#[test]
fn an_invalid_config_is_refused() {
    let config = TransportConfig { call_timeout: Duration::ZERO };
    assert!(ChannelNetwork::<u64, u64>::with_config(config).is_err());
}

#[test]
fn a_channel_transport_carries_requests_of_any_size() {
    let network = new_test_network();
    assert_eq!(network.transport(NodeId(1)).unwrap().max_message_size(), None);
}
