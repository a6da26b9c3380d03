//! [`FilePersister`]: a crash-safe persister that keeps its state in one
//! directory.

mod builder;
mod directory;
mod frame;
mod record;
mod recovery;

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub use self::builder::{FilePersisterBuilder, SyncMode};
use self::directory::{Directory, LOG, io_error, snapshot_name};
use self::record::Record;
use self::recovery::{Files, rewrite_log};
use crate::{PersistError, PersistedState, Persister, Snapshot, Update};

/// A [`Persister`] that keeps a node's durable state in one directory, so it
/// survives a crash of the process (`kill -9`) and, with
/// [`SyncMode::Always`], of the machine.
///
/// # Layout
/// - `log`: an 8-byte header naming the format version, then an append-only
///   sequence of records, each a length, two crc32 checksums and a
///   postcard-encoded change. The first record names the snapshot the log
///   follows; every save without a snapshot appends one record (a new hard
///   state, a truncation, entries) and syncs it, so saving k entries costs
///   O(k), never O(log).
/// - `snapshot.<n>`: the latest snapshot, numbered by generation, after the
///   header `RAFTSNP1`.
/// - `LOCK`: locked while a persister has the directory open.
///
/// # Format versions
/// The log's header is `RAFTLOG` followed by the version as one ASCII digit.
/// - `RAFTLOG1`: entries encoded as index, term and data.
/// - `RAFTLOG2`, written now: entries encoded as index, term,
///   [`EntryKind`](raft_log::EntryKind) and data.
///
/// Opening a version-1 log reads every entry as a command and rewrites the
/// log in version 2 before anything is appended; the rewrite is atomic, as
/// for a save with a snapshot. A log of any other version is refused with
/// [`PersistError::UnsupportedFormat`] and left as it is. The snapshot file
/// holds no entries, so its layout, and its `RAFTSNP1` header, is the same
/// for both log versions.
///
/// # Crash safety
/// A save with a snapshot writes the snapshot to a temporary file, syncs it,
/// renames it to a fresh `snapshot.<n+1>` and syncs the directory; then writes
/// a new log holding the hard state and the entries after the snapshot (first
/// record: "follows `snapshot.<n+1>`") the same way; then removes
/// `snapshot.<n>`. Renaming the new log into place is the commit point: a
/// crash before it leaves the old log, which still names the old snapshot; a
/// crash after it leaves the new one. Disk use stays bounded by the tail after
/// the latest snapshot, plus the changes saved since.
///
/// Opening recovers: a torn last record (a crash mid-append) is dropped and
/// cut off the file; snapshot and temporary files the log does not name are
/// removed; damage anywhere else is [`PersistError::Corrupt`], naming the file
/// and the offset of the damaged record, and nothing is changed on disk.
///
/// The state is also held in memory: [`load`](Persister::load) and the size
/// queries read no file.
///
/// ```
/// use raft_log::{Entry, Index, NodeId, Term};
/// use raft_persist::{FilePersister, HardState, Persister, Update};
///
/// let dir = tempfile::tempdir()?;
/// let persister = FilePersister::open(dir.path())?;
/// persister.save(&Update {
///     hard_state: Some(HardState { term: Term(3), voted_for: Some(NodeId(2)) }),
///     append: vec![Entry::new(Index(1), Term(3), b"put x 1".to_vec())],
///     ..Update::default()
/// })?;
///
/// // Another open of the directory is refused while this one lives.
/// assert!(FilePersister::open(dir.path()).is_err());
/// drop(persister);
///
/// let reopened = FilePersister::open(dir.path())?;
/// let state = reopened.load()?;
/// assert_eq!(state.hard_state.voted_for, Some(NodeId(2)));
/// assert_eq!(&state.entries[0].data[..], b"put x 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FilePersister {
    directory: Directory,
    /// Locked for the persister's lifetime: the directory is in use.
    _lock: File,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    files: Files,
    /// Set when a write failed part-way: the log's tail is then uncertain and
    /// no further save is accepted.
    poisoned: bool,
}

