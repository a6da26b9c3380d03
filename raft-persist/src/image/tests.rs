//! Unit tests for [`Image`]: the update rules and the running byte count.

use raft_log::{Entry, Index, NodeId, Term};

use super::{Image, encoded_len};
use crate::{HardState, PersistError, Snapshot, Update};

fn entries(range: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    range
        .map(|index| Entry::new(Index(index), Term(term), vec![index as u8; index as usize]))
        .collect()
}

fn appended(range: std::ops::RangeInclusive<u64>) -> Image {
    let mut image = Image::new();
    image.save(&Update { append: entries(range, 1), ..Update::default() }).unwrap();
    image
}

fn snapshot(index: u64) -> Snapshot {
    Snapshot { index: Index(index), term: Term(1), data: vec![7; 3] }
}

fn indices(image: &Image) -> Vec<u64> {
    image.entries.iter().map(|entry| entry.index.0).collect()
}

fn recounted_size(image: &Image) -> u64 {
    encoded_len(&image.hard_state()) + image.entries.iter().map(encoded_len).sum::<u64>()
}

#[test]
fn encoded_len_matches_postcard_output() {
    let entry = Entry::new(Index(300), Term(70_000), vec![1; 200]);
    assert_eq!(encoded_len(&entry), postcard::to_allocvec(&entry).unwrap().len() as u64);
    let hard_state = HardState { term: Term(1 << 40), voted_for: Some(NodeId(3)) };
    assert_eq!(encoded_len(&hard_state), postcard::to_allocvec(&hard_state).unwrap().len() as u64);
}

#[test]
fn running_size_equals_a_recount_after_every_kind_of_change() {
    let mut image = appended(1..=10);
    assert_eq!(image.raft_state_size(), recounted_size(&image));
    image
        .save(&Update {
            hard_state: Some(HardState { term: Term(5), voted_for: Some(NodeId(2)) }),
            truncate_from: Some(Index(7)),
            append: entries(7..=8, 5),
            ..Update::default()
        })
        .unwrap();
    assert_eq!(image.raft_state_size(), recounted_size(&image));
    image.save(&Update { snapshot: Some(snapshot(4)), ..Update::default() }).unwrap();
    assert_eq!(indices(&image), vec![5, 6, 7, 8]);
    assert_eq!(image.raft_state_size(), recounted_size(&image));
}

#[test]
fn snapshot_inside_the_log_keeps_the_entries_after_it() {
    let mut image = appended(1..=5);
    image.save(&Update { snapshot: Some(snapshot(3)), ..Update::default() }).unwrap();
    assert_eq!(indices(&image), vec![4, 5]);
    assert_eq!(image.base_index(), Index(3));
}

#[test]
fn truncation_at_or_before_the_snapshot_empties_the_tail() {
    let mut image = appended(1..=5);
    image
        .save(&Update {
            snapshot: Some(snapshot(3)),
            truncate_from: Some(Index(2)),
            append: entries(4..=4, 2),
            ..Update::default()
        })
        .unwrap();
    assert_eq!(indices(&image), vec![4]);
    assert_eq!(image.entries[0].term, Term(2));
}

#[test]
fn append_after_a_snapshot_past_the_end_follows_the_snapshot() {
    let mut image = appended(1..=3);
    let gap = image.check(&Update {
        snapshot: Some(snapshot(9)),
        append: entries(4..=4, 1),
        ..Update::default()
    });
    assert!(matches!(gap, Err(PersistError::NotContiguous { last: Index(9), found: Index(4) })));
    image
        .save(&Update {
            snapshot: Some(snapshot(9)),
            append: entries(10..=11, 1),
            ..Update::default()
        })
        .unwrap();
    assert_eq!(indices(&image), vec![10, 11]);
}

#[test]
fn a_refused_update_changes_nothing() {
    let mut image = appended(1..=3);
    let before = image.clone();
    let skipping = Update {
        hard_state: Some(HardState { term: Term(9), voted_for: None }),
        append: vec![Entry::new(Index(4), Term(1), vec![]), Entry::new(Index(6), Term(1), vec![])],
        ..Update::default()
    };
    assert!(matches!(
        image.save(&skipping),
        Err(PersistError::NotContiguous { last: Index(4), found: Index(6) })
    ));
    assert_eq!(image, before);
}

#[test]
fn an_older_snapshot_is_refused() {
    let mut image = appended(1..=5);
    image.save(&Update { snapshot: Some(snapshot(4)), ..Update::default() }).unwrap();
    let result = image.save(&Update { snapshot: Some(snapshot(2)), ..Update::default() });
    assert!(matches!(
        result,
        Err(PersistError::SnapshotBehind { index: Index(2), current: Index(4) })
    ));
    assert_eq!(image.base_index(), Index(4));
}

#[test]
fn an_append_at_the_largest_index_is_refused_without_overflow() {
    let mut image = Image::new();
    let at_end = Snapshot { index: Index(u64::MAX), term: Term(1), data: vec![] };
    image.save(&Update { snapshot: Some(at_end), ..Update::default() }).unwrap();
    let result = image
        .save(&Update { append: vec![Entry::new(Index(0), Term(1), vec![])], ..Update::default() });
    assert!(matches!(result, Err(PersistError::NotContiguous { .. })));
}

#[test]
fn compaction_releases_the_dropped_entries_memory() {
    let mut image = appended(1..=200);
    image.save(&Update { snapshot: Some(snapshot(198)), ..Update::default() }).unwrap();
    assert_eq!(image.entries.len(), 2);
    assert!(image.entries.capacity() < 50, "capacity {}", image.entries.capacity());
}
