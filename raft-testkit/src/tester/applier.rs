//! [`Applier`]: the thread that reads one server incarnation's apply channel
//! and checks it (the lab's `applier` and `applierSnap`).

use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use raft_core::{Applied, ApplyReceiver, Index, Node, NodeError};

use super::{Command, Shared};

/// The apply-channel reader of one server incarnation.
pub(super) struct Applier {
    /// Disconnects when the thread ends.
    done: Receiver<()>,
    thread: JoinHandle<()>,
}

impl Applier {
    /// Starts reading `applied`, the channel of server `i`'s node `node`.
    pub(super) fn spawn(
        shared: Arc<Shared>,
        i: usize,
        node: Node,
        applied: ApplyReceiver,
    ) -> Applier {
        let (done_sender, done) = crossbeam_channel::bounded::<()>(0);
        let thread = thread::Builder::new()
            .name(format!("tester-applier-{i}"))
            .spawn(move || {
                let _done = done_sender;
                for item in applied {
                    deliver(&shared, i, &node, item);
                }
            })
            .expect("the operating system refused to start an applier thread");
        Applier { done, thread }
    }

    /// Waits up to `limit` for the channel to close and the thread to read it
    /// to the end. Returns whether it did.
    pub(super) fn wait(self, limit: Duration) -> bool {
        match self.done.recv_timeout(limit) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                // The thread has ended (its body cannot panic while unwinding
                // the tester's own checks), so this returns at once.
                let _ = self.thread.join();
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
        }
    }
}

/// Checks one item server `i` applied, records an error if any, and hands the
/// node the snapshot the tester takes after indices 9, 19, 29, ... (snapshot
/// mode). The node is called without the tester's lock held.
fn deliver(shared: &Shared, i: usize, node: &Node, item: Applied) {
    let snapshot = {
        let mut state = shared.lock_state();
        let (outcome, snapshot) = match item {
            Applied::Command { index, data, .. } => match Command::decode(&data) {
                Err(_) => {
                    (Err(format!("server {i} applied undecodable bytes at index {index}")), None)
                }
                Ok(command) if shared.snapshot => {
                    let (outcome, snapshot) = state.ledger.apply_and_snapshot(i, index.0, command);
                    (outcome, snapshot.map(|data| (index, data)))
                }
                Ok(command) => (state.ledger.apply(i, index.0, command), None),
            },
            Applied::Snapshot { index, data, .. } if shared.snapshot => {
                (state.ledger.ingest_snapshot(i, &data, Some(index.0)), None)
            }
            // The lab's plain applier ignores snapshots.
            Applied::Snapshot { .. } => (Ok(()), None),
            Applied::Noop { index, .. } => (
                Err(format!(
                    "server {i} applied a no-op at index {index}: the lab's configuration keeps them off"
                )),
                None,
            ),
        };
        if let Err(error) = outcome {
            state.record_apply_error(error);
        }
        snapshot
    };
    if let Some((index, data)) = snapshot {
        snapshot_node(shared, i, node, index, data);
    }
}

/// The lab's `rf.Snapshot(index, data)`, from the applier thread. A node shut
/// down meanwhile refuses it, which is fine; any other refusal is an error.
fn snapshot_node(shared: &Shared, i: usize, node: &Node, index: Index, data: Vec<u8>) {
    match node.snapshot(index, data) {
        Ok(()) | Err(NodeError::Shutdown) => {}
        Err(error) => shared
            .lock_state()
            .record_apply_error(format!("server {i} refused Snapshot({index}): {error}")),
    }
}