impl FilePersister {
    /// Opens the directory with the default options ([`SyncMode::Always`]),
    /// creating it if missing, and recovers what it holds.
    ///
    /// # Errors
    /// [`PersistError::Locked`] if another persister, in this process or
    /// another, has the directory open; [`PersistError::UnsupportedFormat`]
    /// if the log is of a format version this build does not read;
    /// [`PersistError::Corrupt`] if a file is damaged other than by a crash
    /// mid-append; [`PersistError::Io`] if a file cannot be read, written or
    /// synced.
    pub fn open(dir: impl AsRef<Path>) -> Result<FilePersister, PersistError> {
        FilePersister::builder(dir).open()
    }

    /// A builder to open the directory with chosen options.
    pub fn builder(dir: impl AsRef<Path>) -> FilePersisterBuilder {
        FilePersisterBuilder::new(dir.as_ref().to_path_buf())
    }

    pub(crate) fn open_with(builder: FilePersisterBuilder) -> Result<FilePersister, PersistError> {
        let directory = Directory::create(builder.dir, builder.sync)?;
        let lock = directory.lock()?;
        let files = recovery::recover(&directory)?;
        tracing::debug!(
            dir = %directory.path().display(),
            state = ?files.image,
            "opened the persister's directory"
        );
        Ok(FilePersister {
            directory,
            _lock: lock,
            inner: Mutex::new(Inner { files, poisoned: false }),
        })
    }

    /// The directory the persister keeps its files in.
    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// The bytes the persister's files take on disk: the log and the
    /// snapshot. Unlike [`raft_state_size`](Persister::raft_state_size), this
    /// counts framing and the changes saved since the last snapshot (old hard
    /// states, truncated entries).
    pub fn disk_usage(&self) -> u64 {
        let inner = self.inner();
        inner.files.log_len + inner.files.snapshot_len
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Every change to `Inner` either completes or sets `poisoned` first,
        // so a panic elsewhere never leaves it half-changed.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Saves an update without a snapshot: one record appended and synced.
    fn append(&self, files: &mut Files, update: &Update) -> Result<(), PersistError> {
        let mut record = Vec::new();
        frame::encode(&Record::change(update), &mut record)?;
        let path = self.directory.file(LOG);
        files.log.write_all(&record).map_err(io_error("writing", &path))?;
        self.directory.sync_file(&files.log, &path)?;
        files.log_len += record.len() as u64;
        files.image.save(update)
    }

    /// Saves an update with a snapshot: a new snapshot file, then a new log
    /// naming it (the commit point), then the old snapshot file removed.
    fn install(
        &self,
        files: &mut Files,
        update: &Update,
        snapshot: &Snapshot,
    ) -> Result<(), PersistError> {
        let mut image = files.image.clone();
        image.save(update)?;
        let generation = files.generation + 1;
        let snapshot_bytes = record::snapshot_file(snapshot)?;

        self.directory.replace(&snapshot_name(generation), &snapshot_bytes)?;
        // Should this fail, the new snapshot file is one the log does not
        // name: the next install replaces it, the next open removes it.
        let (log, log_len) = rewrite_log(&self.directory, generation, &mut image)?;

        if files.image.snapshot().is_some() {
            let old = self.directory.file(&snapshot_name(files.generation));
            if let Err(error) = std::fs::remove_file(&old) {
                // Committed already; the next open removes the file.
                tracing::warn!(path = %old.display(), %error, "cannot remove an old snapshot");
            }
        }
        *files =
            Files { image, log, log_len, generation, snapshot_len: snapshot_bytes.len() as u64 };
        Ok(())
    }
}

impl Persister for FilePersister {
    fn load(&self) -> Result<PersistedState, PersistError> {
        Ok(self.inner().files.image.to_state())
    }

    fn save(&self, update: &Update) -> Result<(), PersistError> {
        let mut inner = self.inner();
        if inner.poisoned {
            return Err(PersistError::Poisoned { path: self.directory.file(LOG) });
        }
        inner.files.image.check(update)?;
        if update.is_empty() {
            return Ok(());
        }
        let result = match &update.snapshot {
            None => self.append(&mut inner.files, update),
            Some(snapshot) => self.install(&mut inner.files, update, snapshot),
        };
        if let Err(error @ PersistError::Io { .. }) = &result {
            tracing::error!(%error, "a save failed; refusing further saves");
            inner.poisoned = true;
        }
        result
    }

    fn raft_state_size(&self) -> u64 {
        self.inner().files.image.raft_state_size()
    }

    fn snapshot_size(&self) -> u64 {
        self.inner().files.image.snapshot_size()
    }
}

#[cfg(test)]
mod tests;
