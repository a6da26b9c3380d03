//! [`CallError`] and [`TransportError`]: why a call or a transport failed.

use raft_log::NodeId;

/// Why one call produced no reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The peer could not be reached: unknown, down, cut off, refused the
    /// connection, or the connection broke while the call was in flight (the
    /// peer may then have handled the request).
    #[error("peer {0} is unreachable")]
    Unreachable(NodeId),
    /// No reply came before the call's deadline.
    #[error("call to peer {0} timed out")]
    TimedOut(NodeId),
    /// The peer received the request but sent no answer (it is stopping).
    #[error("peer {0} did not answer")]
    Unavailable(NodeId),
    /// This transport was shut down before the reply came.
    #[error("the transport is shut down")]
    Shutdown,
    /// The reply arrived but could not be decoded.
    #[error("undecodable reply from peer {peer}: {reason}")]
    Undecodable {
        /// The peer that sent it.
        peer: NodeId,
        /// What the decoder said.
        reason: String,
    },
    /// The peer received the request but could not handle it: it could not
    /// decode the request, or could not send its reply (the reply did not
    /// encode or exceeded the maximum frame size).
    #[error("peer {peer} rejected the request: {reason}")]
    Rejected {
        /// The peer that rejected it.
        peer: NodeId,
        /// What the peer said.
        reason: String,
    },
    /// The request could not be encoded or exceeds the maximum frame size.
    #[error("request to peer {peer} could not be sent: {reason}")]
    Unsendable {
        /// The peer it was for.
        peer: NodeId,
        /// Why.
        reason: String,
    },
}

/// Why a transport could not start or serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A handler is installed already.
    #[error("a handler is already serving")]
    AlreadyServing,
    /// The transport was shut down.
    #[error("the transport is shut down")]
    Shutdown,
    /// An address could not be bound or a socket could not be set up.
    #[error("{op}")]
    Io {
        /// What was being done.
        op: String,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("invalid transport configuration: {0}")]
    InvalidConfig(String),
}
