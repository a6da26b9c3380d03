//! The conformance suite every transport backend passes, written once over a
//! cluster factory and run for each backend.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use raft_transport::{
    CallError, ChannelNetwork, ChannelTransport, ClusterId, Handler, NodeId, Responder,
    TcpTransport, Transport, TransportConfig, TransportError,
};
use serde::{Deserialize, Serialize};

/// How long a test waits for something that should happen at once.
const WAIT: Duration = Duration::from_secs(10);
/// A deadline long enough that a call reporting anything within [`WAIT`] did
/// not just run out of time.
const LONG_TIMEOUT: Duration = Duration::from_secs(60);

/// The requests of the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Ask {
    /// Answer at once with the value.
    Echo(u64),
    /// Answer with the value from the handler's answering thread, as a node's
    /// event loop answers after its fsync.
    Later(u64),
    /// Report entering the handler, then answer from a thread of its own once
    /// the gate opens.
    Hold(u64),
    /// Refuse: give no answer.
    Decline,
    /// Drop the responder unanswered.
    Abandon,
}

/// The replies: who answered, and the value asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Answer {
    from: NodeId,
    value: u64,
}

type Outcome = Result<Answer, CallError>;

/// Builds and drives an n-node cluster of one backend; nodes are numbered 1..=n.
trait Cluster: Sized {
    type Node: Transport<Ask, Answer>;

    /// Starts nodes 1..=n whose calls time out after `call_timeout`; none serves yet.
    fn start(n: u64, call_timeout: Duration) -> Self;

    /// Node `id`'s current transport.
    fn node(&self, id: u64) -> Arc<Self::Node>;

    /// Shuts node `id` down, as a crash would.
    fn crash(&mut self, id: u64);

    /// Starts a new transport for node `id` in the crashed one's place.
    fn restart(&mut self, id: u64);
}

// ---- the backends ----

struct ChannelCluster {
    network: ChannelNetwork<Ask, Answer>,
    nodes: BTreeMap<u64, Arc<ChannelTransport<Ask, Answer>>>,
}

impl Cluster for ChannelCluster {
    type Node = ChannelTransport<Ask, Answer>;

    fn start(n: u64, call_timeout: Duration) -> ChannelCluster {
        let config = TransportConfig { call_timeout };
        let network = ChannelNetwork::with_config(config).unwrap();
        let nodes =
            (1..=n).map(|id| (id, Arc::new(network.transport(NodeId(id)).unwrap()))).collect();
        ChannelCluster { network, nodes }
    }

    fn node(&self, id: u64) -> Arc<Self::Node> {
        Arc::clone(&self.nodes[&id])
    }

    fn crash(&mut self, id: u64) {
        self.nodes[&id].shutdown();
    }

    fn restart(&mut self, id: u64) {
        self.nodes.insert(id, Arc::new(self.network.transport(NodeId(id)).unwrap()));
    }
}

struct TcpCluster {
    call_timeout: Duration,
    addresses: BTreeMap<u64, SocketAddr>,
    nodes: BTreeMap<u64, Arc<TcpTransport<Ask, Answer>>>,
}

const CLUSTER: ClusterId = ClusterId(0x5EED);

impl TcpCluster {
    /// Node `id`'s transport listening on `listen`, knowing every other node's address.
    fn start_node(&self, id: u64, listen: SocketAddr) -> TcpTransport<Ask, Answer> {
        let mut builder = TcpTransport::builder(NodeId(id), CLUSTER)
            .listen(listen)
            .call_timeout(self.call_timeout);
        for (&peer, &address) in &self.addresses {
            builder = builder.peer(NodeId(peer), address);
        }
        builder.start().unwrap()
    }
}

impl Cluster for TcpCluster {
    type Node = TcpTransport<Ask, Answer>;

    fn start(n: u64, call_timeout: Duration) -> TcpCluster {
        let mut cluster =
            TcpCluster { call_timeout, addresses: BTreeMap::new(), nodes: BTreeMap::new() };
        for id in 1..=n {
            let node = cluster.start_node(id, "127.0.0.1:0".parse().unwrap());
            cluster.addresses.insert(id, node.local_addr());
            cluster.nodes.insert(id, Arc::new(node));
        }
        for node in cluster.nodes.values() {
            for (&peer, &address) in &cluster.addresses {
                node.set_peer(NodeId(peer), address);
            }
        }
        cluster
    }

    fn node(&self, id: u64) -> Arc<Self::Node> {
        Arc::clone(&self.nodes[&id])
    }

    fn crash(&mut self, id: u64) {
        self.nodes[&id].shutdown();
    }

