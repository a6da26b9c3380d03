//! What only [`FilePersister`] promises: recovery from a crash at any byte of
//! an append or any step of a snapshot, corruption reported with its file and
//! offset, the directory lock, and bounded disk use.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use raft_log::{Entry, Index, NodeId, Term};
use raft_persist::{
    FilePersister, HardState, PersistError, PersistedState, Persister, Snapshot, Update,
};
use tempfile::TempDir;

type Files = BTreeMap<String, Vec<u8>>;

/// Where the log's header (`RAFTLOG2`) holds the format version.
const VERSION_BYTE: u64 = 7;

fn entries(indices: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    indices
        .map(|index| Entry::new(Index(index), Term(term), format!("command {index}").into_bytes()))
        .collect()
}

fn snapshot(index: u64, term: u64) -> Snapshot {
    Snapshot { index: Index(index), term: Term(term), data: vec![index as u8; 100] }
}

/// A history with a snapshot (so the log has been rewritten once) followed
/// by appends, a hard state change and a truncation.
fn history() -> Vec<Update> {
    vec![
        Update {
            hard_state: Some(HardState { term: Term(1), voted_for: Some(NodeId(0)) }),
            append: entries(1..=4, 1),
            ..Update::default()
        },
        Update { snapshot: Some(snapshot(2, 1)), ..Update::default() },
        Update { append: entries(5..=6, 1), ..Update::default() },
        Update {
            hard_state: Some(HardState { term: Term(2), voted_for: None }),
            ..Update::default()
        },
        Update { truncate_from: Some(Index(6)), append: entries(6..=7, 2), ..Update::default() },
        Update {
            hard_state: Some(HardState { term: Term(3), voted_for: Some(NodeId(1)) }),
            append: entries(8..=10, 3),
            ..Update::default()
        },
    ]
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("log")
}

fn log_len(dir: &Path) -> u64 {
    fs::metadata(log_path(dir)).unwrap().len()
}

/// Every file in the directory but the lock, by name.
fn files(dir: &Path) -> Files {
    fs::read_dir(dir)
        .unwrap()
        .map(|item| item.unwrap())
        .filter(|item| item.file_name() != "LOCK")
        .map(|item| (item.file_name().into_string().unwrap(), fs::read(item.path()).unwrap()))
        .collect()
}

