//! [`TcpTransport`]: the TCP backend, on std threads and blocking sockets.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use raft_log::NodeId;

use crate::dispatch::Dispatcher;
use crate::pending::PendingCalls;
use crate::{Handler, Message, ReplyCallback, Transport, TransportError};

mod backoff;
mod client;
mod config;
mod connection;
mod frame;
mod handshake;
mod server;

pub use self::config::TcpConfig;
pub(crate) use self::frame::FrameKind;
pub use self::handshake::ClusterId;

/// One node's end of a TCP network between numbered peers.
///
/// Built with [`TcpTransport::builder`]. It listens on one address (loopback
/// unless told otherwise) and keeps one persistent connection to each peer it
/// calls, opened on the first call and reopened after it breaks.
///
/// # Behaviour
/// - **Calls** are encoded on the calling thread and queued to the peer's link;
///   many can be in flight on one connection, each with its own request id.
///   The callee's reader hands them to its handler one at a time, in the order
///   they were sent, and the callee answers each when its responder is
///   answered, so replies overtake each other. A call fails with
///   [`CallError::Unreachable`](crate::CallError::Unreachable) without waiting
///   for its deadline when the peer has no known address, when connecting to it
///   fails or is refused at the handshake, while the link backs off after such
///   a failure ([`TcpConfig::reconnect_backoff`]), or when the connection breaks
///   with the call in flight.
/// - **Reconnection.** A call to a peer whose connection is down makes the link
///   try to connect again, at most once per backoff period.
/// - **Handshake.** Both ends send a hello carrying a magic, the protocol
///   version, the cluster id and their node id. A peer of another version or
///   cluster is refused: the connection is closed, the refusal logged as a
///   warning, and the caller's call fails.
/// - **Malformed input** (bytes that are no handshake, a length prefix over
///   [`TcpConfig::max_frame_size`], a frame cut short, an unknown frame kind)
///   closes that one connection with a warning; nothing is allocated for what a
///   length prefix merely claims, and every other connection goes on.
/// - **Message size.** A request whose encoding is over
///   [`max_message_size`](Transport::max_message_size) bytes
///   ([`TcpConfig::max_frame_size`] less 9 bytes of frame header) fails with
///   [`CallError::Unsendable`](crate::CallError::Unsendable) before anything is
///   sent; a reply over it, with
///   [`CallError::Rejected`](crate::CallError::Rejected).
/// - A handler that refuses a request (or drops its responder) sends an
///   explicit "no answer" frame: the caller gets
///   [`CallError::Unavailable`](crate::CallError::Unavailable) rather than a
///   timeout.
///
/// # Threads
/// One reaper thread for deadlines and one accept thread, from the start; per
/// peer called, a link thread (connects and writes) and a reader thread (reads
/// replies and runs the callbacks); per accepted connection, a reader thread
/// (reads requests and runs the handler on each, in order) and a writer thread
/// (writes the answers, whichever thread gave them). A handler's answer is
/// encoded on the thread that answers its responder.
/// [`shutdown`](Transport::shutdown) closes every socket and joins every one of
/// these threads but the one it runs on, if any, so it waits for a `handle`
/// call in progress to return, and may wait for a connection attempt in
/// progress, at most [`TcpConfig::connect_timeout`]. It does not wait for
/// responders still held; their answers go nowhere. (It wakes the accept
/// thread by connecting to its own listener; should even that fail, it logs a
/// warning and leaves that one thread blocked in `accept`.) Dropping the
/// transport shuts it down.
///
/// # Wire format
/// Each connection opens with a 24-byte hello from each side: the magic
/// `b"RAFT"`, the protocol version (`u32`, little-endian, currently 2), the
/// cluster id (`u64` LE) and the sender's node id (`u64` LE). The caller sends
/// first; the callee answers with its own hello, then closes the connection if
/// the two do not match. Then frames follow, each a `u32` LE length of the rest
/// (at most the maximum frame size), a kind byte (0 request, 1 reply, 2 no
/// answer, 3 rejected), the request id (`u64` LE) and the payload: the postcard
/// encoding of the request or reply, nothing, or the rejection's reason as a
/// postcard string.
///
/// # Example
/// ```
/// use std::sync::Arc;
///
/// use raft_transport::{ClusterId, NodeId, TcpTransport, Transport};
///
/// let one: TcpTransport<u32, u32> = TcpTransport::builder(NodeId(1), ClusterId(7)).start()?;
/// let two: TcpTransport<u32, u32> = TcpTransport::builder(NodeId(2), ClusterId(7)).start()?;
/// one.set_peer(NodeId(2), two.local_addr());
/// two.serve(Arc::new(|n: u32| Some(n * 2)))?;
///
/// let (tx, rx) = std::sync::mpsc::channel();
/// one.call(NodeId(2), 21, Box::new(move |reply| tx.send(reply).unwrap()));
/// assert_eq!(rx.recv()?, Ok(42));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TcpTransport<Req, Resp> {
    shared: Arc<Shared<Req, Resp>>,
}

