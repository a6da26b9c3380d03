//! The two things the HTTP API asks of the Raft node beyond submitting
//! commands, each in one place: transferring leadership and the linearizable
//! read.

use kv_example::{KvError, KvServer, Reply};
use raft_core::{Node, NodeId, TransferError};
use raft_rsm::SubmitError;

/// Asks `node` to hand its leadership to `to` (thesis §3.10): the node stops
/// taking writes, brings `to` up to date and tells it to campaign at once.
/// Returns once the node has taken the request in; the cluster status shows
/// the transfer while it runs and the new leader once it is done.
///
/// # Errors
/// [`TransferError::NotLeader`] on a follower, [`TransferError::UnknownPeer`]
/// for a target outside the cluster, [`TransferError::Shutdown`] once the
/// node stopped.
pub(crate) fn transfer_leadership(node: &Node, to: NodeId) -> Result<(), TransferError> {
    tracing::info!(node = %node.id(), %to, "leadership transfer asked for");
    node.transfer_leadership(to)
}

/// Reads `key` linearizably on `server` without writing to the log: a read
/// index from the leader (ReadIndex, forwarded from a follower), a wait until
/// this node has applied through it, then a read of the local store. The
/// answer reflects every write acknowledged before the read began.
///
/// Holds no thread while it waits; gives up after the submit timeout.
pub(crate) async fn linearizable_get(server: &KvServer, key: String) -> Result<Reply, SubmitError> {
    let rsm = server.rsm();
    let read = rsm.read_async(|store| match store.get(&key) {
        Some((value, version)) => Reply::Value { value: value.to_owned(), version },
        None => Reply::Failed(KvError::NoKey),
    });
    tokio::time::timeout(rsm.config().submit_timeout, read)
        .await
        .unwrap_or(Err(SubmitError::TimedOut))
}
