//! The calling side of a [`TcpTransport`](crate::TcpTransport): one link per
//! peer, each keeping one persistent connection and reconnecting with backoff.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, unbounded};
use raft_log::NodeId;

use super::Shared;
use super::backoff::Backoff;
use super::connection::{Frame, FrameReader, FrameWriter, log_end};
use super::frame::{self, FrameKind};
use super::handshake::Hello;
use crate::error::{Report, WireError};
use crate::pending::CallId;
use crate::threads::{self, join_unless_current, lock};
use crate::{CallError, Message, ReplyCallback};

/// The peers' addresses and the links to those called so far.
pub(super) struct Links {
    state: Mutex<LinksState>,
}

struct LinksState {
    addresses: HashMap<NodeId, SocketAddr>,
    links: HashMap<NodeId, Link>,
    /// Set by [`Links::stop`]; no link starts after it.
    closed: bool,
}

/// The handle on one peer's link thread.
struct Link {
    commands: Sender<Command>,
    slot: Arc<Mutex<LinkSlot>>,
    thread: JoinHandle<()>,
}

/// What a link thread shares with shutdown.
#[derive(Default)]
struct LinkSlot {
    /// The socket being opened or in use, so that shutdown can break a
    /// handshake or a write that is blocked on the peer.
    socket: Option<TcpStream>,
    /// The reader threads of the link's closed connections, not yet joined.
    /// The link thread never joins a reader itself: a reader may be running a
    /// callback that shuts the transport down, which waits for the link.
    readers: Vec<JoinHandle<()>>,
}

/// What a link thread is asked to do, in order.
enum Command {
    /// Send a request frame for call `call`.
    Send { call: CallId, frame: Vec<u8> },
    /// The peer moved: drop the connection and forget the backoff.
    Redial,
    /// The transport is shutting down.
    Close,
}

/// An open connection to a peer, owned by its link thread.
struct Connection {
    writer: FrameWriter<TcpStream>,
    stream: TcpStream,
    /// Set by the reader when the connection ends.
    broken: Arc<AtomicBool>,
    reader: JoinHandle<()>,
}

impl Links {
    pub(super) fn new(addresses: HashMap<NodeId, SocketAddr>) -> Links {
        Links { state: Mutex::new(LinksState { addresses, links: HashMap::new(), closed: false }) }
    }

    pub(super) fn address(&self, peer: NodeId) -> Option<SocketAddr> {
        self.lock().addresses.get(&peer).copied()
    }

    /// Records `peer`'s address; if it moved, tells its link to redial.
    pub(super) fn set_address(&self, peer: NodeId, address: SocketAddr) {
        let mut state = self.lock();
        if state.addresses.insert(peer, address) != Some(address)
            && let Some(link) = state.links.get(&peer)
        {
            let _ = link.commands.send(Command::Redial);
        }
    }

