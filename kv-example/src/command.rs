//! [`Request`] and [`Reply`]: the service's operations as clients send them
//! and as they travel through the log, and their answers.

use serde::{Deserialize, Serialize};

use crate::KvError;

/// A key's version: 0 for a key that does not exist, then 1 at creation, and
/// one more at every applied `Put`.
pub type Version = u64;

/// One operation on the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Read a key's value and version.
    Get {
        /// The key.
        key: String,
    },
    /// Write `value` if the key's version is `version` (0 creates a missing
    /// key).
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
        /// The version the writer last saw.
        version: Version,
    },
    /// Write `value` whatever the key's version (a missing key is created at
    /// version 1). Not idempotent: a retry writes again.
    Set {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Remove the key if its version is `version`, or whatever its version
    /// when `version` is `None`. A removed key reads as missing and a later
    /// `Put` at version 0 creates it afresh, counting versions from 1 again.
    Delete {
        /// The key.
        key: String,
        /// The version the deleter expects, if any.
        version: Option<Version>,
    },
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// A `Get`'s value and version.
    Value {
        /// The value.
        value: String,
        /// Its version.
        version: Version,
    },
    /// A `Put` or a `Delete` applied.
    Done,
    /// A `Set` applied; the key is now at `version`.
    Written {
        /// The key's version after the write.
        version: Version,
    },
    /// The operation failed.
    Failed(KvError),
}
