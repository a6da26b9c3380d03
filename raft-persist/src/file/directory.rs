//! [`Directory`]: the files a [`FilePersister`](crate::FilePersister) keeps,
//! and the crash-safe ways it writes, replaces and removes them.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::{PersistError, SyncMode};

/// The append-only log file.
pub(crate) const LOG: &str = "log";

/// The file whose lock marks the directory as in use.
pub(crate) const LOCK: &str = "LOCK";

/// The suffix of a file being written before it is renamed into place.
const TEMPORARY_SUFFIX: &str = ".tmp";

/// The prefix of a snapshot file; the generation follows it.
const SNAPSHOT_PREFIX: &str = "snapshot.";

/// The name of the snapshot file of `generation`.
pub(crate) fn snapshot_name(generation: u64) -> String {
    format!("{SNAPSHOT_PREFIX}{generation}")
}

/// A persister's directory and how durably to write into it.
#[derive(Clone, Debug)]
pub(crate) struct Directory {
    path: PathBuf,
    sync: SyncMode,
}

impl Directory {
    /// Creates the directory if it is missing.
    ///
    /// # Errors
    /// [`PersistError::Io`] if it cannot be created.
    pub(crate) fn create(path: PathBuf, sync: SyncMode) -> Result<Directory, PersistError> {
        fs::create_dir_all(&path).map_err(io_error("creating", &path))?;
        Ok(Directory { path, sync })
    }

    /// The directory's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path of the file `name` in the directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Takes the directory's lock, held until the returned file is dropped.
    ///
    /// # Errors
    /// [`PersistError::Locked`] if another handle, in this process or another,
    /// holds it; [`PersistError::Io`] if the lock file cannot be opened.
    pub(crate) fn lock(&self) -> Result<File, PersistError> {
        let path = self.file(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("opening", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(TryLockError::WouldBlock) => Err(PersistError::Locked { path: self.path.clone() }),
            Err(TryLockError::Error(source)) => {
                Err(PersistError::Io { op: "locking", path, source })
            }
        }
    }

    /// Makes the file's data durable, unless syncing is off.
    ///
    /// # Errors
    /// [`PersistError::Io`] naming `path`.
    pub(crate) fn sync_file(&self, file: &File, path: &Path) -> Result<(), PersistError> {
        match self.sync {
            SyncMode::Always => file.sync_data().map_err(io_error("syncing", path)),
            SyncMode::Never => Ok(()),
        }
    }

    /// Makes the directory's entries (creations, renames, removals) durable,
    /// unless syncing is off.
    ///
    /// # Errors
    /// [`PersistError::Io`] naming the directory.
    pub(crate) fn sync(&self) -> Result<(), PersistError> {
        match self.sync {
            SyncMode::Always => File::open(&self.path)
                .and_then(|directory| directory.sync_all())
                .map_err(io_error("syncing", &self.path)),
            SyncMode::Never => Ok(()),
        }
    }

    /// Replaces the file `name` with `bytes` so that a crash leaves either the
    /// old file or the new one: writes `name.tmp`, syncs it, renames it over
    /// `name` and syncs the directory. Returns the new file, open for
    /// appending after `bytes`.
    ///
    /// # Errors
    /// [`PersistError::Io`] for any failing step; the old file may or may not
    /// have been replaced if the rename or the directory sync failed.
    pub(crate) fn replace(&self, name: &str, bytes: &[u8]) -> Result<File, PersistError> {
        let temporary = self.file(&format!("{name}{TEMPORARY_SUFFIX}"));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&temporary)
            .map_err(io_error("creating", &temporary))?;
        file.write_all(bytes).map_err(io_error("writing", &temporary))?;
        self.sync_file(&file, &temporary)?;
        let path = self.file(name);
        fs::rename(&temporary, &path).map_err(io_error("renaming", &temporary))?;
        self.sync()?;
        Ok(file)
    }

    /// Removes what a crash can leave behind: temporary files and snapshot
    /// files other than `keep`'s. Other files are left alone.
    ///
    /// # Errors
    /// [`PersistError::Io`] if the directory cannot be listed or a leftover
    /// cannot be removed.
    pub(crate) fn remove_leftovers(&self, keep: Option<u64>) -> Result<(), PersistError> {
        let kept = keep.map(snapshot_name);
        let listing = fs::read_dir(&self.path).map_err(io_error("listing", &self.path))?;
        let mut removed = false;
        for item in listing {
            let item = item.map_err(io_error("listing", &self.path))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let leftover = name.ends_with(TEMPORARY_SUFFIX)
                || (is_snapshot_name(name) && Some(name) != kept.as_deref());
            if leftover {
                let path = item.path();
                tracing::debug!(path = %path.display(), "removing a leftover file");
                fs::remove_file(&path).map_err(io_error("removing", &path))?;
                removed = true;
            }
        }
        if removed { self.sync() } else { Ok(()) }
    }
}

fn is_snapshot_name(name: &str) -> bool {
    name.strip_prefix(SNAPSHOT_PREFIX).is_some_and(|generation| {
        !generation.is_empty() && generation.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Wraps an IO failure with what was being done and to which path.
pub(crate) fn io_error(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PersistError {
    let path = path.to_path_buf();
    move |source| PersistError::Io { op, path, source }
}