fn write_files(dir: &Path, files: &Files) {
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

fn snapshot_file_name(files: &Files) -> String {
    let mut names = files.keys().filter(|name| name.starts_with("snapshot."));
    let name = names.next().expect("a snapshot file").clone();
    assert_eq!(names.next(), None, "more than one snapshot file");
    name
}

/// The directory after saving the whole history, with the state before and
/// after the last save and where the last record starts and ends.
struct Saved {
    dir: TempDir,
    before_last: PersistedState,
    after_last: PersistedState,
    /// Where each record appended after the snapshot starts, and the end.
    record_starts: Vec<u64>,
}

fn save_history() -> Saved {
    let dir = tempfile::tempdir().unwrap();
    let persister = FilePersister::open(dir.path()).unwrap();
    let history = history();
    let (last, earlier) = history.split_last().unwrap();
    let mut record_starts = Vec::new();
    for (number, update) in earlier.iter().enumerate() {
        if number >= 2 {
            record_starts.push(log_len(dir.path()));
        }
        persister.save(update).unwrap();
    }
    let before_last = persister.load().unwrap();
    record_starts.push(log_len(dir.path()));
    persister.save(last).unwrap();
    record_starts.push(log_len(dir.path()));
    let after_last = persister.load().unwrap();
    drop(persister);
    Saved { dir, before_last, after_last, record_starts }
}

fn open_and_load(dir: &Path) -> Result<(FilePersister, PersistedState), PersistError> {
    let persister = FilePersister::open(dir)?;
    let state = persister.load()?;
    Ok((persister, state))
}

/// Writes `damaged` over `file` (a flipped byte at `at`), reopens `dir`, and
/// returns the offset of the corruption reported in that file; any other
/// outcome fails the test.
fn corruption_offset(dir: &Path, file: &Path, damaged: &[u8], at: u64) -> u64 {
    fs::write(file, damaged).unwrap();
    match open_and_load(dir) {
        Err(PersistError::Corrupt { path, offset }) => {
            assert_eq!(path, file, "byte {at}");
            offset
        }
        other => panic!("byte {at}: expected corruption, got {:?}", other.map(|(_, s)| s)),
    }
}

#[test]
fn a_log_cut_at_any_byte_of_the_last_record_recovers_the_state_before_it() {
    let saved = save_history();
    let dir = saved.dir.path();
    let full = fs::read(log_path(dir)).unwrap();
    let (start, end) = (saved.record_starts[saved.record_starts.len() - 2], full.len() as u64);
    let last = history().pop().unwrap();
    for cut in start..end {
        fs::write(log_path(dir), &full[..cut as usize]).unwrap();
        let (persister, state) = open_and_load(dir).unwrap();
        assert_eq!(state, saved.before_last, "cut at byte {cut}");
        assert_eq!(log_len(dir), start, "cut at byte {cut}: the torn bytes stay");

        persister.save(&last).unwrap();
        drop(persister);
        let (_, state) = open_and_load(dir).unwrap();
        assert_eq!(state, saved.after_last, "cut at byte {cut}: the save after recovery");
    }
    fs::write(log_path(dir), &full).unwrap();
    assert_eq!(open_and_load(dir).unwrap().1, saved.after_last);
}

#[test]
fn zeros_after_the_last_record_are_dropped() {
    let saved = save_history();
    let dir = saved.dir.path();
    let mut log = fs::read(log_path(dir)).unwrap();
    let len = log.len() as u64;
    log.extend_from_slice(&[0; 4096]);
    fs::write(log_path(dir), &log).unwrap();
    assert_eq!(open_and_load(dir).unwrap().1, saved.after_last);
    assert_eq!(log_len(dir), len);
}

#[test]
fn a_flipped_byte_in_an_earlier_record_is_reported_with_its_offset() {
    let saved = save_history();
    let dir = saved.dir.path();
    let full = fs::read(log_path(dir)).unwrap();
    let starts = &saved.record_starts;
    // Every record appended after the rewrite but the last one, whose damage
    // is indistinguishable from a torn write.
    for pair in starts[..starts.len() - 1].windows(2) {
        let (start, end) = (pair[0], pair[1]);
        for at in start..end {
            let mut damaged = full.clone();
            damaged[at as usize] ^= 0x04;
            let offset = corruption_offset(dir, &log_path(dir), &damaged, at);
            assert_eq!(offset, start, "byte {at}");
            assert_eq!(
                fs::read(log_path(dir)).unwrap(),
                damaged,
                "byte {at}: the file was changed"
            );
        }
    }
    // The rewritten start of the log (header, base record, hard state and
    // tail): damage is reported at or before the flipped byte. The header's
    // last byte is the format version: flipped, `RAFTLOG2` reads as
    // `RAFTLOG6`, a version this build refuses without changing the file.
    for at in 0..starts[0] {
        let mut damaged = full.clone();
        damaged[at as usize] ^= 0x04;
        if at == VERSION_BYTE {
            fs::write(log_path(dir), &damaged).unwrap();
            assert!(matches!(
                open_and_load(dir),
                Err(PersistError::UnsupportedFormat { version: 6, .. })
            ));
            assert_eq!(fs::read(log_path(dir)).unwrap(), damaged);
            continue;
        }
        let offset = corruption_offset(dir, &log_path(dir), &damaged, at);
        assert!(offset <= at, "byte {at}: reported at {offset}");
    }
    // Nothing was lost: the undamaged file still gives everything back.
    fs::write(log_path(dir), &full).unwrap();
    assert_eq!(open_and_load(dir).unwrap().1, saved.after_last);
}

#[test]
fn a_flipped_byte_in_the_snapshot_file_is_reported() {
    let saved = save_history();
    let dir = saved.dir.path();
    let name = snapshot_file_name(&files(dir));
    let path = dir.join(&name);
    let full = fs::read(&path).unwrap();
    for at in 0..full.len() {
        let mut damaged = full.clone();
        damaged[at] ^= 0x10;
        let offset = corruption_offset(dir, &path, &damaged, at as u64);
        assert!(offset <= at as u64, "byte {at}: reported at {offset}");
    }
    fs::write(&path, &full).unwrap();
    assert_eq!(open_and_load(dir).unwrap().1, saved.after_last);
}

#[test]
fn a_missing_snapshot_file_is_an_error_not_an_empty_state() {
    let saved = save_history();
    let dir = saved.dir.path();
    fs::remove_file(dir.join(snapshot_file_name(&files(dir)))).unwrap();
    assert!(matches!(open_and_load(dir), Err(PersistError::Io { .. })));
}

/// The directory's files before and after a save with a second snapshot,
/// and the state each holds.
struct SnapshotSave {
    old_files: Files,
    old_state: PersistedState,
    new_files: Files,
    new_state: PersistedState,
}

fn save_a_second_snapshot() -> SnapshotSave {
    let saved = save_history();
    let dir = saved.dir.path();
    let old_files = files(dir);
    let persister = FilePersister::open(dir).unwrap();
    persister
        .save(&Update {
            hard_state: Some(HardState { term: Term(4), voted_for: None }),
            snapshot: Some(snapshot(8, 3)),
            append: entries(11..=11, 4),
            ..Update::default()
        })
        .unwrap();
    let new_state = persister.load().unwrap();
    drop(persister);
    SnapshotSave { old_files, old_state: saved.after_last, new_files: files(dir), new_state }
}

/// Opens a directory holding `files` and checks it recovers `expected` and
/// keeps only the log and that state's snapshot file.
fn recovers(files: &Files, expected: &PersistedState, kept: &Files, case: &str) {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), files);
    let (persister, state) = open_and_load(dir.path()).unwrap();
    assert_eq!(&state, expected, "{case}");
    assert_eq!(&self::files(dir.path()), kept, "{case}: leftovers");

    persister.save(&Update { truncate_from: Some(Index(100)), ..Update::default() }).unwrap();
    persister
        .save(&Update {
            append: entries(state.entries.last().unwrap().index.0 + 1..=20, 5),
            ..Update::default()
        })
        .unwrap();
    let saved = persister.load().unwrap();
    drop(persister);
    assert_eq!(open_and_load(dir.path()).unwrap().1, saved, "{case}: saving after recovery");
}

