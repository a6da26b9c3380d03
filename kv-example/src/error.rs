//! [`KvError`]: why a key/value operation did not succeed.

use serde::{Deserialize, Serialize};

/// Why a `Get`, `Put` or `Delete` did not succeed (the lab's `Err` values other than
/// `OK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// The key does not exist (`Get`, `Delete`, or a `Put` with a non-zero
    /// version on a missing key).
    #[error("no such key")]
    NoKey,
    /// The `Put`'s version is not the key's version: nothing changed.
    #[error("the version does not match")]
    VersionMismatch,
    /// A retried `Put` got [`VersionMismatch`](Self::VersionMismatch): an
    /// earlier attempt may have applied, or not. Only the clerk reports it.
    #[error("the put may or may not have applied")]
    Maybe,
    /// The server asked does not lead; the clerk tries another.
    #[error("the server does not lead")]
    WrongLeader,
    /// The server could not answer in time or is stopping; the clerk tries
    /// another.
    #[error("the server is unavailable")]
    Unavailable,
}
