//! Malformed input against a live [`TcpTransport`] on loopback: each case closes
//! that one connection with a logged warning, allocates nothing a length prefix
//! merely claims, and leaves the transport serving well-behaved peers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use raft_transport::{CallError, ClusterId, NodeId, TcpTransport, Transport};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const WAIT: Duration = Duration::from_secs(10);
const CLUSTER: ClusterId = ClusterId(42);
const SERVER: NodeId = NodeId(1);
/// The protocol version this build speaks, as its hello carries it.
const PROTOCOL_VERSION: u32 = 2;
/// No allocation in this test binary comes near this; one that does is a
/// length prefix taken at its word.
const ALLOCATION_LIMIT: usize = 16 << 20;

// ---- the largest allocation, seen by a global allocator ----

/// The system allocator, noting the largest single allocation asked of it.
struct LargestAllocation;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc`, passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

fn assert_no_large_allocation() {
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < ALLOCATION_LIMIT, "an allocation of {largest} bytes was made");
}

// ---- the log, captured ----

/// Every line logged at warning level or above, and a condition to wait on.
#[derive(Default)]
struct Log {
    text: Mutex<String>,
    grew: Condvar,
}

struct LogWriter(&'static Log);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.text.lock().unwrap().push_str(&String::from_utf8_lossy(bytes));
        self.0.grew.notify_all();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    static INSTALLED: OnceLock<()> = OnceLock::new();
    let captured = LOG.get_or_init(Log::default);
    INSTALLED.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(|| LogWriter(log()))
            .init();
    });
    captured
}

/// Waits until a logged line holds every one of `parts`, and returns it.
fn wait_for_warning(parts: &[&str]) -> String {
    let log = log();
    let until = Instant::now() + WAIT;
    let mut text = log.text.lock().unwrap();
    loop {
        if let Some(line) = text.lines().find(|line| parts.iter().all(|part| line.contains(part))) {
            assert!(line.contains("WARN"), "not a warning: {line}");
            return line.to_owned();
        }
        let left = until.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no warning with {parts:?} within 10 s; the log:\n{text}");
        text = log.grew.wait_timeout(text, left).unwrap().0;
    }
}

// ---- peers, well-behaved and not ----

/// A transport of node 1 that answers `n` with `n + 1`, and a well-behaved
/// peer already connected to it.
fn serving_pair() -> (TcpTransport<u64, u64>, TcpTransport<u64, u64>) {
    log();
    let server: TcpTransport<u64, u64> = TcpTransport::builder(SERVER, CLUSTER)
        .handshake_timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    server.serve(Arc::new(|n: u64| Some(n + 1))).unwrap();
    let client = TcpTransport::builder(NodeId(2), CLUSTER)
        .peer(SERVER, server.local_addr())
        .start()
        .unwrap();
    assert_eq!(round_trip(&client, 1), Ok(2));
    (server, client)
}

fn round_trip(client: &TcpTransport<u64, u64>, n: u64) -> Result<u64, CallError> {
    let (tx, rx) = bounded(1);
    client.call(SERVER, n, Box::new(move |outcome| tx.send(outcome).unwrap()));
    rx.recv_timeout(WAIT).expect("no outcome within 10 s")
}

/// The well-behaved peer still gets answers, and so does a newcomer.
fn assert_still_serving(server: &TcpTransport<u64, u64>, client: &TcpTransport<u64, u64>) {
    assert_eq!(round_trip(client, 10), Ok(11));
    let newcomer = TcpTransport::builder(NodeId(3), CLUSTER)
        .peer(SERVER, server.local_addr())
        .start()
        .unwrap();
    assert_eq!(round_trip(&newcomer, 20), Ok(21));
}

/// A hello as the wire format lays it out.
fn hello(magic: &[u8; 4], version: u32, cluster: u64, node: u64) -> Vec<u8> {
    let mut bytes = magic.to_vec();
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&cluster.to_le_bytes());
    bytes.extend_from_slice(&node.to_le_bytes());
    bytes
}

fn connect(server: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(server).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

/// A raw connection that has passed the handshake.
fn handshaken(server: SocketAddr) -> TcpStream {
    let mut stream = connect(server);
    stream.write_all(&hello(b"RAFT", PROTOCOL_VERSION, CLUSTER.0, 99)).unwrap();
    let mut theirs = [0; 24];
    stream.read_exact(&mut theirs).unwrap();
    assert_eq!(theirs.to_vec(), hello(b"RAFT", PROTOCOL_VERSION, CLUSTER.0, SERVER.0));
    stream
}

/// Reads until the server closes the connection (end of stream or reset).
fn assert_closed_by_server(mut stream: TcpStream) {
    let mut sink = [0; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                return;
            }
            Err(error) => panic!("the server did not close the connection: {error}"),
        }
    }
}

/// The warning for a connection from `stream`, naming `reason`.
fn wait_for_closing(stream: &TcpStream, reason: &str) -> String {
    let from = format!("closing connection from {}", stream.local_addr().unwrap());
    wait_for_warning(&[&from, reason])
}

fn frame(claimed_length: u32, kind: u8, id: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = claimed_length.to_le_bytes().to_vec();
    bytes.push(kind);
    bytes.extend_from_slice(&id.to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

// ---- the cases ----

#[test]
fn random_bytes_instead_of_a_handshake() {
    let (server, client) = serving_pair();
    let mut rng = StdRng::seed_from_u64(0x5EED);
    let mut garbage = vec![0u8; 4096];
    rng.fill(&mut garbage[..]);
    garbage[0] = b'X';
    let mut stream = connect(server.local_addr());
    let _ = stream.write_all(&garbage); // the server may close before it has read it all
    wait_for_closing(&stream, "bad magic");
    assert_closed_by_server(stream);
    assert_still_serving(&server, &client);
}

#[test]
fn random_bytes_after_the_handshake() {
    let (server, client) = serving_pair();
    let mut rng = StdRng::seed_from_u64(0xBAD);
    for _ in 0..8 {
        let mut garbage = vec![0u8; rng.gen_range(1..8192)];
        rng.fill(&mut garbage[..]);
        let mut stream = handshaken(server.local_addr());
        let _ = stream.write_all(&garbage);
        let _ = stream.shutdown(Shutdown::Write);
        assert_closed_by_server(stream);
    }
    assert_no_large_allocation();
    assert_still_serving(&server, &client);
}

#[test]
fn an_oversized_length_prefix_is_refused_without_allocating_it() {
    let (server, client) = serving_pair();
    let mut stream = handshaken(server.local_addr());
    stream.write_all(&0xFFFF_FFFFu32.to_le_bytes()).unwrap();
    wait_for_closing(&stream, "exceeds the maximum frame size");
    assert_closed_by_server(stream);
    assert_no_large_allocation();
    assert_still_serving(&server, &client);
}

#[test]
fn a_length_under_the_maximum_is_not_allocated_before_its_bytes_arrive() {
    let (server, client) = serving_pair();
    let mut stream = handshaken(server.local_addr());
    stream.write_all(&frame(48 << 20, 0, 7, &[1, 2, 3])).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    wait_for_closing(&stream, "in the middle of a frame");
    assert_closed_by_server(stream);
    assert_no_large_allocation();
    assert_still_serving(&server, &client);
}

#[test]
fn a_truncated_frame_then_close() {
    let (server, client) = serving_pair();
    let mut stream = handshaken(server.local_addr());
    let request = frame(9 + 1, 0, 5, &postcard::to_stdvec(&7u64).unwrap());
    stream.write_all(&request[..request.len() - 3]).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    wait_for_closing(&stream, "in the middle of a frame");
    assert_closed_by_server(stream);
    assert_still_serving(&server, &client);
}

#[test]
fn a_well_formed_request_on_a_raw_connection_is_answered() {
    let (server, _client) = serving_pair();
    let mut stream = handshaken(server.local_addr());
    stream.write_all(&frame(9 + 1, 0, 5, &postcard::to_stdvec(&7u64).unwrap())).unwrap();
    let mut reply = [0; 14];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply.to_vec(), frame(9 + 1, 1, 5, &postcard::to_stdvec(&8u64).unwrap()));
}

#[test]
fn a_frame_of_the_wrong_kind_or_an_unknown_kind() {
    let (server, client) = serving_pair();
    let mut stream = handshaken(server.local_addr());
    stream.write_all(&frame(9, 1, 5, &[])).unwrap();
    wait_for_closing(&stream, "unexpected Reply frame");
    assert_closed_by_server(stream);

    let mut stream = handshaken(server.local_addr());
    stream.write_all(&frame(9, 200, 5, &[])).unwrap();
    wait_for_closing(&stream, "unknown frame kind 200");
    assert_closed_by_server(stream);
    assert_still_serving(&server, &client);
}

#[test]
fn a_handshake_from_another_cluster_version_or_protocol() {
    let (server, client) = serving_pair();
    let cases: [(Vec<u8>, &str); 4] = [
        (hello(b"RAFT", PROTOCOL_VERSION, 999, 99), "belongs to cluster 999"),
        // A node of the previous version, whose entries have no kind.
        (hello(b"RAFT", 1, CLUSTER.0, 99), "peer speaks protocol version 1, this node speaks 2"),
        (hello(b"RAFT", 3, CLUSTER.0, 99), "peer speaks protocol version 3, this node speaks 2"),
        (hello(b"HTTP", PROTOCOL_VERSION, CLUSTER.0, 99), "bad magic"),
    ];
    for (bytes, reason) in cases {
        let mut stream = connect(server.local_addr());
        stream.write_all(&bytes).unwrap();
        wait_for_closing(&stream, reason);
        if bytes.starts_with(b"RAFT") {
            // A peer is answered before it is refused, so that it can tell why.
            let mut theirs = [0; 24];
            stream.read_exact(&mut theirs).unwrap();
            assert_eq!(theirs.to_vec(), hello(b"RAFT", PROTOCOL_VERSION, CLUSTER.0, SERVER.0));
        }
        assert_closed_by_server(stream);
    }
    assert_still_serving(&server, &client);
}

#[test]
fn a_silent_or_cut_short_handshake() {
    let (server, client) = serving_pair();
    let silent = connect(server.local_addr());
    wait_for_closing(&silent, "no complete handshake");
    assert_closed_by_server(silent);

    let mut cut = connect(server.local_addr());
    cut.write_all(&hello(b"RAFT", PROTOCOL_VERSION, CLUSTER.0, 99)[..10]).unwrap();
    cut.shutdown(Shutdown::Write).unwrap();
    wait_for_closing(&cut, "no complete handshake");
    assert_closed_by_server(cut);
    assert_still_serving(&server, &client);
}

#[test]
fn a_transport_of_another_cluster_is_refused_and_its_call_fails() {
    let (server, client) = serving_pair();
    let stranger: TcpTransport<u64, u64> =
        TcpTransport::builder(NodeId(7), ClusterId(CLUSTER.0 + 1))
            .peer(SERVER, server.local_addr())
            .start()
            .unwrap();
    assert_eq!(round_trip(&stranger, 1), Err(CallError::Unreachable(SERVER)));
    wait_for_warning(&["handshake with peer failed", "node=7", "belongs to cluster 42"]);
    assert_still_serving(&server, &client);
}

#[test]
fn a_peer_of_protocol_version_1_is_refused_and_the_call_fails() {
    log();
    // A node of the previous version: it answers any hello with its own.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let old_peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut theirs = [0; 24];
        stream.read_exact(&mut theirs).unwrap();
        stream.write_all(&hello(b"RAFT", 1, CLUSTER.0, SERVER.0)).unwrap();
        theirs
    });
    let caller: TcpTransport<u64, u64> =
        TcpTransport::builder(NodeId(8), CLUSTER).peer(SERVER, address).start().unwrap();
    assert_eq!(round_trip(&caller, 1), Err(CallError::Unreachable(SERVER)));
    wait_for_warning(&[
        "handshake with peer failed",
        "node=8",
        "peer speaks protocol version 1, this node speaks 2",
    ]);
    assert_eq!(old_peer.join().unwrap().to_vec(), hello(b"RAFT", PROTOCOL_VERSION, CLUSTER.0, 8));
}
