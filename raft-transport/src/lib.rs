//! Request/response RPC between numbered peers: the [`Transport`] trait, with an
//! in-process channel backend and a TCP backend.
//!
//! A node calls a peer with [`Transport::call`], which returns at once; the
//! reply, or a typed [`CallError`] saying why there is none, reaches the
//! callback exactly once, later, never inside `call`. A node serves its peers
//! by installing a [`Handler`] with [`Transport::serve`]: it gets each request
//! with a [`Responder`], and answers through it at once or later, from any
//! thread, so a request waiting on the node's disk holds no transport thread.
//! The real backends hand the requests from one caller to the handler in the
//! order they were sent. The trait's documentation is the full contract:
//! threads, blocking, ordering, shutdown.
//!
//! Backends:
//! - [`ChannelTransport`], made from a shared [`ChannelNetwork`]: in process,
//!   requests passed by value, nodes can be cut off and brought back. For
//!   tests and single-process clusters.
//! - [`TcpTransport`], built with [`TcpTransport::builder`]: std threads and
//!   blocking sockets, one persistent connection per peer carrying many calls
//!   at once, length-prefixed postcard frames with a maximum size, a handshake
//!   that keeps nodes of other clusters and protocol versions out, reconnection
//!   with backoff. Malformed input closes the one connection it came on.
//!
//! Both pass one conformance suite (`tests/conformance.rs`), so code tested
//! over channels behaves the same over TCP. Their shared settings are in
//! [`TransportConfig`]; TCP's own in [`TcpConfig`].
//!
//! Not here: anything about Raft. A transport carries pairs of serde types
//! ([`Message`]) and knows nothing of what they mean.
//!
//! ```
//! use std::sync::Arc;
//!
//! use raft_transport::{CallError, ChannelNetwork, NodeId, Transport};
//!
//! let network = ChannelNetwork::<String, usize>::new();
//! let one = network.transport(NodeId(1))?;
//! let two = network.transport(NodeId(2))?;
//! two.serve(Arc::new(|word: String| Some(word.len())))?;
//!
//! let (tx, rx) = std::sync::mpsc::channel();
//! one.call(NodeId(2), "hello".to_string(), Box::new(move |reply| tx.send(reply).unwrap()));
//! assert_eq!(rx.recv()?, Ok(5));
//!
//! network.disconnect(NodeId(2));
//! let (tx, rx) = std::sync::mpsc::channel();
//! one.call(NodeId(2), "again".to_string(), Box::new(move |reply| tx.send(reply).unwrap()));
//! assert_eq!(rx.recv()?, Err(CallError::Unreachable(NodeId(2))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod channel;
mod config;
mod dispatch;
mod error;
mod pending;
mod responder;
mod tcp;
mod threads;
mod transport;

pub use crate::channel::{ChannelNetwork, ChannelTransport};
pub use crate::config::TransportConfig;
pub use crate::error::{CallError, TransportError};
pub use crate::responder::Responder;
pub use crate::tcp::{ClusterId, TcpConfig, TcpTransport, TcpTransportBuilder};
pub use crate::transport::{Handler, Message, ReplyCallback, Transport};
pub use raft_log::NodeId;
