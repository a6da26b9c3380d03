//! The conformance suite every [`Persister`] backend passes, written once as
//! generic scenarios over a [`Backend`] and run for [`MemPersister`] and
//! [`FilePersister`](raft_persist::FilePersister), including a property test
//! against a naive model with random restarts.

#[path = "conformance/backends.rs"]
mod backends;
#[path = "conformance/model.rs"]
mod model;

use quickcheck::{QuickCheck, TestResult};
use raft_log::{Entry, Index, NodeId, Term};
use raft_persist::{HardState, PersistError, PersistedState, Persister, Snapshot, Update};

use crate::backends::Backend;
use crate::model::Step;

/// The lab's measure, counted from scratch: the encoded hard state plus the
/// encoded entries.
pub(crate) fn raft_state_size_of(state: &PersistedState) -> u64 {
    let encoded = |bytes: Vec<u8>| bytes.len() as u64;
    encoded(postcard::to_allocvec(&state.hard_state).unwrap())
        + state
            .entries
            .iter()
            .map(|entry| encoded(postcard::to_allocvec(entry).unwrap()))
            .sum::<u64>()
}

fn entries(indices: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    indices
        .map(|index| Entry::new(Index(index), Term(term), format!("cmd {index}").into_bytes()))
        .collect()
}

fn appending(indices: std::ops::RangeInclusive<u64>, term: u64) -> Update {
    Update { append: entries(indices, term), ..Update::default() }
}

fn snapshot(index: u64, term: u64) -> Snapshot {
    Snapshot {
        index: Index(index),
        term: Term(term),
        data: format!("state through {index}").into_bytes(),
    }
}

fn indices(state: &PersistedState) -> Vec<u64> {
    state.entries.iter().map(|entry| entry.index.0).collect()
}

/// Loads before and after a restart, asserts both agree, and returns the state
/// and the restarted persister.
fn load_across_restart<B: Backend>(
    backend: &mut B,
    persister: B::Persister,
) -> (PersistedState, B::Persister) {
    let before = persister.load().unwrap();
    let persister = backend.reopen(persister);
    let after = persister.load().unwrap();
    assert_eq!(after, before, "a restart changed the state");
    (after, persister)
}

fn fresh_state_is_empty<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    let (state, persister) = load_across_restart(&mut backend, persister);
    assert_eq!(state, PersistedState::default());
    assert_eq!(persister.raft_state_size(), raft_state_size_of(&state));
    assert_eq!(persister.snapshot_size(), 0);
}

fn hard_state_round_trips<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    let voted = HardState { term: Term(7), voted_for: Some(NodeId(2)) };
    persister.save(&Update { hard_state: Some(voted), ..Update::default() }).unwrap();
    let (state, persister) = load_across_restart(&mut backend, persister);
    assert_eq!(state.hard_state, voted);

    let next_term = HardState { term: Term(8), voted_for: None };
    persister.save(&Update { hard_state: Some(next_term), ..Update::default() }).unwrap();
    let (state, _) = load_across_restart(&mut backend, persister);
    assert_eq!(state.hard_state, next_term);
}

fn appended_entries_load_in_order<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    persister.save(&appending(1..=3, 1)).unwrap();
    persister.save(&appending(4..=4, 2)).unwrap();
    let (state, _) = load_across_restart(&mut backend, persister);
    let mut expected = entries(1..=3, 1);
    expected.extend(entries(4..=4, 2));
    assert_eq!(state.entries, expected);
    assert_eq!(state.snapshot, None);
}

fn truncation_then_append_replaces_the_suffix<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    persister.save(&appending(1..=5, 1)).unwrap();
    persister
        .save(&Update {
            truncate_from: Some(Index(3)),
            append: entries(3..=4, 2),
            ..Update::default()
        })
        .unwrap();
    let (state, persister) = load_across_restart(&mut backend, persister);
    let mut expected = entries(1..=2, 1);
    expected.extend(entries(3..=4, 2));
    assert_eq!(state.entries, expected);

    // A truncation alone, and one past the end that drops nothing.
    persister.save(&Update { truncate_from: Some(Index(2)), ..Update::default() }).unwrap();
    persister.save(&Update { truncate_from: Some(Index(9)), ..Update::default() }).unwrap();
    let (state, _) = load_across_restart(&mut backend, persister);
    assert_eq!(state.entries, entries(1..=1, 1));
}

fn snapshot_drops_the_entries_it_covers<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    persister.save(&appending(1..=5, 1)).unwrap();
    persister.save(&Update { snapshot: Some(snapshot(3, 1)), ..Update::default() }).unwrap();
    let (state, persister) = load_across_restart(&mut backend, persister);
    assert_eq!(state.snapshot, Some(snapshot(3, 1)));
    assert_eq!(indices(&state), vec![4, 5]);

    // Appends continue after the tail; a later snapshot replaces this one.
    persister.save(&appending(6..=7, 1)).unwrap();
    persister.save(&Update { snapshot: Some(snapshot(6, 1)), ..Update::default() }).unwrap();
    let (state, _) = load_across_restart(&mut backend, persister);
    assert_eq!(state.snapshot, Some(snapshot(6, 1)));
    assert_eq!(indices(&state), vec![7]);
}