    fn restart(&mut self, id: u64) {
        let node = self.start_node(id, self.addresses[&id]);
        self.nodes.insert(id, Arc::new(node));
    }
}

// ---- helpers ----

/// Where held requests wait; opening it lets every held request (and any later
/// one) through.
#[derive(Clone)]
struct Gate {
    entered: Sender<u64>,
    opened: Receiver<()>,
}

/// The test's side of a [`Gate`].
struct GateControl {
    entered: Receiver<u64>,
    open: Option<Sender<()>>,
}

fn new_test_gate() -> (Gate, GateControl) {
    let (entered_tx, entered) = unbounded();
    let (open, opened) = bounded(0);
    (Gate { entered: entered_tx, opened }, GateControl { entered, open: Some(open) })
}

impl GateControl {
    /// Waits until a held request is inside a handler and returns its value.
    fn wait_entered(&self) -> u64 {
        self.entered.recv_timeout(WAIT).expect("no request entered the handler within 10 s")
    }

    fn open(&mut self) {
        self.open = None;
    }
}

/// The suite's handler: answers as each [`Ask`] says.
struct TestHandler {
    id: NodeId,
    gate: Gate,
    /// The handler's answering thread, for [`Ask::Later`].
    later: Sender<(Responder<Answer>, Answer)>,
}

/// The suite's handler for node `id`, with an answering thread that lives as
/// long as the handler.
fn test_handler(id: u64, gate: Gate) -> Arc<dyn Handler<Ask, Answer>> {
    let (later, queue) = unbounded::<(Responder<Answer>, Answer)>();
    thread::spawn(move || {
        for (responder, answer) in queue {
            responder.respond(answer);
        }
    });
    Arc::new(TestHandler { id: NodeId(id), gate, later })
}

impl Handler<Ask, Answer> for TestHandler {
    fn handle(&self, ask: Ask, responder: Responder<Answer>) {
        let answer = |value| Answer { from: self.id, value };
        match ask {
            Ask::Echo(value) => responder.respond(answer(value)),
            Ask::Later(value) => {
                // The answering thread ends only with the handler.
                self.later.send((responder, answer(value))).unwrap();
            }
            Ask::Hold(value) => {
                let _ = self.gate.entered.send(value);
                let (opened, answer) = (self.gate.opened.clone(), answer(value));
                thread::spawn(move || {
                    let _ = opened.recv();
                    responder.respond(answer);
                });
            }
            Ask::Decline => responder.refuse(),
            Ask::Abandon => drop(responder),
        }
    }
}

/// Makes nodes `ids` serve the suite's handler behind `gate`.
fn serve<C: Cluster>(cluster: &C, ids: impl IntoIterator<Item = u64>, gate: &Gate) {
    for id in ids {
        cluster.node(id).serve(test_handler(id, gate.clone())).unwrap();
    }
}

/// A cluster of `n` nodes, all serving, and the control of their gate.
fn serving_cluster<C: Cluster>(n: u64, call_timeout: Duration) -> (C, GateControl) {
    let cluster = C::start(n, call_timeout);
    let (gate, control) = new_test_gate();
    serve(&cluster, 1..=n, &gate);
    (cluster, control)
}

/// Calls `to` from `from`; the outcome arrives on the returned channel.
fn call(from: &impl Transport<Ask, Answer>, to: u64, ask: Ask) -> Receiver<Outcome> {
    let (tx, rx) = bounded(1);
    from.call(NodeId(to), ask, Box::new(move |outcome| tx.send(outcome).unwrap()));
    rx
}

fn outcome(rx: &Receiver<Outcome>) -> Outcome {
    rx.recv_timeout(WAIT).expect("no outcome within 10 s")
}

fn answer(from: u64, value: u64) -> Outcome {
    Ok(Answer { from: NodeId(from), value })
}

// ---- the suite ----

fn round_trip<C: Cluster>() {
    let (cluster, _gate) = serving_cluster::<C>(2, LONG_TIMEOUT);
    assert_eq!(outcome(&call(&*cluster.node(1), 2, Ask::Echo(42))), answer(2, 42));
    assert_eq!(outcome(&call(&*cluster.node(2), 1, Ask::Echo(7))), answer(1, 7));
}

