//! [`FilePersisterBuilder`] and [`SyncMode`]: how a [`FilePersister`] is
//! opened.

use std::path::PathBuf;

use crate::{FilePersister, PersistError};

/// Whether a [`FilePersister`] forces its writes to the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyncMode {
    /// Every save is on the disk (fsync) before it returns: a crash of the
    /// process or of the machine loses nothing acknowledged. The default.
    #[default]
    Always,
    /// Nothing is forced to the disk. Saves survive a crash of the process
    /// (the operating system still holds them) but a power loss can lose
    /// recent ones or leave the log unreadable. For tests and benchmarks.
    Never,
}

/// Opens a [`FilePersister`] with chosen options; made by
/// [`FilePersister::builder`].
///
/// ```
/// use raft_persist::{FilePersister, Persister, SyncMode};
///
/// let dir = tempfile::tempdir()?;
/// let persister = FilePersister::builder(dir.path()).sync(SyncMode::Always).open()?;
/// assert_eq!(persister.load()?.entries.len(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `open` is called"]
pub struct FilePersisterBuilder {
    pub(crate) dir: PathBuf,
    pub(crate) sync: SyncMode,
}

impl FilePersisterBuilder {
    pub(crate) fn new(dir: PathBuf) -> FilePersisterBuilder {
        FilePersisterBuilder { dir, sync: SyncMode::default() }
    }

    /// Chooses whether saves are forced to the disk ([`SyncMode::Always`] by
    /// default).
    pub fn sync(mut self, mode: SyncMode) -> FilePersisterBuilder {
        self.sync = mode;
        self
    }

    /// Opens the directory, creating it if missing, and recovers what it holds.
    ///
    /// # Errors
    /// As [`FilePersister::open`].
    pub fn open(self) -> Result<FilePersister, PersistError> {
        FilePersister::open_with(self)
    }
}
