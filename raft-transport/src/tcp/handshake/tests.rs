//! Unit tests of the connection handshake.

use raft_log::NodeId;

use super::{ClusterId, HELLO_LEN, Hello, PROTOCOL_VERSION};
use crate::error::WireError;

#[test]
fn a_hello_survives_the_wire() {
    let hello = Hello::ours(ClusterId(0xABCD_EF01_2345_6789), NodeId(u64::MAX));
    assert_eq!(Hello::from_bytes(&hello.to_bytes()).unwrap(), hello);
    assert_eq!(&hello.to_bytes()[..4], b"RAFT");
    assert_eq!(hello.to_bytes()[4..8], 2u32.to_le_bytes());
}

#[test]
fn bytes_without_the_magic_are_not_a_hello() {
    let mut bytes = Hello::ours(ClusterId(1), NodeId(1)).to_bytes();
    bytes[0] = b'X';
    assert!(matches!(Hello::from_bytes(&bytes), Err(WireError::BadMagic(_))));
}

#[test]
fn another_version_or_cluster_is_refused() {
    let ours = Hello::ours(ClusterId(1), NodeId(1));
    assert_eq!(ours.version, 2);
    assert!(ours.accept(&Hello::ours(ClusterId(1), NodeId(2))).is_ok());
    // A peer of version 1 encodes entries without their kind.
    let older = Hello { version: 1, ..Hello::ours(ClusterId(1), NodeId(2)) };
    let refusal = ours.accept(&older).unwrap_err();
    assert_eq!(refusal.to_string(), "peer speaks protocol version 1, this node speaks 2");
    assert!(matches!(refusal, WireError::VersionMismatch { ours: 2, theirs: 1 }));
    // And the peer of version 1 refuses this node in the same words.
    assert!(matches!(older.accept(&ours), Err(WireError::VersionMismatch { ours: 1, theirs: 2 })));
    let newer = Hello { version: PROTOCOL_VERSION + 1, ..Hello::ours(ClusterId(1), NodeId(2)) };
    assert!(matches!(ours.accept(&newer), Err(WireError::VersionMismatch { ours: 2, theirs: 3 })));
    let stranger = Hello::ours(ClusterId(2), NodeId(2));
    assert!(matches!(ours.accept(&stranger), Err(WireError::ClusterMismatch { .. })));
}

#[test]
fn a_hello_cut_short_is_a_handshake_error() {
    let bytes = Hello::ours(ClusterId(1), NodeId(1)).to_bytes();
    let mut cut = &bytes[..HELLO_LEN - 1];
    assert!(matches!(Hello::read_from(&mut cut), Err(WireError::Handshake(_))));
}
