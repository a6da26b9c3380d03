//! [`PersistError`]: why a persister could not load or save.

use std::path::PathBuf;

use raft_log::Index;

/// Why a persister could not load or save.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// Appended entries do not follow on from the stored log.
    #[error("appended entry {found} does not follow index {last}")]
    NotContiguous {
        /// The last index the stored log (or snapshot) reaches.
        last: Index,
        /// The index of the first appended entry.
        found: Index,
    },
    /// A record failed its checksum or could not be decoded, somewhere other
    /// than a torn tail.
    #[error("corrupt record in {} at byte offset {offset}", path.display())]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// The byte offset where the damaged record starts.
        offset: u64,
    },
    /// Another process (or another persister in this one) holds the directory.
    #[error("directory {} is already in use", path.display())]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// An IO operation failed.
    #[error("{op} {}", path.display())]
    Io {
        /// What was being done, such as "writing" or "syncing".
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
}