/// Builds and starts a [`TcpTransport`].
pub struct TcpTransportBuilder<Req, Resp> {
    local_id: NodeId,
    cluster: ClusterId,
    listen: SocketAddr,
    peers: HashMap<NodeId, SocketAddr>,
    config: TcpConfig,
    types: PhantomData<fn(Req) -> Resp>,
}

/// What the transport handle and all its threads share.
struct Shared<Req, Resp> {
    local_id: NodeId,
    cluster: ClusterId,
    config: TcpConfig,
    local_addr: SocketAddr,
    /// Set once, by shutdown.
    closed: AtomicBool,
    pending: PendingCalls<Resp>,
    dispatcher: Dispatcher<Req, Resp>,
    links: client::Links,
    server: server::Server,
}

impl<Req: Message, Resp: Message> TcpTransport<Req, Resp> {
    /// Starts building node `local_id`'s transport in cluster `cluster`. By
    /// default it listens on 127.0.0.1 on a port the system picks
    /// ([`local_addr`](Self::local_addr) tells which), knows no peers and uses
    /// [`TcpConfig::default`].
    pub fn builder(local_id: NodeId, cluster: ClusterId) -> TcpTransportBuilder<Req, Resp> {
        TcpTransportBuilder {
            local_id,
            cluster,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            peers: HashMap::new(),
            config: TcpConfig::default(),
            types: PhantomData,
        }
    }

    /// The address this transport listens on, with the actual port.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Where peer `id` is reached from now on: adds it, or moves it. Moving a
    /// peer closes the connection to its old address (failing the calls in
    /// flight on it with [`CallError::Unreachable`](crate::CallError::Unreachable))
    /// and lets the next call connect at once, without waiting out a backoff.
    pub fn set_peer(&self, id: NodeId, addr: SocketAddr) {
        self.shared.links.set_address(id, addr);
    }

    /// The address peer `id` is reached at, if known.
    pub fn peer(&self, id: NodeId) -> Option<SocketAddr> {
        self.shared.links.address(id)
    }

    /// The settings this transport runs with.
    pub fn config(&self) -> &TcpConfig {
        &self.shared.config
    }
}

impl<Req: Message, Resp: Message> Transport<Req, Resp> for TcpTransport<Req, Resp> {
    fn local_id(&self) -> NodeId {
        self.shared.local_id
    }

    fn call(&self, to: NodeId, request: Req, on_reply: ReplyCallback<Resp>) {
        client::call(&self.shared, to, request, on_reply);
    }

    fn serve(&self, handler: Arc<dyn Handler<Req, Resp>>) -> Result<(), TransportError> {
        self.shared.dispatcher.serve(handler)
    }

    /// [`TcpConfig::max_frame_size`] less the 9 bytes of frame header (kind and
    /// request id) that the length counts besides the payload.
    fn max_message_size(&self) -> Option<u64> {
        Some(frame::max_payload_size(self.shared.config.max_frame_size))
    }

    fn shutdown(&self) {
        self.shared.stop();
    }
}