fn snapshot_past_the_end_with_truncation_restarts_the_log<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    persister.save(&appending(1..=3, 1)).unwrap();
    // A follower installing a leader's snapshot its log does not reach.
    persister
        .save(&Update {
            hard_state: Some(HardState { term: Term(4), voted_for: None }),
            snapshot: Some(snapshot(10, 4)),
            truncate_from: Some(Index(11)),
            append: entries(11..=12, 4),
        })
        .unwrap();
    let (state, _) = load_across_restart(&mut backend, persister);
    assert_eq!(state.hard_state.term, Term(4));
    assert_eq!(state.snapshot, Some(snapshot(10, 4)));
    assert_eq!(state.entries, entries(11..=12, 4));
}

fn non_contiguous_updates_are_refused_and_change_nothing<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    persister.save(&appending(1..=3, 1)).unwrap();
    let before = persister.load().unwrap();
    let size = persister.raft_state_size();

    let gap = Update {
        hard_state: Some(HardState { term: Term(9), voted_for: Some(NodeId(1)) }),
        append: entries(5..=6, 1),
        ..Update::default()
    };
    assert!(matches!(
        persister.save(&gap),
        Err(PersistError::NotContiguous { last: Index(3), found: Index(5) })
    ));
    let skipping = Update {
        append: vec![Entry::new(Index(4), Term(1), vec![]), Entry::new(Index(6), Term(1), vec![])],
        ..Update::default()
    };
    assert!(matches!(
        persister.save(&skipping),
        Err(PersistError::NotContiguous { last: Index(4), found: Index(6) })
    ));
    let overlapping = appending(3..=4, 1);
    assert!(matches!(persister.save(&overlapping), Err(PersistError::NotContiguous { .. })));
    assert_eq!(persister.raft_state_size(), size);

    let (state, persister) = load_across_restart(&mut backend, persister);
    assert_eq!(state, before);
    persister.save(&appending(4..=4, 1)).unwrap();
    assert_eq!(indices(&persister.load().unwrap()), vec![1, 2, 3, 4]);
}

fn an_older_snapshot_is_refused<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    persister.save(&appending(1..=5, 1)).unwrap();
    persister.save(&Update { snapshot: Some(snapshot(4, 1)), ..Update::default() }).unwrap();
    assert!(matches!(
        persister.save(&Update { snapshot: Some(snapshot(2, 1)), ..Update::default() }),
        Err(PersistError::SnapshotBehind { index: Index(2), current: Index(4) })
    ));
    let (state, _) = load_across_restart(&mut backend, persister);
    assert_eq!(state.snapshot, Some(snapshot(4, 1)));
    assert_eq!(indices(&state), vec![5]);
}

fn sizes_follow_the_state<B: Backend>() {
    let mut backend = B::new();
    let persister = backend.open();
    let empty = persister.raft_state_size();
    persister.save(&appending(1..=20, 1)).unwrap();
    let full = persister.raft_state_size();
    assert!(full > empty);
    assert_eq!(full, raft_state_size_of(&persister.load().unwrap()));

    persister.save(&Update { snapshot: Some(snapshot(15, 1)), ..Update::default() }).unwrap();
    let compacted = persister.raft_state_size();
    assert!(compacted < full);
    assert_eq!(compacted, raft_state_size_of(&persister.load().unwrap()));
    assert_eq!(persister.snapshot_size(), snapshot(15, 1).data.len() as u64);

    let persister = backend.reopen(persister);
    assert_eq!(persister.raft_state_size(), compacted);
    assert_eq!(persister.snapshot_size(), snapshot(15, 1).data.len() as u64);
}

fn a_restart_gives_back_the_same_state<B: Backend>() {
    let mut backend = B::new();
    let mut persister = backend.open();
    for round in 0..5u64 {
        let first = round * 10 + 1;
        persister
            .save(&Update {
                hard_state: Some(HardState {
                    term: Term(round + 1),
                    voted_for: Some(NodeId(round)),
                }),
                append: entries(first..=first + 9, round + 1),
                ..Update::default()
            })
            .unwrap();
        if round % 2 == 1 {
            persister
                .save(&Update {
                    snapshot: Some(snapshot(first + 4, round + 1)),
                    ..Update::default()
                })
                .unwrap();
        }
        (_, persister) = load_across_restart(&mut backend, persister);
    }
    let state = persister.load().unwrap();
    assert_eq!(state.hard_state, HardState { term: Term(5), voted_for: Some(NodeId(4)) });
    assert_eq!(state.snapshot, Some(snapshot(35, 4)));
    assert_eq!(indices(&state), (36..=50).collect::<Vec<_>>());
}

fn random_histories_agree_with_the_model<B: Backend>() {
    QuickCheck::new()
        .tests(60)
        .quickcheck(model::agrees_with_model::<B> as fn(Vec<Step>) -> TestResult);
}

/// Runs each scenario against each backend, as `<backend>::<scenario>`.
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod mem {
            $(#[test] fn $scenario() { super::$scenario::<crate::backends::Mem>() })*
        }
        mod file {
            $(#[test] fn $scenario() { super::$scenario::<crate::backends::Files>() })*
        }
    };
}

conformance!(
    fresh_state_is_empty,
    hard_state_round_trips,
    appended_entries_load_in_order,
    truncation_then_append_replaces_the_suffix,
    snapshot_drops_the_entries_it_covers,
    snapshot_past_the_end_with_truncation_restarts_the_log,
    non_contiguous_updates_are_refused_and_change_nothing,
    an_older_snapshot_is_refused,
    sizes_follow_the_state,
    a_restart_gives_back_the_same_state,
    random_histories_agree_with_the_model,
);
