//! Unit tests for [`FilePersister`]'s internals: a failed write poisons the
//! persister, a long tail is rewritten in bounded records, and the log's
//! format versions are read, upgraded or refused.

use std::fs::{self, File};
use std::path::Path;

use raft_log::{Entry, EntryKind, Index, NodeId, Term};

use super::FilePersister;
use super::directory::LOG;
use super::frame;
use super::frame::Frames;
use super::record::{self, LOG_HEADER_LEN, LogFormat, Record};
use crate::{HardState, PersistError, PersistedState, Persister, Snapshot, Update};

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
    let mut frames = Frames::new(&log, LOG_HEADER_LEN);
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
        let mut log = LogFormat::CURRENT.header().to_vec();
        frame::encode(&Record::Base { generation, point }, &mut log).unwrap();
        fs::write(dir.path().join(LOG), &log).unwrap();
        match FilePersister::open(dir.path()) {
            Err(PersistError::Corrupt { offset, .. }) => assert_eq!(offset, LOG_HEADER_LEN as u64),
            other => panic!("generation {generation}: expected corruption, got {other:?}"),
        }
    }
}

// ---- format versions ----

fn version_1_entries(indices: std::ops::RangeInclusive<u64>, term: u64) -> Vec<record::v1::Entry> {
    indices
        .map(|index| record::v1::Entry {
            index: Index(index),
            term: Term(term),
            data: format!("command {index}").into_bytes(),
        })
        .collect()
}

fn commands(indices: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    indices
        .map(|index| Entry::new(Index(index), Term(term), format!("command {index}").into_bytes()))
        .collect()
}

/// A directory as version 1 left it: `snapshot.3` through index 2, then a log
/// of three changes, one a truncation, encoded with the version-1 layout.
/// Returns the state it holds and the bytes of each record of its log.
fn write_version_1_directory(dir: &Path) -> (PersistedState, Vec<Vec<u8>>) {
    let snapshot = Snapshot { index: Index(2), term: Term(1), data: b"through 2".to_vec() };
    let mut snapshot_file = b"RAFTSNP1".to_vec();
    frame::encode(&snapshot, &mut snapshot_file).unwrap();
    fs::write(dir.join("snapshot.3"), &snapshot_file).unwrap();

    let records = [
        record::v1::Record::Base { generation: 3, point: Some((Index(2), Term(1))) },
        record::v1::Record::Change {
            hard_state: Some(HardState { term: Term(1), voted_for: Some(NodeId(0)) }),
            truncate_from: None,
            append: version_1_entries(3..=5, 1),
        },
        record::v1::Record::Change {
            hard_state: Some(HardState { term: Term(2), voted_for: None }),
            truncate_from: Some(Index(5)),
            append: version_1_entries(5..=6, 2),
        },
        record::v1::Record::Change {
            hard_state: None,
            truncate_from: None,
            append: version_1_entries(7..=7, 2),
        },
    ];
    let frames: Vec<Vec<u8>> = records
        .iter()
        .map(|record| {
            let mut bytes = Vec::new();
            frame::encode(record, &mut bytes).unwrap();
            bytes
        })
        .collect();
    let mut log = b"RAFTLOG1".to_vec();
    log.extend(frames.iter().flatten());
    fs::write(dir.join(LOG), &log).unwrap();

    let mut entries = commands(3..=4, 1);
    entries.extend(commands(5..=7, 2));
    let state = PersistedState {
        hard_state: HardState { term: Term(2), voted_for: None },
        snapshot: Some(snapshot),
        entries,
    };
    (state, frames)
}

fn log_header(dir: &Path) -> Vec<u8> {
    fs::read(dir.join(LOG)).unwrap()[..LOG_HEADER_LEN].to_vec()
}

#[test]
fn the_two_layouts_of_an_entry_differ_only_by_the_kind() {
    let old = record::v1::Record::Change {
        hard_state: None,
        truncate_from: None,
        append: vec![record::v1::Entry { index: Index(1), term: Term(2), data: vec![7, 8] }],
    };
    // Variant 1 (Change), no hard state, no truncation, one entry: index 1,
    // term 2, then the data's length and bytes.
    assert_eq!(postcard::to_stdvec(&old).unwrap(), [1, 0, 0, 1, 1, 2, 2, 7, 8]);
    let entries = [
        Entry::new(Index(1), Term(2), vec![7, 8]),
        Entry { kind: EntryKind::Configuration, ..Entry::noop(Index(1), Term(2)) },
    ];
    let new = Update { append: entries.to_vec(), ..Update::default() };
    // The same, with the kind (0 a command, 2 a configuration) after the term.
    assert_eq!(
        postcard::to_stdvec(&Record::change(&new)).unwrap(),
        [1, 0, 0, 2, 1, 2, 0, 2, 7, 8, 1, 2, 2, 0]
    );
}

#[test]
fn a_version_1_log_is_read_as_commands_and_rewritten_in_version_2() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = write_version_1_directory(dir.path());
    let snapshot_file = fs::read(dir.path().join("snapshot.3")).unwrap();

    let persister = FilePersister::open(dir.path()).unwrap();
    assert_eq!(persister.load().unwrap(), expected);
    assert_eq!(log_header(dir.path()), b"RAFTLOG2");
    // The snapshot file is the same in both versions, and kept as it was.
    assert_eq!(fs::read(dir.path().join("snapshot.3")).unwrap(), snapshot_file);
    assert!(!dir.path().join("log.tmp").exists());
    drop(persister);

    let upgraded = fs::read(dir.path().join(LOG)).unwrap();
    let persister = FilePersister::open(dir.path()).unwrap();
    assert_eq!(persister.load().unwrap(), expected);
    assert_eq!(fs::read(dir.path().join(LOG)).unwrap(), upgraded, "a version-2 log is kept");

    // Appending goes on from the upgraded log.
    let noop = Entry::noop(Index(8), Term(3));
    persister.save(&Update { append: vec![noop.clone()], ..Update::default() }).unwrap();
    drop(persister);
    let mut expected = expected;
    expected.entries.push(noop);
    assert_eq!(FilePersister::open(dir.path()).unwrap().load().unwrap(), expected);
}

