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
    /// A snapshot older than the stored one: replacing it would leave the
    /// stored entries without the snapshot they follow.
    #[error("snapshot at index {index} is behind the stored snapshot at index {current}")]
    SnapshotBehind {
        /// The index of the refused snapshot.
        index: Index,
        /// The index of the stored snapshot.
        current: Index,
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
    /// The log file is of a format version this build does not read: newer
    /// than it, or never written by any. Nothing was changed on disk.
    #[error(
        "log file {} is in format version {version}; this build reads versions {supported:?}",
        path.display()
    )]
    UnsupportedFormat {
        /// The log file.
        path: PathBuf,
        /// The version its header names.
        version: u32,
        /// The versions this build reads, oldest first.
        supported: &'static [u32],
    },
    /// Another process (or another persister in this one) holds the directory.
    #[error("directory {} is already in use", path.display())]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// An earlier save failed part-way, so the file's tail is uncertain; the
    /// persister refuses further saves. Reopening the directory recovers the
    /// durable state.
    #[error("an earlier write to {} failed; reopen to recover", path.display())]
    Poisoned {
        /// The file whose write failed.
        path: PathBuf,
    },
    /// One update encodes to more bytes than a record can hold.
    #[error("an update of {size} bytes exceeds the record limit of {limit} bytes")]
    RecordTooLarge {
        /// The encoded size of the update.
        size: u64,
        /// The largest record a file can hold.
        limit: u64,
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