fn a_thousand_concurrent_calls_each_complete_once_with_their_reply<C: Cluster>() {
    const CALLERS: u64 = 4;
    const PER_CALLER: u64 = 250;
    let (cluster, _gate) = serving_cluster::<C>(3, LONG_TIMEOUT);
    let (tx, outcomes) = unbounded::<(u64, u64, Outcome)>();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let node = cluster.node(1);
            let tx = tx.clone();
            thread::spawn(move || {
                for k in 0..PER_CALLER {
                    let seq = caller * PER_CALLER + k;
                    let to = 2 + seq % 2;
                    // Half answered at once, half later from another thread.
                    let ask = if seq % 4 < 2 { Ask::Echo(seq) } else { Ask::Later(seq) };
                    let tx = tx.clone();
                    node.call(
                        NodeId(to),
                        ask,
                        Box::new(move |outcome| tx.send((seq, to, outcome)).unwrap()),
                    );
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().unwrap();
    }
    let mut seen = vec![false; (CALLERS * PER_CALLER) as usize];
    for _ in 0..CALLERS * PER_CALLER {
        let (seq, to, outcome) = outcomes.recv_timeout(WAIT).expect("a call never completed");
        assert_eq!(outcome, answer(to, seq), "call {seq}");
        assert!(!seen[seq as usize], "call {seq} completed twice");
        seen[seq as usize] = true;
    }
    assert!(seen.iter().all(|&done| done));
}

fn a_later_reply_can_overtake_an_earlier_one<C: Cluster>() {
    let (cluster, mut gate) = serving_cluster::<C>(2, LONG_TIMEOUT);
    let one = cluster.node(1);
    let held = call(&*one, 2, Ask::Hold(1));
    assert_eq!(gate.wait_entered(), 1);
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(2))), answer(2, 2));
    assert!(held.try_recv().is_err(), "the held call answered before its gate opened");
    gate.open();
    assert_eq!(outcome(&held), answer(2, 1));
}

fn a_call_to_a_down_or_unknown_peer_fails_at_once_with_unreachable<C: Cluster>() {
    let (mut cluster, _gate) = serving_cluster::<C>(3, LONG_TIMEOUT);
    cluster.crash(2);
    let one = cluster.node(1);
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(1))), Err(CallError::Unreachable(NodeId(2))));
    assert_eq!(outcome(&call(&*one, 99, Ask::Echo(1))), Err(CallError::Unreachable(NodeId(99))));
    assert_eq!(outcome(&call(&*one, 3, Ask::Echo(1))), answer(3, 1), "the others are unaffected");
}

fn a_restarted_peer_is_reached_again<C: Cluster>() {
    let (mut cluster, _gate) = serving_cluster::<C>(2, LONG_TIMEOUT);
    assert_eq!(outcome(&call(&*cluster.node(1), 2, Ask::Echo(1))), answer(2, 1));
    cluster.crash(2);
    assert_eq!(
        outcome(&call(&*cluster.node(1), 2, Ask::Echo(2))),
        Err(CallError::Unreachable(NodeId(2)))
    );

    cluster.restart(2);
    let (gate, _control) = new_test_gate();
    serve(&cluster, [2], &gate);
    // The caller may still be backing off from its failed attempts: retry
    // until the peer answers, within a bound.
    let until = Instant::now() + WAIT;
    loop {
        match outcome(&call(&*cluster.node(1), 2, Ask::Echo(3))) {
            Ok(reply) => {
                assert_eq!(Ok(reply), answer(2, 3));
                break;
            }
            Err(CallError::Unreachable(_)) if Instant::now() < until => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("the restarted peer was not reached: {error}"),
        }
    }
    assert_eq!(outcome(&call(&*cluster.node(2), 1, Ask::Echo(4))), answer(1, 4));
}

fn a_slow_handler_makes_the_call_time_out<C: Cluster>() {
    let (cluster, mut gate) = serving_cluster::<C>(2, Duration::from_millis(200));
    let one = cluster.node(1);
    let held = call(&*one, 2, Ask::Hold(1));
    assert_eq!(gate.wait_entered(), 1);
    assert_eq!(outcome(&held), Err(CallError::TimedOut(NodeId(2))));
    gate.open();
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(2))), answer(2, 2));
}

fn shutdown_fails_pending_calls_and_later_ones<C: Cluster>() {
    const HELD: u64 = 10;
    let (cluster, mut gate) = serving_cluster::<C>(2, LONG_TIMEOUT);
    let one = cluster.node(1);
    let held: Vec<_> = (0..HELD).map(|value| call(&*one, 2, Ask::Hold(value))).collect();
    gate.wait_entered();

    one.shutdown();
    for rx in &held {
        assert_eq!(outcome(rx), Err(CallError::Shutdown));
    }
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(1))), Err(CallError::Shutdown));
    let (late_gate, _control) = new_test_gate();
    assert!(matches!(one.serve(test_handler(1, late_gate)), Err(TransportError::Shutdown)));
    one.shutdown();
    gate.open();
}