#[test]
fn a_crash_at_any_step_of_a_snapshot_save_leaves_the_old_or_the_new_state() {
    let save = save_a_second_snapshot();
    let old_snapshot = snapshot_file_name(&save.old_files);
    let new_snapshot = snapshot_file_name(&save.new_files);
    assert_ne!(old_snapshot, new_snapshot);
    let new_snapshot_bytes = &save.new_files[&new_snapshot];
    let new_log = &save.new_files["log"];

    let mut crashed = save.old_files.clone();
    let half = &new_snapshot_bytes[..new_snapshot_bytes.len() / 2];
    crashed.insert(format!("{new_snapshot}.tmp"), half.to_vec());
    recovers(&crashed, &save.old_state, &save.old_files, "while writing the new snapshot");

    let mut crashed = save.old_files.clone();
    crashed.insert(new_snapshot.clone(), new_snapshot_bytes.clone());
    recovers(&crashed, &save.old_state, &save.old_files, "after renaming the new snapshot");

    crashed.insert("log.tmp".to_string(), new_log[..new_log.len() / 2].to_vec());
    recovers(&crashed, &save.old_state, &save.old_files, "while writing the new log");

    let mut crashed = save.old_files.clone();
    crashed.insert(new_snapshot.clone(), new_snapshot_bytes.clone());
    crashed.insert("log".to_string(), new_log.clone());
    recovers(&crashed, &save.new_state, &save.new_files, "before removing the old snapshot");

    recovers(&save.new_files, &save.new_state, &save.new_files, "after the save");
}

#[test]
fn a_leftover_temporary_file_is_removed_and_other_files_are_kept() {
    let saved = save_history();
    let dir = saved.dir.path();
    fs::write(dir.join("snapshot.99.tmp"), b"half a snapshot").unwrap();
    fs::write(dir.join("snapshot.notes"), b"not ours").unwrap();
    let (_, state) = open_and_load(dir).unwrap();
    assert_eq!(state, saved.after_last);
    assert!(!dir.join("snapshot.99.tmp").exists());
    assert!(dir.join("snapshot.notes").exists());
}

#[test]
fn a_second_open_in_the_same_process_is_refused_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let first = FilePersister::open(dir.path()).unwrap();
    match FilePersister::builder(dir.path()).open() {
        Err(PersistError::Locked { path }) => assert_eq!(path, dir.path()),
        other => panic!("expected the directory to be locked, got {other:?}"),
    }
    drop(first);
    FilePersister::open(dir.path()).unwrap();
}

#[test]
fn disk_use_stays_bounded_by_the_tail_when_snapshots_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let persister = FilePersister::open(dir.path()).unwrap();
    let mut peak = 0;
    for round in 0..50u64 {
        let first = round * 20 + 1;
        for index in first..first + 20 {
            persister
                .save(&Update { append: entries(index..=index, 1), ..Update::default() })
                .unwrap();
        }
        persister
            .save(&Update { snapshot: Some(snapshot(first + 14, 1)), ..Update::default() })
            .unwrap();
        peak = peak.max(persister.disk_usage());
        assert_eq!(files(dir.path()).len(), 2, "round {round}: the log and one snapshot file");
    }
    // Each round ends with five entries in the log and a 100-byte snapshot.
    assert!(peak < 1024, "peak disk use {peak}");
    assert_eq!(persister.load().unwrap().entries.len(), 5);
}
