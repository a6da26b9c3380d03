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

/// Why one TCP connection was closed: what is logged when it happens. Never
/// leaves the crate; callers see [`CallError`] and [`TransportError`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The socket failed or was closed under us.
    #[error("socket failed")]
    Io(#[from] std::io::Error),
    /// A length prefix claimed more than the maximum frame size.
    #[error("frame of {claimed} bytes exceeds the maximum frame size of {max} bytes")]
    FrameTooLarge { claimed: u64, max: u32 },
    /// A length prefix claimed less than a frame header.
    #[error("frame of {0} bytes is shorter than a frame header")]
    FrameTooShort(u32),
    /// A frame kind this protocol version does not have.
    #[error("unknown frame kind {0}")]
    UnknownFrameKind(u8),
    /// A frame of a kind that does not belong on this side of a connection.
    #[error("unexpected {0:?} frame")]
    UnexpectedFrame(crate::tcp::FrameKind),
    /// A payload could not be encoded.
    #[error("payload could not be encoded")]
    Encode(#[source] postcard::Error),
    /// The peer closed the connection part way through a frame.
    #[error("connection closed in the middle of a frame, {buffered} bytes into it")]
    Truncated { buffered: usize },
    /// The handshake did not arrive whole: the connection failed, closed or
    /// stayed silent first.
    #[error("no complete handshake")]
    Handshake(#[source] std::io::Error),
    /// The first bytes were not a handshake.
    #[error("bad magic {0:02x?}: not a raft-transport peer")]
    BadMagic([u8; 4]),
    /// The peer speaks another protocol version.
    #[error("peer speaks protocol version {theirs}, this node speaks {ours}")]
    VersionMismatch { ours: u32, theirs: u32 },
    /// The peer belongs to another cluster.
    #[error("peer belongs to cluster {theirs}, this node to cluster {ours}")]
    ClusterMismatch { ours: crate::ClusterId, theirs: crate::ClusterId },
    /// The peer at a node's address is another node.
    #[error("expected node {expected} at this address, found node {found}")]
    WrongNode { expected: NodeId, found: NodeId },
    /// No address is known for the peer.
    #[error("no address is known for peer {0}")]
    NoAddress(NodeId),
    /// The transport is shutting down.
    #[error("the transport is shutting down")]
    Closed,
}

/// Displays an error followed by its chain of sources, for logs and for the
/// reasons carried in [`CallError`].
pub(crate) struct Report<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
