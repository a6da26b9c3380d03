//! The serving side of a [`TcpTransport`](crate::TcpTransport): the accept
//! thread and, per accepted connection, a reader thread that runs the handler
//! and a writer thread.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};
use raft_log::NodeId;
use serde::Serialize;

use super::Shared;
use super::connection::{Frame, FrameReader, FrameWriter, log_end};
use super::frame::{self, FrameKind};
use super::handshake::Hello;
use crate::error::{Report, WireError};
use crate::threads::{self, join_unless_current, lock};
use crate::{Message, Responder};

/// How long the accept thread pauses after `accept` itself fails (out of file
/// descriptors, say), so that it does not spin.
const ACCEPT_FAILURE_PAUSE: Duration = Duration::from_millis(50);
/// How long shutdown tries to connect to its own listener to wake the accept
/// thread.
const WAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// The accept thread and the connections it accepted.
pub(super) struct Server {
    state: Mutex<ServerState>,
}

struct ServerState {
    acceptor: Option<JoinHandle<()>>,
    /// Accepted connections; finished ones are joined as new ones come.
    connections: Vec<Inbound>,
    /// Set by [`Server::stop`]; no connection is taken on after it.
    closed: bool,
}

/// One accepted connection: a clone of its socket, to shut it down, and the
/// thread that serves it.
struct Inbound {
    stream: TcpStream,
    thread: JoinHandle<()>,
}

/// What a connection's writer thread is given.
enum Outgoing {
    /// An encoded answer frame.
    Frame(Vec<u8>),
    /// The connection is closing.
    Close,
}

impl Server {
    pub(super) fn new() -> Server {
        Server {
            state: Mutex::new(ServerState {
                acceptor: None,
                connections: Vec::new(),
                closed: false,
            }),
        }
    }

    /// Stops accepting (waking the accept thread with a connection to
    /// `local_addr`), shuts every accepted connection down and joins their
    /// threads.
    pub(super) fn stop(&self, local_addr: SocketAddr) {
        let acceptor = {
            let mut state = self.lock();
            state.closed = true;
            state.acceptor.take()
        };
        if let Some(acceptor) = acceptor {
            match TcpStream::connect_timeout(&wake_address(local_addr), WAKE_TIMEOUT) {
                Ok(_) => join_unless_current(acceptor),
                Err(error) => {
                    tracing::warn!(%local_addr, %error, "could not wake the accept thread; leaving it");
                }
            }
        }
        let connections = std::mem::take(&mut self.lock().connections);
        for connection in &connections {
            let _ = connection.stream.shutdown(Shutdown::Both);
        }
        for connection in connections {
            join_unless_current(connection.thread);
        }
    }

    fn lock(&self) -> MutexGuard<'_, ServerState> {
        lock(&self.state)
    }
}

/// Where to connect to reach a listener bound to `local_addr`.
fn wake_address(local_addr: SocketAddr) -> SocketAddr {
    let ip = match local_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, local_addr.port())
}

/// Starts the accept thread on `listener`.
pub(super) fn start<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    listener: TcpListener,
) -> std::io::Result<()> {
    let acceptor = {
        let shared = Arc::clone(shared);
        threads::spawn(format!("raft-tcp-{}-accept", shared.local_id), move || {
            accept(&shared, &listener)
        })?
    };
    shared.server.lock().acceptor = Some(acceptor);
    Ok(())
}

/// The accept thread: takes connections on and gives each a thread.
fn accept<Req: Message, Resp: Message>(shared: &Arc<Shared<Req, Resp>>, listener: &TcpListener) {
    loop {
        let (stream, remote) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                if shared.server.lock().closed {
                    return;
                }
                tracing::warn!(node = %shared.local_id, %error, "accepting a connection failed");
                thread::sleep(ACCEPT_FAILURE_PAUSE);
                continue;
            }
        };
        let mut state = shared.server.lock();
        if state.closed {
            return;
        }
        let (finished, live) = std::mem::take(&mut state.connections)
            .into_iter()
            .partition::<Vec<_>, _>(|connection| connection.thread.is_finished());
        state.connections = live;
        for connection in finished {
            join_unless_current(connection.thread);
        }
        let started = stream.try_clone().and_then(|clone| {
            let shared = Arc::clone(shared);
            let name = format!("raft-tcp-{}-serve", shared.local_id);
            let thread = threads::spawn(name, move || serve_connection(&shared, &stream, remote))?;
            Ok(Inbound { stream: clone, thread })
        });
        match started {
            Ok(connection) => state.connections.push(connection),
            Err(error) => {
                tracing::warn!(node = %shared.local_id, %remote, %error, "could not serve a connection")
            }
        }
    }
}