impl<Req, Resp> Shared<Req, Resp> {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Fails the pending calls, stops accepting, closes every connection and
    /// joins the threads (see [`TcpTransport`]'s "Threads"). Idempotent; a
    /// second caller returns at once.
    fn stop(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::debug!(node = %self.local_id, "shutting the tcp transport down");
        self.pending.close();
        self.server.stop(self.local_addr);
        self.links.stop();
        self.dispatcher.close();
    }
}

impl<Req, Resp> Drop for TcpTransport<Req, Resp> {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

impl<Req: Message, Resp: Message> TcpTransportBuilder<Req, Resp> {
    /// Listens on `addr` instead of 127.0.0.1 on a system-picked port. Give
    /// port 0 to let the system pick one on another address.
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Reaches peer `id` at `addr` (more can be added after start with
    /// [`TcpTransport::set_peer`]).
    #[must_use]
    pub fn peer(mut self, id: NodeId, addr: SocketAddr) -> Self {
        self.peers.insert(id, addr);
        self
    }

    /// Replaces every setting at once.
    #[must_use]
    pub fn config(mut self, config: TcpConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets [`TransportConfig::call_timeout`](crate::TransportConfig::call_timeout).
    #[must_use]
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.config.transport.call_timeout = timeout;
        self
    }

    /// Sets [`TcpConfig::max_frame_size`].
    #[must_use]
    pub fn max_frame_size(mut self, bytes: u32) -> Self {
        self.config.max_frame_size = bytes;
        self
    }

    /// Sets [`TcpConfig::connect_timeout`].
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Sets [`TcpConfig::handshake_timeout`].
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// Sets [`TcpConfig::reconnect_backoff`] and
    /// [`TcpConfig::max_reconnect_backoff`].
    #[must_use]
    pub fn reconnect_backoff(mut self, first: Duration, most: Duration) -> Self {
        self.config.reconnect_backoff = first;
        self.config.max_reconnect_backoff = most;
        self
    }

    /// Binds the listening socket and starts the transport's threads. It can
    /// call at once; it answers calls once it
    /// [serves](crate::Transport::serve) (before that, callers get
    /// [`CallError::Unavailable`](crate::CallError::Unavailable)).
    ///
    /// # Errors
    /// [`TransportError::InvalidConfig`] if the settings are out of range,
    /// [`TransportError::Io`] if the address cannot be bound or a thread cannot
    /// be started.
    pub fn start(self) -> Result<TcpTransport<Req, Resp>, TransportError> {
        self.config.validate()?;
        let io_error = |op: String| move |source| TransportError::Io { op, source };
        let listener =
            TcpListener::bind(self.listen).map_err(io_error(format!("binding {}", self.listen)))?;
        let local_addr =
            listener.local_addr().map_err(io_error("reading the bound address".into()))?;
        let node = self.local_id;
        let pending = PendingCalls::start(
            format!("raft-tcp-{node}-reaper"),
            self.config.transport.call_timeout,
        )
        .map_err(io_error("starting the reaper thread".into()))?;
        let shared = Arc::new(Shared {
            local_id: node,
            cluster: self.cluster,
            local_addr,
            closed: AtomicBool::new(false),
            pending,
            dispatcher: Dispatcher::new(),
            links: client::Links::new(self.peers),
            server: server::Server::new(),
            config: self.config,
        });
        let transport = TcpTransport { shared };
        server::start(&transport.shared, listener)
            .map_err(io_error("starting the accept thread".into()))?;
        tracing::debug!(%node, cluster = %transport.shared.cluster, %local_addr, "tcp transport started");
        Ok(transport)
    }
}

impl<Req, Resp> fmt::Debug for TcpTransport<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpTransport")
            .field("local_id", &self.shared.local_id)
            .field("cluster", &self.shared.cluster)
            .field("local_addr", &self.shared.local_addr)
            .field("closed", &self.shared.is_closed())
            .field("pending", &self.shared.pending)
            .finish_non_exhaustive()
    }
}

impl<Req, Resp> fmt::Debug for TcpTransportBuilder<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpTransportBuilder")
            .field("local_id", &self.local_id)
            .field("cluster", &self.cluster)
            .field("listen", &self.listen)
            .field("peers", &self.peers)
            .field("config", &self.config)
            .finish()
    }
}