fn a_peer_going_down_fails_the_calls_in_flight_to_it<C: Cluster>() {
    let (mut cluster, mut gate) = serving_cluster::<C>(2, LONG_TIMEOUT);
    let held = call(&*cluster.node(1), 2, Ask::Hold(1));
    gate.wait_entered();
    // Shutting the peer down must not wait for its held handler.
    cluster.crash(2);
    assert_eq!(outcome(&held), Err(CallError::Unreachable(NodeId(2))));
    gate.open();
}

fn a_peer_that_does_not_serve_or_declines_is_unavailable<C: Cluster>() {
    let cluster = C::start(2, LONG_TIMEOUT);
    let one = cluster.node(1);
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(1))), Err(CallError::Unavailable(NodeId(2))));

    let (gate, _control) = new_test_gate();
    serve(&cluster, [2], &gate);
    assert_eq!(outcome(&call(&*one, 2, Ask::Decline)), Err(CallError::Unavailable(NodeId(2))));
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(2))), answer(2, 2));
}

fn serving_twice_is_refused<C: Cluster>() {
    let (cluster, _control) = serving_cluster::<C>(1, LONG_TIMEOUT);
    let (gate, _other) = new_test_gate();
    assert!(matches!(
        cluster.node(1).serve(test_handler(1, gate)),
        Err(TransportError::AlreadyServing)
    ));
}

fn a_callback_may_shut_its_own_transport_down<C: Cluster>() {
    let (cluster, _gate) = serving_cluster::<C>(2, LONG_TIMEOUT);
    let one = cluster.node(1);
    let (done_tx, done) = bounded(1);
    let own = Arc::clone(&one);
    one.call(
        NodeId(2),
        Ask::Echo(5),
        Box::new(move |outcome| {
            own.shutdown();
            done_tx.send(outcome).unwrap();
        }),
    );
    assert_eq!(done.recv_timeout(WAIT).expect("shutdown from a callback hung"), answer(2, 5));
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(6))), Err(CallError::Shutdown));
}

/// A handler that notes the order requests reach it in, and echoes them.
struct OrderRecorder {
    id: NodeId,
    seen: Mutex<Vec<u64>>,
}

impl Handler<Ask, Answer> for OrderRecorder {
    fn handle(&self, ask: Ask, responder: Responder<Answer>) {
        let Ask::Echo(value) = ask else { panic!("unexpected request {ask:?}") };
        self.seen.lock().unwrap().push(value);
        responder.respond(Answer { from: self.id, value });
    }
}

fn requests_from_one_caller_reach_the_handler_in_the_order_sent<C: Cluster>() {
    const CALLS: u64 = 1000;
    let cluster = C::start(2, LONG_TIMEOUT);
    let recorder = Arc::new(OrderRecorder { id: NodeId(2), seen: Mutex::new(Vec::new()) });
    cluster.node(2).serve(Arc::clone(&recorder) as Arc<dyn Handler<Ask, Answer>>).unwrap();
    let one = cluster.node(1);
    let (tx, outcomes) = unbounded();
    for seq in 0..CALLS {
        let tx = tx.clone();
        one.call(
            NodeId(2),
            Ask::Echo(seq),
            Box::new(move |outcome| tx.send((seq, outcome)).unwrap()),
        );
    }
    for _ in 0..CALLS {
        let (seq, outcome) = outcomes.recv_timeout(WAIT).expect("a call never completed");
        assert_eq!(outcome, answer(2, seq), "call {seq}");
    }
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen, (0..CALLS).collect::<Vec<_>>(), "the handler saw the requests out of order");
}

/// A handler that hands each request, with its responder, to the test.
struct Keeper(Sender<(Ask, Responder<Answer>)>);

impl Handler<Ask, Answer> for Keeper {
    fn handle(&self, ask: Ask, responder: Responder<Answer>) {
        self.0.send((ask, responder)).unwrap();
    }
}

