//! The two things the HTTP API asks of the Raft node that are about to
//! change, each in one place: transferring leadership (not in `raft-core`
//! yet) and the linearizable read (through the log today, ReadIndex later).

use kv_example::{KvServer, Reply, Request};
use raft_core::{Node, NodeId};
use raft_rsm::SubmitError;

/// Why a leadership transfer did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransferError {
    /// This build's `raft-core` cannot transfer leadership yet.
    #[error("leadership transfer is not supported by this build of raft-core yet")]
    NotSupported,
}

/// Asks `node` to hand its leadership to `to`.
///
/// The one place the service calls into `raft-core` for a transfer; until
/// `Node::transfer_leadership` exists it refuses every request.
pub(crate) fn transfer_leadership(node: &Node, to: NodeId) -> Result<(), TransferError> {
    tracing::info!(node = %node.id(), %to, "leadership transfer asked for; not supported yet");
    Err(TransferError::NotSupported)
}

/// Reads `key` linearizably on `server`: today by running the read through
/// the log (as every `KvServer` operation does), so the answer reflects
/// every write that completed before the read began. The one place to switch
/// to a ReadIndex barrier and a local read.
///
/// Blocks until the read has committed and applied, or failed.
pub(crate) fn linearizable_get(server: &KvServer, key: String) -> Result<Reply, SubmitError> {
    server.rsm().submit(Request::Get { key })
}
