//! Unit tests of the store's writes and deletes.

use raft_rsm::StateMachine;

use crate::{KvError, KvStore, Reply, Request};

fn put(key: &str, value: &str, version: u64) -> Request {
    Request::Put { key: key.to_owned(), value: value.to_owned(), version }
}

fn set(key: &str, value: &str) -> Request {
    Request::Set { key: key.to_owned(), value: value.to_owned() }
}

fn delete(key: &str, version: Option<u64>) -> Request {
    Request::Delete { key: key.to_owned(), version }
}

fn get(key: &str) -> Request {
    Request::Get { key: key.to_owned() }
}

#[test]
fn set_creates_a_missing_key_at_version_one_and_counts_on() {
    let mut store = KvStore::default();
    assert_eq!(store.apply(set("k", "a")), Reply::Written { version: 1 });
    assert_eq!(store.apply(put("k", "b", 1)), Reply::Done);
    assert_eq!(store.apply(set("k", "c")), Reply::Written { version: 3 });
    assert_eq!(store.get("k"), Some(("c", 3)));
}

#[test]
fn delete_without_a_version_removes_the_key() {
    let mut store = KvStore::default();
    store.apply(put("k", "a", 0));
    assert_eq!(store.apply(delete("k", None)), Reply::Done);
    assert_eq!(store.apply(get("k")), Reply::Failed(KvError::NoKey));
    assert!(store.is_empty());
}

#[test]
fn delete_at_the_wrong_version_changes_nothing() {
    let mut store = KvStore::default();
    store.apply(put("k", "a", 0));
    store.apply(put("k", "b", 1));
    assert_eq!(store.apply(delete("k", Some(1))), Reply::Failed(KvError::VersionMismatch));
    assert_eq!(store.get("k"), Some(("b", 2)));
    assert_eq!(store.apply(delete("k", Some(2))), Reply::Done);
    assert_eq!(store.get("k"), None);
}

#[test]
fn delete_of_a_missing_key_is_no_key() {
    let mut store = KvStore::default();
    assert_eq!(store.apply(delete("k", None)), Reply::Failed(KvError::NoKey));
    assert_eq!(store.apply(delete("k", Some(0))), Reply::Failed(KvError::NoKey));
}

#[test]
fn a_deleted_key_is_created_afresh_at_version_zero() {
    let mut store = KvStore::default();
    store.apply(put("k", "a", 0));
    store.apply(delete("k", None));
    assert_eq!(store.apply(put("k", "b", 1)), Reply::Failed(KvError::NoKey));
    assert_eq!(store.apply(put("k", "b", 0)), Reply::Done);
    assert_eq!(store.get("k"), Some(("b", 1)));
}

#[test]
fn deletes_and_sets_survive_a_snapshot_and_restore() {
    let mut store = KvStore::default();
    store.apply(set("a", "1"));
    store.apply(set("b", "2"));
    store.apply(delete("a", None));
    let mut restored = KvStore::default();
    restored.restore(&store.snapshot()).expect("a snapshot restores");
    assert_eq!(restored, store);
    assert_eq!(restored.get("a"), None);
    assert_eq!(restored.get("b"), Some(("2", 1)));
}