fn a_responder_kept_and_answered_later_from_another_thread_delivers_its_reply<C: Cluster>() {
    let cluster = C::start(2, LONG_TIMEOUT);
    let (kept, requests) = unbounded();
    cluster.node(2).serve(Arc::new(Keeper(kept))).unwrap();
    let one = cluster.node(1);
    let first = call(&*one, 2, Ask::Echo(1));
    let second = call(&*one, 2, Ask::Echo(2));
    let (ask, first_responder) = requests.recv_timeout(WAIT).expect("no request arrived");
    assert_eq!(ask, Ask::Echo(1));
    let (ask, second_responder) = requests.recv_timeout(WAIT).expect("no request arrived");
    assert_eq!(ask, Ask::Echo(2));
    assert!(first.try_recv().is_err(), "a call completed before its responder answered");

    // Answered in the opposite order, each from a thread of its own.
    thread::spawn(move || second_responder.respond(Answer { from: NodeId(2), value: 20 }))
        .join()
        .unwrap();
    assert_eq!(outcome(&second), answer(2, 20));
    assert!(first.try_recv().is_err(), "a call completed before its responder answered");
    thread::spawn(move || first_responder.respond(Answer { from: NodeId(2), value: 10 }))
        .join()
        .unwrap();
    assert_eq!(outcome(&first), answer(2, 10));
}

fn a_responder_dropped_unanswered_makes_the_call_unavailable<C: Cluster>() {
    let cluster = C::start(3, LONG_TIMEOUT);
    let (gate, _control) = new_test_gate();
    serve(&cluster, [2], &gate);
    let (kept, requests) = unbounded();
    cluster.node(3).serve(Arc::new(Keeper(kept))).unwrap();
    let one = cluster.node(1);

    // Dropped inside the handler.
    assert_eq!(outcome(&call(&*one, 2, Ask::Abandon)), Err(CallError::Unavailable(NodeId(2))));
    // Kept, then dropped on another thread.
    let held = call(&*one, 3, Ask::Echo(1));
    let (_, responder) = requests.recv_timeout(WAIT).expect("no request arrived");
    thread::spawn(move || drop(responder)).join().unwrap();
    assert_eq!(outcome(&held), Err(CallError::Unavailable(NodeId(3))));
    assert_eq!(outcome(&call(&*one, 2, Ask::Echo(2))), answer(2, 2), "the peer goes on serving");
}

thread_local! {
    /// Set by the test around each `call`, so that a callback can tell whether
    /// it runs inside one.
    static INSIDE_CALL: Cell<bool> = const { Cell::new(false) };
}

fn an_answer_given_inside_the_handler_does_not_run_the_callback_inside_call<C: Cluster>() {
    let (cluster, _gate) = serving_cluster::<C>(2, LONG_TIMEOUT);
    let one = cluster.node(1);
    let asks = [
        (Ask::Echo(7), answer(2, 7)),
        (Ask::Decline, Err(CallError::Unavailable(NodeId(2)))),
        (Ask::Abandon, Err(CallError::Unavailable(NodeId(2)))),
    ];
    for _ in 0..20 {
        for (ask, expected) in asks.clone() {
            let (tx, rx) = bounded(1);
            INSIDE_CALL.set(true);
            one.call(
                NodeId(2),
                ask.clone(),
                Box::new(move |outcome| tx.send((outcome, INSIDE_CALL.get())).unwrap()),
            );
            INSIDE_CALL.set(false);
            let (outcome, inside) = rx.recv_timeout(WAIT).expect("no outcome within 10 s");
            assert_eq!(outcome, expected, "{ask:?}");
            assert!(!inside, "the callback for {ask:?} ran inside call");
        }
    }
}

/// Runs every test of the suite against one backend, as a module of tests.
macro_rules! conformance_suite {
    ($module:ident, $cluster:ty) => {
        mod $module {
            conformance_suite!(@tests $cluster;
                round_trip,
                a_thousand_concurrent_calls_each_complete_once_with_their_reply,
                a_later_reply_can_overtake_an_earlier_one,
                a_call_to_a_down_or_unknown_peer_fails_at_once_with_unreachable,
                a_restarted_peer_is_reached_again,
                a_slow_handler_makes_the_call_time_out,
                shutdown_fails_pending_calls_and_later_ones,
                a_peer_going_down_fails_the_calls_in_flight_to_it,
                a_peer_that_does_not_serve_or_declines_is_unavailable,
                serving_twice_is_refused,
                a_callback_may_shut_its_own_transport_down,
                requests_from_one_caller_reach_the_handler_in_the_order_sent,
                a_responder_kept_and_answered_later_from_another_thread_delivers_its_reply,
                a_responder_dropped_unanswered_makes_the_call_unavailable,
                an_answer_given_inside_the_handler_does_not_run_the_callback_inside_call,
            );
        }
    };
    (@tests $cluster:ty; $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                super::$test::<$cluster>();
            }
        )*
    };
}

conformance_suite!(channel, super::ChannelCluster);
conformance_suite!(tcp, super::TcpCluster);