    /// Ends every link: closes its connection and joins its threads.
    pub(super) fn stop(&self) {
        let links: Vec<Link> = {
            let mut state = self.lock();
            state.closed = true;
            state.links.drain().map(|(_, link)| link).collect()
        };
        for link in &links {
            let _ = link.commands.send(Command::Close);
            if let Some(socket) = &lock(&link.slot).socket {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
        for link in links {
            join_unless_current(link.thread);
            for reader in std::mem::take(&mut lock(&link.slot).readers) {
                join_unless_current(reader);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, LinksState> {
        lock(&self.state)
    }
}

/// Makes a call: registers it, encodes it and queues it on the peer's link,
/// starting the link on the first call to the peer.
pub(super) fn call<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    to: NodeId,
    request: Req,
    on_reply: ReplyCallback<Resp>,
) {
    let Some(call) = shared.pending.register(to, on_reply) else {
        return;
    };
    let frame =
        match frame::encode(FrameKind::Request, call, &request, shared.config.max_frame_size) {
            Ok(frame) => frame,
            Err(error) => {
                let reason = Report(&error).to_string();
                return shared.pending.fail(call, CallError::Unsendable { peer: to, reason });
            }
        };
    let mut state = shared.links.lock();
    if state.closed {
        // Shutdown has failed the call already.
        return;
    }
    if !state.addresses.contains_key(&to) {
        return shared.pending.fail(call, CallError::Unreachable(to));
    }
    let link = match state.links.entry(to) {
        Entry::Occupied(link) => link.into_mut(),
        Entry::Vacant(vacant) => match start_link(shared, to) {
            Ok(link) => vacant.insert(link),
            Err(error) => {
                tracing::error!(node = %shared.local_id, peer = %to, %error, "could not start a link thread");
                return shared.pending.fail(call, CallError::Unreachable(to));
            }
        },
    };
    if link.commands.send(Command::Send { call, frame }).is_err() {
        shared.pending.fail(call, CallError::Unreachable(to));
    }
}

fn start_link<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    peer: NodeId,
) -> std::io::Result<Link> {
    let (commands, queue) = unbounded();
    let slot = Arc::new(Mutex::new(LinkSlot::default()));
    let thread = {
        let shared = Arc::clone(shared);
        let slot = Arc::clone(&slot);
        let name = format!("raft-tcp-{}-link-{peer}", shared.local_id);
        threads::spawn(name, move || run_link(&shared, peer, &queue, &slot))?
    };
    Ok(Link { commands, slot, thread })
}

/// A link thread: sends each queued request on the peer's connection,
/// connecting first if there is none (unless backing off, in which case the
/// call fails at once).
fn run_link<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    peer: NodeId,
    queue: &Receiver<Command>,
    slot: &Mutex<LinkSlot>,
) {
    let mut backoff =
        Backoff::new(shared.config.reconnect_backoff, shared.config.max_reconnect_backoff);
    let mut connection: Option<Connection> = None;
    while let Ok(command) = queue.recv() {
        let (call, frame) = match command {
            Command::Send { call, frame } => (call, frame),
            Command::Redial => {
                backoff.reset();
                close(connection.take(), slot);
                continue;
            }
            Command::Close => break,
        };
        if connection.as_ref().is_some_and(|live| live.broken.load(Ordering::SeqCst)) {
            close(connection.take(), slot);
        }
        let live = match connection {
            Some(ref mut live) => live,
            None if !backoff.may_try(Instant::now()) => {
                shared.pending.fail(call, CallError::Unreachable(peer));
                continue;
            }
            None => match connect(shared, peer, slot) {
                Ok(new) => {
                    backoff.reset();
                    connection.insert(new)
                }
                Err(error) => {
                    backoff.failed(Instant::now());
                    let node = shared.local_id;
                    if matches!(
                        error,
                        WireError::Io(_) | WireError::NoAddress(_) | WireError::Closed
                    ) {
                        tracing::debug!(%node, %peer, error = %Report(&error), "could not connect");
                    } else {
                        tracing::warn!(%node, %peer, error = %Report(&error), "handshake with peer failed");
                    }
                    shared.pending.fail(call, CallError::Unreachable(peer));
                    continue;
                }
            },
        };
        if let Err(error) = live.writer.write(&frame, !queue.is_empty()) {
            tracing::debug!(node = %shared.local_id, %peer, %error, "sending a request failed");
            // The reader fails the calls in flight, this one included.
            close(connection.take(), slot);
        }
    }
    close(connection.take(), slot);
}

/// Closes `connection`, if any; its reader then ends, failing the calls still
/// in flight on it, and is left in `slot` to be joined.
fn close(connection: Option<Connection>, slot: &Mutex<LinkSlot>) {
    let mut slot = lock(slot);
    slot.socket = None;
    if let Some(connection) = connection {
        let _ = connection.stream.shutdown(Shutdown::Both);
        let (finished, running) = std::mem::take(&mut slot.readers)
            .into_iter()
            .partition::<Vec<_>, _>(|reader| reader.is_finished());
        slot.readers = running;
        slot.readers.push(connection.reader);
        for reader in finished {
            join_unless_current(reader);
        }
    }
}

/// Connects to `peer`, exchanges hellos and starts the connection's reader.
fn connect<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    peer: NodeId,
    slot: &Mutex<LinkSlot>,
) -> Result<Connection, WireError> {
    let address = shared.links.address(peer).ok_or(WireError::NoAddress(peer))?;
    let mut stream = TcpStream::connect_timeout(&address, shared.config.connect_timeout)?;
    lock(slot).socket = Some(stream.try_clone()?);
    // Shutdown sets `closed` before it looks at `socket`: either it saw this
    // socket and shut it down, or this sees `closed`.
    if shared.is_closed() {
        return Err(WireError::Closed);
    }
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(shared.config.handshake_timeout))?;
    let ours = Hello::ours(shared.cluster, shared.local_id);
    stream.write_all(&ours.to_bytes())?;
    let theirs = Hello::read_from(&mut stream)?;
    ours.accept(&theirs)?;
    if theirs.node != peer {
        return Err(WireError::WrongNode { expected: peer, found: theirs.node });
    }
    stream.set_read_timeout(None)?;
    tracing::debug!(node = %shared.local_id, %peer, %address, "connected");

    let broken = Arc::new(AtomicBool::new(false));
    let reader = {
        let (shared, stream, broken) =
            (Arc::clone(shared), stream.try_clone()?, Arc::clone(&broken));
        let name = format!("raft-tcp-{}-reply-{peer}", shared.local_id);
        threads::spawn(name, move || read_replies(&shared, peer, &stream, &broken))?
    };
    Ok(Connection { writer: FrameWriter::new(stream.try_clone()?), stream, broken, reader })
}

/// A connection's reader: completes calls with the answers that come back;
/// when the connection ends, fails the calls still in flight to the peer.
fn read_replies<Req, Resp: Message>(
    shared: &Shared<Req, Resp>,
    peer: NodeId,
    stream: &TcpStream,
    broken: &AtomicBool,
) {
    let ended = FrameReader::new(stream, shared.config.max_frame_size)
        .read_all(|frame| deliver(shared, peer, frame));
    // Set before failing the calls: a call registered after this is sent on a
    // new connection, since the link sees `broken` first.
    broken.store(true, Ordering::SeqCst);
    let _ = stream.shutdown(Shutdown::Both);
    log_end(shared.is_closed(), shared.local_id, &format!("connection to peer {peer}"), &ended);
    shared.pending.fail_unreachable(|to| to == peer);
}

/// Ends the call an answer frame is for.
fn deliver<Req, Resp: Message>(
    shared: &Shared<Req, Resp>,
    peer: NodeId,
    frame: Frame<'_>,
) -> Result<(), WireError> {
    let outcome = match frame.kind {
        FrameKind::Reply => postcard::from_bytes::<Resp>(frame.payload)
            .map_err(|error| CallError::Undecodable { peer, reason: error.to_string() }),
        FrameKind::NoAnswer => Err(CallError::Unavailable(peer)),
        FrameKind::Rejected => {
            let reason = postcard::from_bytes::<String>(frame.payload)
                .unwrap_or_else(|error| format!("(reason undecodable: {error})"));
            Err(CallError::Rejected { peer, reason })
        }
        FrameKind::Request => return Err(WireError::UnexpectedFrame(frame.kind)),
    };
    if !shared.pending.complete(frame.id, outcome) {
        tracing::trace!(node = %shared.local_id, %peer, call = frame.id, "answer to a call already ended");
    }
    Ok(())
}
