//! [`Service`]: the state machine above each simulated node. It applies
//! commands in order, keeps a running digest of everything applied, and
//! snapshots that digest.

use raft_core::Index;

/// The state of one node's service: how far it has applied, and a digest of
/// every command through there, so two services (or a service and a
/// snapshot) at the same index can be compared in O(1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Service {
    pub(crate) applied: Index,
    pub(crate) digest: u64,
    /// The index of the last snapshot this service took or installed.
    pub(crate) last_snapshot: Index,
}

/// The digest after `previous` with one more command.
pub(crate) fn chain(previous: u64, data: &[u8]) -> u64 {
    // FNV-1a over the command, folded into the running value.
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ previous.rotate_left(17);
    for &byte in data {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^ (data.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Service {
    /// The snapshot of this state: the applied index and the digest.
    pub(crate) fn snapshot_data(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(16);
        data.extend_from_slice(&self.applied.0.to_le_bytes());
        data.extend_from_slice(&self.digest.to_le_bytes());
        data
    }

    /// The state a snapshot holds, if it is one this service made.
    pub(crate) fn from_snapshot(data: &[u8]) -> Option<Service> {
        let index = u64::from_le_bytes(data.get(0..8)?.try_into().ok()?);
        let digest = u64::from_le_bytes(data.get(8..16)?.try_into().ok()?);
        (data.len() == 16).then_some(Service {
            applied: Index(index),
            digest,
            last_snapshot: Index(index),
        })
    }
}
