//! labrpc's own tests (6.5840 `src/labrpc/test_test.go`) ported to the simulated
//! network, plus the tests of `SimTransport`.
//!
//! labrpc dispatches on a method name and gob-encodes typed arguments. Here a
//! server is one byte handler, so the junk server's requests are one postcard
//! enum whose variant stands for the method, and each reply is the method's
//! reply type encoded alone. Timing bounds (30 ms, 100 ms) are labrpc's own.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use raft_log::NodeId;
use raft_testkit::{Network, Service, SimTransport};
use raft_transport::{CallError, Message, Transport, TransportError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// How long a test waits for an outcome that must come, before failing.
const WAIT: Duration = Duration::from_secs(10);
/// labrpc `MAXDELAY`: the longest a failing call may take (long delays on).
const MAX_DELAY: Duration = Duration::from_millis(7100);

/// The junk server's methods (labrpc's `JunkServer.HandlerN`).
#[derive(Debug, Serialize, Deserialize)]
enum JunkRequest {
    /// Logs the string, replies with it parsed as an integer.
    Handler1(String),
    /// Logs the integer, replies `"handler2-<n>"`.
    Handler2(i64),
    /// Blocks for up to 20 s (until released), replies `-n`.
    Handler3(i64),
    /// Replies with the string's length.
    Handler6(String),
    /// Replies with a string of `n` `'y'`s.
    Handler7(u64),
}

/// labrpc's `JunkServer`: logs what Handler1 and Handler2 receive.
#[derive(Default)]
struct JunkServer {
    log1: Mutex<Vec<String>>,
    log2: Mutex<Vec<i64>>,
    /// Handler3 blocks until a value arrives here or 20 s pass.
    handler3_release: Mutex<Option<mpsc::Receiver<()>>>,
}

impl JunkServer {
    fn new() -> Arc<JunkServer> {
        Arc::new(JunkServer::default())
    }

    fn service(self: &Arc<Self>) -> Service {
        let server = Arc::clone(self);
        Service::new(move |request| {
            let request: JunkRequest = postcard::from_bytes(&request).ok()?;
            server.handle(request)
        })
    }

    fn handle(&self, request: JunkRequest) -> Option<Vec<u8>> {
        match request {
            JunkRequest::Handler1(args) => {
                let reply: i64 = args.parse().unwrap_or(0);
                self.log1.lock().expect("not poisoned").push(args);
                encode(&reply)
            }
            JunkRequest::Handler2(args) => {
                self.log2.lock().expect("not poisoned").push(args);
                encode(&format!("handler2-{args}"))
            }
            JunkRequest::Handler3(args) => {
                let release = self.handler3_release.lock().expect("not poisoned").take();
                if let Some(release) = release {
                    let _ = release.recv_timeout(Duration::from_secs(20));
                }
                encode(&-args)
            }
            JunkRequest::Handler6(args) => encode(&i64::try_from(args.len()).ok()?),
            JunkRequest::Handler7(args) => encode(&"y".repeat(usize::try_from(args).ok()?)),
        }
    }

    /// Makes the next Handler3 block until the returned sender sends or drops.
    fn hold_handler3(&self) -> mpsc::Sender<()> {
        let (sender, receiver) = mpsc::channel();
        *self.handler3_release.lock().expect("not poisoned") = Some(receiver);
        sender
    }

    fn log1_len(&self) -> usize {
        self.log1.lock().expect("not poisoned").len()
    }

    fn log2_len(&self) -> usize {
        self.log2.lock().expect("not poisoned").len()
    }
}

fn encode<T: Serialize>(value: &T) -> Option<Vec<u8>> {
    postcard::to_stdvec(value).ok()
}

fn encoded_len<T: Serialize>(value: &T) -> u64 {
    let bytes = postcard::to_stdvec(value).expect("test values encode");
    u64::try_from(bytes.len()).expect("small")
}

/// labrpc `ClientEnd.Call`: sends `request` through `end`, waits for the
/// outcome and decodes the reply; `None` is labrpc's `false`.
fn call<R: DeserializeOwned>(network: &Network, end: &str, request: &JunkRequest) -> Option<R> {
    let bytes = postcard::to_stdvec(request).expect("requests encode");
    let (sender, receiver) = mpsc::channel();
    network.call(
        end,
        bytes,
        Box::new(move |reply| {
            let _ = sender.send(reply);
        }),
    );
    let reply = receiver.recv_timeout(WAIT).expect("every call returns")?;
    Some(postcard::from_bytes(&reply).expect("the junk server's replies decode"))
}

/// A network with `server` registered and `end` enabled and connected to it.
fn network_with(server_name: &str, server: &Arc<JunkServer>, end: &str) -> Network {
    let network = Network::new();
    network.make_end(end);
    network.add_server(server_name, server.service());
    network.connect(end, server_name);
    network.enable(end, true);
    network
}

#[test]
fn basic() {
    let server = JunkServer::new();
    let network = network_with("server99", &server, "end1-99");

    let reply: Option<String> = call(&network, "end1-99", &JunkRequest::Handler2(111));
    assert_eq!(reply.as_deref(), Some("handler2-111"), "wrong reply from Handler2");
    let reply: Option<i64> = call(&network, "end1-99", &JunkRequest::Handler1("9099".to_owned()));
    assert_eq!(reply, Some(9099), "wrong reply from Handler1");
    network.cleanup();
}

/// labrpc's version checks pointer and non-pointer arguments; the Rust port
/// sends two different request/reply type pairs through one `SimTransport`.
#[test]
fn types() {
    #[derive(Debug, Default, Serialize, Deserialize)]
    struct JunkArgs {
        x: i64,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct JunkReply {
        x: String,
    }

    let network = Network::new();
    let client = SimTransport::new(
        &network,
        NodeId(0),
        "client",
        vec![(NodeId(1), "end-1".to_owned()), (NodeId(2), "end-2".to_owned())],
    );
    let structs = SimTransport::new(&network, NodeId(1), "server-1", Vec::new());
    let strings = SimTransport::new(&network, NodeId(2), "server-2", Vec::new());
    Transport::<JunkArgs, JunkReply>::serve(
        &structs,
        Arc::new(|args: JunkArgs| Some(JunkReply { x: format!("struct {}", args.x) })),
    )
    .expect("serves");
    Transport::<String, u64>::serve(
        &strings,
        Arc::new(|args: String| u64::try_from(args.len()).ok()),
    )
    .expect("serves");
    for (end, server) in [("end-1", "server-1"), ("end-2", "server-2")] {
        network.make_end(end);
        network.connect(end, server);
        network.enable(end, true);
    }

    let reply: Result<JunkReply, _> = transport_call(&client, NodeId(1), JunkArgs { x: 7 });
    assert_eq!(reply, Ok(JunkReply { x: "struct 7".to_owned() }));
    let reply: Result<u64, _> = transport_call(&client, NodeId(2), "four".to_owned());
    assert_eq!(reply, Ok(4));
    network.cleanup();
}

/// Does disabling an end really disconnect a client?
#[test]
fn disconnect() {
    let server = JunkServer::new();
    let network = Network::new();
    network.make_end("end1-99");
    network.add_server("server99", server.service());
    network.connect("end1-99", "server99");

    let reply: Option<String> = call(&network, "end1-99", &JunkRequest::Handler2(111));
    assert_eq!(reply, None, "unexpected reply from Handler2");
    assert_eq!(server.log2_len(), 0, "the handler ran on a disabled end");

    network.enable("end1-99", true);
    let reply: Option<i64> = call(&network, "end1-99", &JunkRequest::Handler1("9099".to_owned()));
    assert_eq!(reply, Some(9099), "wrong reply from Handler1");
    assert_eq!(server.log1_len(), 1);
    network.cleanup();
}

/// `count` reports the requests delivered to a server.
#[test]
fn counts() {
    let server = JunkServer::new();
    let network = network_with("99", &server, "end1-99");
    for i in 0..17 {
        let reply: Option<String> = call(&network, "end1-99", &JunkRequest::Handler2(i));
        assert_eq!(reply, Some(format!("handler2-{i}")));
    }
    assert_eq!(network.count("99"), 17, "wrong count");
    network.cleanup();
}

/// `total_bytes` counts requests and delivered replies.
///
/// labrpc accepts a window ([4828, 6000], then [1800, 2500]) because gob adds
/// type descriptors to every message. postcard is deterministic, so the port
/// computes the exact total from the encoded lengths and asserts it, and also
/// checks that it falls inside labrpc's windows.
#[test]
fn bytes() {
    let server = JunkServer::new();
    let network = network_with("99", &server, "end1-99");

    let args = "x".repeat(71).repeat(4);
    assert_eq!(args.len(), 284);
    let request = JunkRequest::Handler6(args.clone());
    for _ in 0..17 {
        let reply: Option<i64> = call(&network, "end1-99", &request);
        assert_eq!(reply, Some(284), "wrong reply from Handler6");
    }
    let per_call = encoded_len(&request) + encoded_len(&284_i64);
    let n = network.total_bytes();
    assert_eq!(n, 17 * per_call, "wrong total bytes");
    assert!((4828..=6000).contains(&n), "{n} outside labrpc's window");

    let request = JunkRequest::Handler7(107);
    for _ in 0..17 {
        let reply: Option<String> = call(&network, "end1-99", &request);
        assert_eq!(reply.map(|reply| reply.len()), Some(107), "wrong reply from Handler7");
    }
    let per_call = encoded_len(&request) + encoded_len(&"y".repeat(107));
    let nn = network.total_bytes() - n;
    assert_eq!(nn, 17 * per_call, "wrong total bytes");
    assert!((1800..=2500).contains(&nn), "{nn} outside labrpc's window");
    network.cleanup();
}

/// RPCs from concurrent ends.
#[test]
fn concurrent_many() {
    let server = JunkServer::new();
    let network = Network::new();
    network.add_server("1000", server.service());

    let clients = 20;
    let rpcs = 10;
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let network = network.clone();
            thread::spawn(move || {
                let end = i.to_string();
                network.make_end(&end);
                network.connect(&end, "1000");
                network.enable(&end, true);
                let mut done = 0;
                for j in 0..rpcs {
                    let arg = i * 100 + j;
                    let reply: Option<String> = call(&network, &end, &JunkRequest::Handler2(arg));
                    assert_eq!(reply, Some(format!("handler2-{arg}")));
                    done += 1;
                }
                done
            })
        })
        .collect();
    let total: u64 =
        workers.into_iter().map(|worker| worker.join().expect("client succeeded")).sum();
    assert_eq!(total, 200, "wrong number of RPCs completed");
    assert_eq!(network.count("1000"), total, "wrong count");
    network.cleanup();
}

