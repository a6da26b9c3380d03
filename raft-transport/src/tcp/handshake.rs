//! The handshake that opens every connection, and the [`ClusterId`] it carries.

use std::fmt;
use std::io::Read;

use raft_log::NodeId;

use crate::error::WireError;

/// The first bytes on every connection.
const MAGIC: [u8; 4] = *b"RAFT";
/// The version of the wire protocol this crate speaks. It covers the frames
/// and the encoding of the Raft messages they carry, so it changes whenever
/// those messages do; peers of different versions refuse each other at the
/// handshake ([`WireError::VersionMismatch`]), before any frame is read.
///
/// - 1: the first protocol.
/// - 2: every entry carries its kind (command, no-op or configuration:
///   [`EntryKind`](raft_log::EntryKind)), and PreVote, TimeoutNow and
///   ReadIndex join the Raft messages.
pub(crate) const PROTOCOL_VERSION: u32 = 2;
/// Bytes of a [`Hello`] on the wire.
pub(crate) const HELLO_LEN: usize = 24;

/// Names one cluster; a node only talks to nodes of its own cluster, so that a
/// misconfigured address never joins two clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId(pub u64);

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What each side sends first: who it is and what it speaks.
///
/// ```text
/// [u8; 4]  magic "RAFT"
/// u32 LE   protocol version
/// u64 LE   cluster id
/// u64 LE   node id of the sender
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hello {
    pub(crate) version: u32,
    pub(crate) cluster: ClusterId,
    pub(crate) node: NodeId,
}

impl Hello {
    /// This node's hello.
    pub(crate) fn ours(cluster: ClusterId, node: NodeId) -> Hello {
        Hello { version: PROTOCOL_VERSION, cluster, node }
    }

    pub(crate) fn to_bytes(self) -> [u8; HELLO_LEN] {
        let mut bytes = [0; HELLO_LEN];
        bytes[..4].copy_from_slice(&MAGIC);
        bytes[4..8].copy_from_slice(&self.version.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.cluster.0.to_le_bytes());
        bytes[16..].copy_from_slice(&self.node.0.to_le_bytes());
        bytes
    }

    /// Parses a hello.
    ///
    /// # Errors
    /// [`WireError::BadMagic`] if the bytes do not start with the magic.
    pub(crate) fn from_bytes(bytes: &[u8; HELLO_LEN]) -> Result<Hello, WireError> {
        let field = |range: std::ops::Range<usize>| {
            let mut word = [0; 8];
            word[..range.len()].copy_from_slice(&bytes[range]);
            u64::from_le_bytes(word)
        };
        let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
        if magic != MAGIC {
            return Err(WireError::BadMagic(magic));
        }
        Ok(Hello {
            version: field(4..8) as u32,
            cluster: ClusterId(field(8..16)),
            node: NodeId(field(16..24)),
        })
    }

    /// Reads and parses the peer's hello.
    ///
    /// # Errors
    /// [`WireError::Handshake`] if the connection fails, closes or times out
    /// first, [`WireError::BadMagic`].
    pub(crate) fn read_from(source: &mut impl Read) -> Result<Hello, WireError> {
        let mut bytes = [0; HELLO_LEN];
        source.read_exact(&mut bytes).map_err(WireError::Handshake)?;
        Hello::from_bytes(&bytes)
    }

    /// Whether `theirs` may talk to the node that sent `self`.
    ///
    /// # Errors
    /// [`WireError::VersionMismatch`], [`WireError::ClusterMismatch`].
    pub(crate) fn accept(&self, theirs: &Hello) -> Result<(), WireError> {
        if theirs.version != self.version {
            return Err(WireError::VersionMismatch { ours: self.version, theirs: theirs.version });
        }
        if theirs.cluster != self.cluster {
            return Err(WireError::ClusterMismatch { ours: self.cluster, theirs: theirs.cluster });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