#[test]
fn a_torn_last_record_of_a_version_1_log_is_dropped_by_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let (_, frames) = write_version_1_directory(dir.path());
    let full = fs::read(dir.path().join(LOG)).unwrap();
    let torn = full.len() - frames[frames.len() - 1].len() / 2;
    fs::write(dir.path().join(LOG), &full[..torn]).unwrap();

    let persister = FilePersister::open(dir.path()).unwrap();
    let state = persister.load().unwrap();
    assert_eq!(state.entries.last().map(|entry| entry.index), Some(Index(6)));
    assert_eq!(log_header(dir.path()), b"RAFTLOG2");
    drop(persister);
    assert_eq!(FilePersister::open(dir.path()).unwrap().load().unwrap(), state);
}

#[test]
fn an_upgrade_cut_short_by_a_crash_is_done_again_on_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = write_version_1_directory(dir.path());
    // A crash while the version-2 log was being written, before its rename.
    fs::write(dir.path().join("log.tmp"), b"RAFTLOG2\x01\x02").unwrap();

    assert_eq!(FilePersister::open(dir.path()).unwrap().load().unwrap(), expected);
    assert_eq!(log_header(dir.path()), b"RAFTLOG2");
    assert!(!dir.path().join("log.tmp").exists());
}

#[test]
fn a_version_2_log_keeps_every_entry_kind() {
    let dir = tempfile::tempdir().unwrap();
    let persister = FilePersister::open(dir.path()).unwrap();
    let mut entries = commands(1..=3, 1);
    entries.push(Entry::noop(Index(4), Term(2)));
    entries.push(Entry {
        kind: EntryKind::Configuration,
        ..Entry::new(Index(5), Term(2), b"members".to_vec())
    });
    persister
        .save(&Update {
            hard_state: Some(HardState { term: Term(2), voted_for: Some(NodeId(1)) }),
            append: entries,
            ..Update::default()
        })
        .unwrap();
    persister
        .save(&Update { append: vec![Entry::noop(Index(6), Term(3))], ..Update::default() })
        .unwrap();
    let appended = persister.load().unwrap();
    drop(persister);
    assert_eq!(log_header(dir.path()), b"RAFTLOG2");
    let reopened = FilePersister::open(dir.path()).unwrap();
    assert_eq!(reopened.load().unwrap(), appended);

    // And through a rewrite of the log.
    let snapshot = Snapshot { index: Index(2), term: Term(1), data: vec![2] };
    reopened.save(&Update { snapshot: Some(snapshot), ..Update::default() }).unwrap();
    let compacted = reopened.load().unwrap();
    assert_eq!(
        compacted.entries.iter().map(|entry| entry.kind).collect::<Vec<_>>(),
        [EntryKind::Command, EntryKind::Noop, EntryKind::Configuration, EntryKind::Noop]
    );
    drop(reopened);
    assert_eq!(log_header(dir.path()), b"RAFTLOG2");
    assert_eq!(FilePersister::open(dir.path()).unwrap().load().unwrap(), compacted);
}

#[test]
fn a_log_of_another_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let persister = FilePersister::open(dir.path()).unwrap();
    persister.save(&Update { append: commands(1..=2, 1), ..Update::default() }).unwrap();
    drop(persister);
    let log = fs::read(dir.path().join(LOG)).unwrap();

    for (digit, version) in [(b'7', 7), (b'3', 3), (b'0', 0), (b'9', 9)] {
        let mut other = log.clone();
        other[LOG_HEADER_LEN - 1] = digit;
        fs::write(dir.path().join(LOG), &other).unwrap();
        match FilePersister::open(dir.path()) {
            Err(error @ PersistError::UnsupportedFormat { .. }) => {
                let message = error.to_string();
                let PersistError::UnsupportedFormat { path, version: found, supported } = error
                else {
                    unreachable!()
                };
                assert_eq!(path, dir.path().join(LOG));
                assert_eq!((found, supported), (version, &[1, 2][..]));
                assert!(
                    message.contains(&format!("format version {version};"))
                        && message.ends_with("reads versions [1, 2]"),
                    "{message}"
                );
            }
            other => panic!("version {version}: expected a refusal, got {other:?}"),
        }
        assert_eq!(fs::read(dir.path().join(LOG)).unwrap(), other, "version {version}");
    }
    fs::write(dir.path().join(LOG), &log).unwrap();
    assert_eq!(FilePersister::open(dir.path()).unwrap().load().unwrap().entries.len(), 2);
}

#[test]
fn a_log_without_the_log_header_is_corruption() {
    for header in [&b"RAFTLOGx"[..], b"NOTALOG2", b"raftlog2", b"RAFTLOG"] {
        let dir = tempfile::tempdir().unwrap();
        let mut log = header.to_vec();
        frame::encode(&Record::Base { generation: 0, point: None }, &mut log).unwrap();
        if header.len() < LOG_HEADER_LEN {
            log.truncate(header.len());
        }
        fs::write(dir.path().join(LOG), &log).unwrap();
        match FilePersister::open(dir.path()) {
            Err(PersistError::Corrupt { offset: 0, .. }) => {}
            other => panic!("{header:?}: expected corruption at 0, got {other:?}"),
        }
    }
}
