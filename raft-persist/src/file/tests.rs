//! Unit tests for [`FilePersister`]'s internals: a failed write poisons the
//! persister, and a long tail is rewritten in bounded records.

use std::fs::{self, File};

use raft_log::{Entry, Index, Term};

use super::FilePersister;
use super::directory::LOG;
use super::frame;
use super::frame::Frames;
use super::record::{LOG_MAGIC, Record};
use crate::{PersistError, Persister, Snapshot, Update};

fn appending(index: u64, len: usize) -> Update {
    Update {
        append: vec![Entry::new(Index(index), Term(1), vec![index as u8; len])],
        ..Update::default()
    }
}

#[test]
fn a_failed_write_refuses_further_saves_and_reopening_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let persister = FilePersister::open(dir.path()).unwrap();
    persister.save(&appending(1, 10)).unwrap();
    // A handle that cannot write makes the next append fail.
    persister.inner().files.log = File::open(dir.path().join(LOG)).unwrap();

    assert!(matches!(
        persister.save(&appending(2, 10)),
        Err(PersistError::Io { op: "writing", .. })
    ));
    assert!(matches!(persister.save(&appending(2, 10)), Err(PersistError::Poisoned { .. })));
    assert_eq!(persister.load().unwrap().entries.len(), 1);
    drop(persister);

    let reopened = FilePersister::open(dir.path()).unwrap();
    assert_eq!(reopened.load().unwrap().entries.len(), 1);
    reopened.save(&appending(2, 10)).unwrap();
}

#[test]
fn a_long_tail_is_rewritten_in_several_records() {
    let dir = tempfile::tempdir().unwrap();
    let persister = FilePersister::builder(dir.path()).sync(super::SyncMode::Never).open().unwrap();
    for index in 1..=4 {
        persister.save(&appending(index, 700 * 1024)).unwrap();
    }
    let snapshot = Snapshot { index: Index(1), term: Term(1), data: vec![1] };
    persister.save(&Update { snapshot: Some(snapshot), ..Update::default() }).unwrap();
    let state = persister.load().unwrap();
    drop(persister);

    let log = fs::read(dir.path().join(LOG)).unwrap();
    let mut frames = Frames::new(&log, LOG_MAGIC.len());
    let mut count = 0;
    while frames.next_frame().unwrap().is_some() {
        count += 1;
    }
    // The base record, then the three entries left in two records: a record
    // takes entries until it holds 1 MiB.
    assert_eq!(count, 3);
    assert_eq!(FilePersister::open(dir.path()).unwrap().load().unwrap(), state);
}

#[test]
fn a_base_record_with_an_impossible_generation_is_corruption() {
    for (generation, point) in
        [(u64::MAX, Some((Index(1), Term(1)))), (3, None), (0, Some((Index(1), Term(1))))]
    {
        let dir = tempfile::tempdir().unwrap();
        let mut log = LOG_MAGIC.to_vec();
        frame::encode(&Record::Base { generation, point }, &mut log).unwrap();
        fs::write(dir.path().join(LOG), &log).unwrap();
        match FilePersister::open(dir.path()) {
            Err(PersistError::Corrupt { offset, .. }) => assert_eq!(offset, LOG_MAGIC.len() as u64),
            other => panic!("generation {generation}: expected corruption, got {other:?}"),
        }
    }
}
