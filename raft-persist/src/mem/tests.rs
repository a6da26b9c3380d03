//! Unit tests for [`MemPersister`]: copies are independent in both directions.

use raft_log::{Entry, Index, Term};

use super::MemPersister;
use crate::{Persister, Update};

fn append(persister: &MemPersister, index: u64) {
    let entry = Entry::new(Index(index), Term(1), vec![index as u8]);
    persister.save(&Update { append: vec![entry], ..Update::default() }).unwrap();
}

fn last_index(persister: &MemPersister) -> Option<u64> {
    persister.load().unwrap().entries.last().map(|entry| entry.index.0)
}

#[test]
fn a_copy_does_not_see_later_saves_to_the_original() {
    let original = MemPersister::new();
    append(&original, 1);
    let copy = original.clone();
    append(&original, 2);
    assert_eq!(last_index(&copy), Some(1));
    assert_eq!(last_index(&original), Some(2));
}

#[test]
fn the_original_does_not_see_saves_to_a_copy() {
    let original = MemPersister::new();
    append(&original, 1);
    let copy = original.clone();
    append(&copy, 2);
    assert_eq!(last_index(&original), Some(1));
    // One more entry: index, term, kind, data length and one byte of data.
    assert_eq!(copy.raft_state_size(), original.raft_state_size() + 5);
}
