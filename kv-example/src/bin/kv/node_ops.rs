//! What the HTTP API asks of the Raft node, each in one place: a write, a
//! linearizable read, and a leadership transfer.

use std::time::Duration;

use kv_example::{KvError, KvServer, Reply, Request};
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

/// How often a waiting write checks that its node still leads.
const LEADERSHIP_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Runs a write through the log on `server` and returns the store's answer
/// once it has committed and applied here. Holds no thread while it waits;
/// gives up as the wrong leader once the node stops leading (a deposed
/// leader may hold the entry a long time), and after the submit timeout.
pub(crate) async fn write(server: &KvServer, request: Request) -> Result<Reply, SubmitError> {
    let rsm = server.rsm();
    let node = rsm.node();
    let deposed = async {
        loop {
            tokio::time::sleep(LEADERSHIP_CHECK_INTERVAL).await;
            if !node.state().1 {
                return Err(SubmitError::WrongLeader { leader_hint: node.status().leader });
            }
        }
    };
    let submit = async {
        tokio::select! {
            answer = rsm.submit_async(request) => answer,
            gave_up = deposed => gave_up,
        }
    };
    tokio::time::timeout(rsm.config().submit_timeout, submit)
        .await
        .unwrap_or(Err(SubmitError::TimedOut))
}
