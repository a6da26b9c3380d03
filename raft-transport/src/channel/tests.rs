//! Unit tests of the in-process channel network and its transports.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded, unbounded};
use raft_log::NodeId;

use crate::{CallError, ChannelNetwork, ChannelTransport, Transport, TransportConfig};

const WAIT: Duration = Duration::from_secs(10);

type Outcome = Result<u64, CallError>;

fn new_test_network() -> ChannelNetwork<u64, u64> {
    let config =
        TransportConfig { call_timeout: Duration::from_secs(60), ..TransportConfig::default() };
    ChannelNetwork::with_config(config).unwrap()
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
    // One handler thread, so a second call is handled only once the first
    // request's late reply has been dealt with.
    let config = TransportConfig { call_timeout: Duration::from_secs(60), handler_threads: 1 };
    let network = ChannelNetwork::with_config(config).unwrap();
    let one = adding_node(&network, 1);
    let two = network.transport(NodeId(2)).unwrap();
    let (entered_tx, entered) = unbounded();
    let (release, released) = unbounded::<()>();
    two.serve(Arc::new(move |n: u64| {
        entered_tx.send(()).unwrap();
        released.recv().unwrap();
        Some(n)
    }))
    .unwrap();

    let in_flight = call(&one, 2, 1);
    entered.recv_timeout(WAIT).unwrap();
    network.disconnect(NodeId(2));
    assert_eq!(outcome(&in_flight), Err(CallError::Unreachable(NodeId(2))));
    network.connect(NodeId(2));
    release.send(()).unwrap();
    release.send(()).unwrap();
    assert_eq!(outcome(&call(&one, 2, 9)), Ok(9));
    assert!(in_flight.try_recv().is_err(), "a second outcome for one call");
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
    let config = TransportConfig { handler_threads: 0, ..TransportConfig::default() };
    assert!(ChannelNetwork::<u64, u64>::with_config(config).is_err());
}

#[test]
fn a_channel_transport_carries_requests_of_any_size() {
    let network = new_test_network();
    assert_eq!(network.transport(NodeId(1)).unwrap().max_message_size(), None);
}
