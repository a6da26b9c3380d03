//! The directory lock across processes: a directory one process holds open
//! is refused to another.
//!
//! In a test binary of its own: the child process is forked from this one,
//! and between the fork and the exec it holds a copy of every file this
//! process has open, the lock files of other tests' persisters included, so
//! a test that reopened a directory at that moment would find it locked.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use raft_persist::{FilePersister, PersistError};

const HOLD_DIR: &str = "RAFT_PERSIST_TEST_HOLD_DIR";

#[test]
fn a_directory_open_in_another_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hold_a_directory_open_for_another_test", "--ignored", "--nocapture"])
        .env(HOLD_DIR, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let holding =
        lines.by_ref().map(|line| line.unwrap()).any(|line| line.contains("holding the directory"));
    assert!(holding, "the child process did not open the directory");

    assert!(matches!(FilePersister::open(dir.path()), Err(PersistError::Locked { .. })));
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    FilePersister::open(dir.path()).unwrap();
}

/// Run in a child process by `a_directory_open_in_another_process_is_refused`:
/// opens the directory it is given and holds it until its input closes.
#[test]
#[ignore = "a helper that another test runs in a child process"]
fn hold_a_directory_open_for_another_test() {
    let Some(dir) = std::env::var_os(HOLD_DIR) else { return };
    let persister = FilePersister::open(dir).unwrap();
    println!("holding the directory");
    std::io::stdin().lines().for_each(drop);
    drop(persister);
}