/// Of 300 calls on an unreliable network, some succeed and some fail.
#[test]
fn unreliable() {
    let server = JunkServer::new();
    let network = Network::new();
    network.set_reliable(false);
    network.add_server("1000", server.service());

    let clients = 300;
    let (sender, receiver) = mpsc::channel();
    for i in 0..clients {
        let end = i.to_string();
        network.make_end(&end);
        network.connect(&end, "1000");
        network.enable(&end, true);
        let sender = sender.clone();
        let request = postcard::to_stdvec(&JunkRequest::Handler2(i * 100)).expect("encodes");
        network.call(
            &end,
            request,
            Box::new(move |reply| {
                let _ = sender.send((i, reply));
            }),
        );
    }
    let mut succeeded = 0;
    for _ in 0..clients {
        let (i, reply) = receiver.recv_timeout(WAIT).expect("every call returns");
        if let Some(reply) = reply {
            let reply: String = postcard::from_bytes(&reply).expect("decodes");
            assert_eq!(reply, format!("handler2-{}", i * 100));
            succeeded += 1;
        }
    }
    assert!(
        succeeded > 0 && succeeded < clients,
        "{succeeded} of {clients} RPCs succeeded despite unreliable"
    );
    network.cleanup();
}

/// Concurrent RPCs from a single end.
#[test]
fn concurrent_one() {
    let server = JunkServer::new();
    let network = network_with("1000", &server, "c");

    let rpcs = 20;
    let workers: Vec<_> = (0..rpcs)
        .map(|i| {
            let network = network.clone();
            thread::spawn(move || {
                let arg = 100 + i;
                let reply: Option<String> = call(&network, "c", &JunkRequest::Handler2(arg));
                assert_eq!(reply, Some(format!("handler2-{arg}")));
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("RPC succeeded");
    }
    assert_eq!(server.log2_len(), 20, "wrong number of RPCs delivered");
    assert_eq!(network.count("1000"), 20, "wrong count");
    network.cleanup();
}

/// Regression: an RPC delayed while its end was disabled must not delay later
/// RPCs once the end is enabled again.
#[test]
fn regression1() {
    let server = JunkServer::new();
    let network = Network::new();
    network.add_server("1000", server.service());
    network.make_end("c");
    network.connect("c", "1000");

    // Calls started while the end is disabled are delayed, then fail.
    network.enable("c", false);
    let rpcs = 20;
    let (sender, receiver) = mpsc::channel();
    for i in 0..rpcs {
        let sender = sender.clone();
        let request = postcard::to_stdvec(&JunkRequest::Handler2(100 + i)).expect("encodes");
        network.call(
            "c",
            request,
            Box::new(move |reply| {
                let _ = sender.send(reply);
            }),
        );
    }

    thread::sleep(Duration::from_millis(100));

    // Now enable the end and check that an RPC completes quickly.
    let t0 = Instant::now();
    network.enable("c", true);
    let reply: Option<String> = call(&network, "c", &JunkRequest::Handler2(99));
    assert_eq!(reply.as_deref(), Some("handler2-99"));
    let elapsed = t0.elapsed();
    assert!(elapsed <= Duration::from_millis(30), "RPC took too long ({elapsed:?}) after Enable");

    for _ in 0..rpcs {
        let outcome = receiver.recv_timeout(WAIT).expect("every call returns");
        assert_eq!(outcome, None, "a call started on a disabled end succeeded");
    }
    assert_eq!(server.log2_len(), 1, "wrong number of RPCs delivered");
    assert_eq!(network.count("1000"), 1, "wrong count");
    network.cleanup();
}

/// If an RPC is stuck in a server and the server is killed with
/// `delete_server`, the RPC gets unstuck and fails.
#[test]
fn killed() {
    let server = JunkServer::new();
    let network = network_with("server99", &server, "end1-99");
    let release = server.hold_handler3();

    let request = postcard::to_stdvec(&JunkRequest::Handler3(99)).expect("encodes");
    let (sender, done) = mpsc::channel();
    network.call(
        "end1-99",
        request,
        Box::new(move |reply| {
            let _ = sender.send(reply);
        }),
    );

    thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        done.recv_timeout(Duration::from_millis(100)),
        Err(mpsc::RecvTimeoutError::Timeout),
        "Handler3 should not have returned yet"
    );

    network.delete_server("server99");
    match done.recv_timeout(Duration::from_millis(100)) {
        Ok(reply) => {
            assert_eq!(reply, None, "Handler3 returned successfully despite delete_server")
        }
        Err(_) => panic!("Handler3 should return after delete_server"),
    }
    drop(release);
    network.cleanup();
}

/// labrpc's throughput benchmark, kept as a smoke test: many sequential calls
/// all succeed. It prints the time taken; the speed figures live in criterion
/// benches, not here.
#[test]
fn benchmark() {
    let server = JunkServer::new();
    let network = network_with("server99", &server, "end1-99");
    let t0 = Instant::now();
    let n = 100_000;
    let request = JunkRequest::Handler2(111);
    for _ in 0..n {
        let reply: Option<String> = call(&network, "end1-99", &request);
        assert_eq!(reply.as_deref(), Some("handler2-111"), "wrong reply from Handler2");
    }
    println!("{:?} for {n}", t0.elapsed());
    assert_eq!(network.count("server99"), n);
    network.cleanup();
}

/// Long delays switched on and off by two threads while both make calls on a
/// disabled end: every such call fails within labrpc's `MAXDELAY`, none reaches
/// the handler, and the end works once enabled.
#[test]
fn long_delay_race() {
    let server = JunkServer::new();
    let network = Network::new();
    network.add_server("server", server.service());
    network.make_end("end");
    network.connect("end", "server");

    let rpcs_per_thread = 25;
    let (sender, receiver) = mpsc::channel();
    let started = Instant::now();
    let callers: Vec<_> = (0..2)
        .map(|caller| {
            let network = network.clone();
            let sender = sender.clone();
            thread::spawn(move || {
                for i in 0..rpcs_per_thread {
                    network.set_long_delays((i + caller) % 2 == 0);
                    let sender = sender.clone();
                    let request = postcard::to_stdvec(&JunkRequest::Handler2(i)).expect("encodes");
                    network.call(
                        "end",
                        request,
                        Box::new(move |reply| {
                            let _ = sender.send(reply);
                        }),
                    );
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().expect("caller ran");
    }
    for _ in 0..2 * rpcs_per_thread {
        let outcome = receiver.recv_timeout(MAX_DELAY + WAIT).expect("every call returns");
        assert_eq!(outcome, None);
    }
    assert!(
        started.elapsed() < MAX_DELAY + Duration::from_secs(1),
        "a failing call outlived MAXDELAY"
    );
    assert_eq!(server.log2_len(), 0);

    network.set_long_delays(true);
    network.enable("end", true);
    let reply: Option<String> = call(&network, "end", &JunkRequest::Handler2(7));
    assert_eq!(reply.as_deref(), Some("handler2-7"));
    network.cleanup();
}

// ---- SimTransport ----

/// Calls `to` through `transport` and waits for the outcome.
fn transport_call<Req: Message, Resp: Message>(
    transport: &SimTransport,
    to: NodeId,
    request: Req,
) -> Result<Resp, CallError> {
    let (sender, receiver) = mpsc::channel();
    Transport::<Req, Resp>::call(
        transport,
        to,
        request,
        Box::new(move |outcome| {
            let _ = sender.send(outcome);
        }),
    );
    receiver.recv_timeout(WAIT).expect("every call returns")
}

/// Polls `condition` until it holds; fails the test after [`WAIT`].
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "not reached in {WAIT:?}: {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// A client (node 0) with an enabled end towards node 1, whose server name is
/// `"server-1"`.
fn client_of_one_server(network: &Network) -> SimTransport {
    network.make_end("end-0-1");
    network.connect("end-0-1", "server-1");
    network.enable("end-0-1", true);
    SimTransport::new(network, NodeId(0), "server-0", vec![(NodeId(1), "end-0-1".to_owned())])
}

/// Node 1's transport, serving `handler`.
fn serving(
    network: &Network,
    handler: impl Fn(u64) -> Option<u64> + Send + Sync + 'static,
) -> SimTransport {
    let server = SimTransport::new(network, NodeId(1), "server-1", Vec::new());
    Transport::<u64, u64>::serve(&server, Arc::new(handler)).expect("serves");
    server
}

#[test]
fn sim_transport_round_trip_counts_the_encoded_bytes() {
    let network = Network::new();
    let client = client_of_one_server(&network);
    let server = serving(&network, |n| Some(n * 2));
    assert_eq!(Transport::<u64, u64>::local_id(&server), NodeId(1));

    assert_eq!(transport_call::<u64, u64>(&client, NodeId(1), 300), Ok(600));
    assert_eq!(network.total_count(), 1);
    assert_eq!(network.total_bytes(), encoded_len(&300_u64) + encoded_len(&600_u64));
    assert_eq!(network.count("server-1"), 1);
    network.cleanup();
}

#[test]
fn sim_transport_reports_lost_calls_unknown_peers_and_undecodable_replies() {
    let network = Network::new();
    let client = client_of_one_server(&network);

    // Nobody serves yet: labrpc's `false`.
    assert_eq!(
        transport_call::<u64, u64>(&client, NodeId(1), 1),
        Err(CallError::Unreachable(NodeId(1)))
    );
    // No end towards node 9.
    assert_eq!(
        transport_call::<u64, u64>(&client, NodeId(9), 1),
        Err(CallError::Unreachable(NodeId(9)))
    );
    // A reply that is not a `bool`.
    network.add_server("server-1", Service::new(|_| Some(vec![7])));
    assert!(matches!(
        transport_call::<u64, bool>(&client, NodeId(1), 1),
        Err(CallError::Undecodable { peer: NodeId(1), .. })
    ));
    network.cleanup();
}

#[test]
fn sim_transport_server_ignores_undecodable_requests() {
    let network = Network::new();
    let client = client_of_one_server(&network);
    let _server = serving(&network, Some);
    // An empty request is not a `u64`: the server gives no answer.
    assert_eq!(
        transport_call::<(), u64>(&client, NodeId(1), ()),
        Err(CallError::Unreachable(NodeId(1)))
    );
    assert_eq!(network.count("server-1"), 1);
    network.cleanup();
}

#[test]
fn sim_transport_serves_once_and_not_after_shutdown() {
    let network = Network::new();
    let server = serving(&network, Some);
    assert!(matches!(
        Transport::<u64, u64>::serve(&server, Arc::new(Some)),
        Err(TransportError::AlreadyServing)
    ));
    let stopped = SimTransport::new(&network, NodeId(2), "server-2", Vec::new());
    Transport::<u64, u64>::shutdown(&stopped);
    assert!(matches!(
        Transport::<u64, u64>::serve(&stopped, Arc::new(Some)),
        Err(TransportError::Shutdown)
    ));
    network.cleanup();
}

#[test]
fn sim_transport_after_shutdown_calls_fail_and_the_server_stops_answering() {
    let network = Network::new();
    let client = client_of_one_server(&network);
    let server = serving(&network, Some);
    assert_eq!(transport_call::<u64, u64>(&client, NodeId(1), 5), Ok(5));

    Transport::<u64, u64>::shutdown(&server);
    assert_eq!(
        transport_call::<u64, u64>(&client, NodeId(1), 5),
        Err(CallError::Unreachable(NodeId(1)))
    );
    Transport::<u64, u64>::shutdown(&client);
    Transport::<u64, u64>::shutdown(&client);
    assert_eq!(transport_call::<u64, u64>(&client, NodeId(1), 5), Err(CallError::Shutdown));
    // The failed call after shutdown never reached the network.
    assert_eq!(network.total_count(), 2);
    network.cleanup();
}

#[test]
fn sim_transport_shutdown_fails_pending_calls_exactly_once() {
    let network = Network::new();
    let client = client_of_one_server(&network);
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let _server = serving(&network, move |n| {
        let _ = gate.recv();
        Some(n)
    });

    let calls = 10;
    let outcomes: Arc<Vec<AtomicUsize>> =
        Arc::new((0..calls).map(|_| AtomicUsize::new(0)).collect());
    let (sender, receiver) = mpsc::channel();
    for i in 0..calls {
        let sender = sender.clone();
        let outcomes = Arc::clone(&outcomes);
        Transport::<u64, u64>::call(
            &client,
            NodeId(1),
            u64::try_from(i).expect("small"),
            Box::new(move |outcome| {
                outcomes[i].fetch_add(1, Ordering::SeqCst);
                let _ = sender.send(outcome);
            }),
        );
    }
    drop(sender);
    wait_until("every handler is running", || network.count("server-1") == 10);

    Transport::<u64, u64>::shutdown(&client);
    for _ in 0..calls {
        let outcome = receiver.recv_timeout(WAIT).expect("shutdown answers every call");
        assert_eq!(outcome, Err(CallError::Shutdown));
    }

    // The handlers now answer; the network delivers the replies (and counts
    // their bytes), and the transport must not pass them on.
    drop(release);
    let request_bytes = 10 * encoded_len(&0_u64);
    let reply_bytes = 10 * encoded_len(&0_u64);
    wait_until("every late reply is delivered", || {
        network.total_bytes() == request_bytes + reply_bytes
    });
    assert_eq!(receiver.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    assert!(outcomes.iter().all(|count| count.load(Ordering::SeqCst) == 1));
    network.cleanup();
}

#[test]
fn sim_transport_never_delivers_a_reply_from_a_replaced_server() {
    let network = Network::new();
    let client = client_of_one_server(&network);
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let _old = serving(&network, move |n| {
        let _ = gate.recv();
        Some(n)
    });

    let (sender, receiver) = mpsc::channel();
    Transport::<u64, u64>::call(
        &client,
        NodeId(1),
        1,
        Box::new(move |outcome| {
            let _ = sender.send(outcome);
        }),
    );
    wait_until("the old server's handler runs", || network.count("server-1") == 1);

    // A restart: a new server object under the same name.
    let _new = serving(&network, |n| Some(n + 100));
    assert_eq!(
        receiver.recv_timeout(Duration::from_millis(100)),
        Ok(Err(CallError::Unreachable(NodeId(1)))),
        "a call stuck in a replaced server must fail within 100 ms"
    );
    drop(release);
    assert_eq!(transport_call::<u64, u64>(&client, NodeId(1), 1), Ok(101));
    network.cleanup();
}

#[test]
fn sim_transport_drops_reordered_replies_of_a_replaced_server() {
    let network = Network::new();
    network.set_long_reordering(true);
    let client = client_of_one_server(&network);
    let _old = serving(&network, Some);

    let calls = 30;
    let replaced = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = mpsc::channel();
    for n in 0..calls {
        let sender = sender.clone();
        let replaced = Arc::clone(&replaced);
        Transport::<u64, u64>::call(
            &client,
            NodeId(1),
            n,
            Box::new(move |outcome| {
                let _ = sender.send((outcome, replaced.load(Ordering::SeqCst)));
            }),
        );
    }
    wait_until("every handler has run", || network.count("server-1") == calls);
    // Replies not held back are delivered as their handler returns; held-back
    // ones wait at least 200 ms. This pause separates the two.
    thread::sleep(Duration::from_millis(50));
    replaced.store(true, Ordering::SeqCst);
    let _new = serving(&network, Some);

    let mut failed_after = 0;
    for _ in 0..calls {
        let (outcome, after) = receiver.recv_timeout(WAIT).expect("every call returns");
        match outcome {
            Ok(_) => assert!(!after, "a reply of the replaced server was delivered"),
            Err(error) => {
                assert_eq!(error, CallError::Unreachable(NodeId(1)));
                assert!(after, "a call failed before the server was replaced");
                failed_after += 1;
            }
        }
    }
    // 2/3 of replies are held back; that none were is a 1-in-3^30 event.
    assert!(failed_after > 0, "no reply was held back");
    network.cleanup();
}