/// An accepted connection's thread: handshake, then requests until it ends.
fn serve_connection<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    stream: &TcpStream,
    remote: SocketAddr,
) {
    let ended = handshake(shared, stream).and_then(|caller| serve_requests(shared, stream, caller));
    let _ = stream.shutdown(Shutdown::Both);
    log_end(shared.is_closed(), shared.local_id, &format!("connection from {remote}"), &ended);
}

/// Reads the caller's hello, answers with ours, and refuses a caller of
/// another version or cluster (after answering, so that it can tell why).
fn handshake<Req, Resp>(
    shared: &Shared<Req, Resp>,
    mut stream: &TcpStream,
) -> Result<NodeId, WireError> {
    stream.set_read_timeout(Some(shared.config.handshake_timeout))?;
    let theirs = Hello::read_from(&mut stream)?;
    let ours = Hello::ours(shared.cluster, shared.local_id);
    stream.write_all(&ours.to_bytes())?;
    ours.accept(&theirs)?;
    stream.set_read_timeout(None)?;
    stream.set_nodelay(true)?;
    Ok(theirs.node)
}

/// Hands each request to the handler, in order; a writer thread sends the
/// answers.
fn serve_requests<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    stream: &TcpStream,
    caller: NodeId,
) -> Result<(), WireError> {
    tracing::debug!(node = %shared.local_id, %caller, "serving a connection");
    let (answers, queue) = unbounded();
    let writer = {
        let stream = stream.try_clone()?;
        let name = format!("raft-tcp-{}-answer-{caller}", shared.local_id);
        threads::spawn(name, move || write_answers(&stream, &queue))?
    };
    let ended = FrameReader::new(stream, shared.config.max_frame_size)
        .read_all(|frame| handle_request(shared, frame, &answers));
    let _ = answers.send(Outgoing::Close);
    // The writer may be blocked on a peer that does not read.
    let _ = stream.shutdown(Shutdown::Both);
    join_unless_current(writer);
    ended
}

/// Hands one request to the handler on this reader thread, so that the
/// requests on a connection reach it in the order they were sent; the answer
/// goes to the writer whenever the responder is answered. A request that does
/// not decode is rejected, and the connection goes on: the framing is intact.
fn handle_request<Req: Message, Resp: Message>(
    shared: &Arc<Shared<Req, Resp>>,
    frame: Frame<'_>,
    answers: &Sender<Outgoing>,
) -> Result<(), WireError> {
    if frame.kind != FrameKind::Request {
        return Err(WireError::UnexpectedFrame(frame.kind));
    }
    let (id, max_frame_size) = (frame.id, shared.config.max_frame_size);
    let request = match postcard::from_bytes::<Req>(frame.payload) {
        Ok(request) => request,
        Err(error) => {
            tracing::warn!(node = %shared.local_id, %error, "rejecting a request that does not decode");
            let reason = format!("could not decode the request: {error}");
            send(answers, encode_answer(FrameKind::Rejected, id, &reason, max_frame_size));
            return Ok(());
        }
    };
    let writer = answers.clone();
    let responder = Responder::new(move |reply: Option<Resp>| {
        let frame = match reply {
            Some(reply) => encode_answer(FrameKind::Reply, id, &reply, max_frame_size),
            None => encode_answer(FrameKind::NoAnswer, id, &(), max_frame_size),
        };
        send(&writer, frame);
    });
    shared.dispatcher.dispatch(request, responder);
    Ok(())
}

/// Encodes an answer; if it cannot be sent as it is (it does not encode or is
/// over the maximum frame size), a rejection saying why.
fn encode_answer(
    kind: FrameKind,
    id: u64,
    payload: &impl Serialize,
    max_frame_size: u32,
) -> Option<Vec<u8>> {
    frame::encode(kind, id, payload, max_frame_size)
        .or_else(|error| {
            let reason = format!("could not send the reply: {}", Report(&error));
            tracing::warn!(call = id, %reason, "rejecting a call");
            frame::encode(FrameKind::Rejected, id, &reason, max_frame_size)
        })
        .inspect_err(|error| tracing::error!(call = id, error = %Report(error), "no answer could be encoded"))
        .ok()
}

fn send(answers: &Sender<Outgoing>, frame: Option<Vec<u8>>) {
    if let Some(frame) = frame {
        // The writer is gone only once the connection closed; the answer has
        // nowhere to go.
        let _ = answers.send(Outgoing::Frame(frame));
    }
}

/// A connection's writer thread: sends answers until the connection closes.
fn write_answers(stream: &TcpStream, queue: &Receiver<Outgoing>) {
    let mut writer = FrameWriter::new(stream);
    while let Ok(Outgoing::Frame(frame)) = queue.recv() {
        if let Err(error) = writer.write(&frame, !queue.is_empty()) {
            tracing::debug!(%error, "sending an answer failed");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}
