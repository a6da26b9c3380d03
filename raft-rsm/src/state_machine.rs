//! [`StateMachine`]: what a service gives the replicated-state-machine layer.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A deterministic service state, replicated by applying the same commands in
/// the same order on every node (the lab's `StateMachine`: `DoOp`,
/// `Snapshot`, `Restore`).
///
/// # Contract
/// - [`apply`](Self::apply) is deterministic: the same state and command give
///   the same state and output on every node. It must not read clocks,
///   randomness or anything outside the state.
/// - [`snapshot`](Self::snapshot) captures everything `apply` depends on;
///   [`restore`](Self::restore) of those bytes gives back an equal state.
pub trait StateMachine: Send + 'static {
    /// A command, as a client submits it; it travels through the log encoded
    /// with postcard.
    type Command: Serialize + DeserializeOwned + Send + 'static;
    /// The answer to a command.
    type Output: Send + 'static;

    /// Applies one committed command and returns its answer.
    fn apply(&mut self, command: Self::Command) -> Self::Output;

    /// The whole state, as bytes.
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the state with the one `snapshot` holds.
    ///
    /// # Errors
    /// A message saying why the bytes are not a snapshot of this machine;
    /// the state is then left as it was.
    fn restore(&mut self, snapshot: &[u8]) -> Result<(), String>;
}
