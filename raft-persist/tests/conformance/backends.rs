//! The backends the suite runs against, behind one [`Backend`] trait: how to
//! open a fresh persister and how to "reopen" one as a restarted node would.

use raft_persist::{FilePersister, MemPersister, Persister};
use tempfile::TempDir;

/// A way to make persisters of one kind.
pub(crate) trait Backend {
    /// The persister this backend makes.
    type Persister: Persister;

    /// A backend with nothing saved yet.
    fn new() -> Self;

    /// A persister over the backend's storage.
    fn open(&mut self) -> Self::Persister;

    /// What a restarted node gets: the persister is dropped (a crash) and the
    /// storage opened again.
    fn reopen(&mut self, persister: Self::Persister) -> Self::Persister;
}

/// [`MemPersister`]: reopening hands over a copy, as the tester does.
#[derive(Debug)]
pub(crate) struct Mem;

impl Backend for Mem {
    type Persister = MemPersister;

    fn new() -> Mem {
        Mem
    }

    fn open(&mut self) -> MemPersister {
        MemPersister::new()
    }

    fn reopen(&mut self, persister: MemPersister) -> MemPersister {
        persister.clone()
    }
}

/// [`FilePersister`] in a temporary directory: reopening drops the persister
/// and opens the directory again.
#[derive(Debug)]
pub(crate) struct Files {
    dir: TempDir,
}

impl Backend for Files {
    type Persister = FilePersister;

    fn new() -> Files {
        Files { dir: tempfile::tempdir().expect("a temporary directory") }
    }

    fn open(&mut self) -> FilePersister {
        FilePersister::open(self.dir.path()).expect("opening the directory")
    }

    fn reopen(&mut self, persister: FilePersister) -> FilePersister {
        drop(persister);
        self.open()
    }
}
