//! Unit tests for [`Log`]: edge cases and hand-built logs.

use super::*;

/// A log with base `(base_index, base_term)` followed by one entry per term in
/// `terms`, each holding its index as data.
fn log_of_terms(base_index: u64, base_term: u64, terms: &[u64]) -> Log {
    let entries = (base_index + 1..)
        .zip(terms)
        .map(|(index, &term)| Entry::new(Index(index), Term(term), index.to_le_bytes().to_vec()))
        .collect();
    Log::from_parts(Index(base_index), Term(base_term), entries).expect("a well-formed log")
}

#[test]
fn empty_log_answers_from_the_zero_base() {
    let log = Log::new();
    assert_eq!((log.base_index(), log.base_term()), (Index(0), Term(0)));
    assert_eq!(
        (log.first_index(), log.last_index(), log.next_index()),
        (Index(1), Index(0), Index(1))
    );
    assert_eq!(log.last_term(), Term(0));
    assert!(log.is_empty());
    assert_eq!(log.len(), 0);
    assert_eq!(log.term(Index(0)), Some(Term(0)));
    assert_eq!(log.term(Index(1)), None);
    assert_eq!(log.entry(Index(0)), None);
    assert_eq!(log.entry(Index(1)), None);
    assert_eq!(log.entries(Index(1)..Index(1)), Ok(&[][..]));
    assert_eq!(log.entries_from(Index(1)), Ok(&[][..]));
    assert_eq!(
        log.entries(Index(0)..Index(1)),
        Err(LogError::Compacted { index: Index(0), base: Index(0) })
    );
    assert_eq!(
        log.entries(Index(1)..Index(2)),
        Err(LogError::Unavailable { index: Index(1), last: Index(0) })
    );
    assert_eq!(log.conflict_at(Index(0)), None);
    assert_eq!(log.conflict_at(Index(1)), None);
    assert_eq!(log.first_index_of_term(Term(0)), None);
    assert_eq!(log.last_index_of_term(Term(0)), Some(Index(0)));
    assert_eq!(log.last_index_of_term(Term(1)), None);
}

#[test]
fn empty_log_refuses_to_truncate_the_base_or_compact_past_the_end() {
    let mut log = Log::new();
    assert_eq!(
        log.truncate_from(Index(0)),
        Err(LogError::Compacted { index: Index(0), base: Index(0) })
    );
    assert_eq!(log.truncate_from(Index(1)), Ok(()));
    assert_eq!(log.compact_through(Index(0)), Ok(()));
    assert_eq!(
        log.compact_through(Index(1)),
        Err(LogError::Unavailable { index: Index(1), last: Index(0) })
    );
    assert_eq!(log, Log::new());
}

#[test]
fn base_only_log_answers_the_base_term_and_nothing_else() {
    let log = Log::with_base(Index(10), Term(3));
    assert_eq!(
        (log.first_index(), log.last_index(), log.next_index()),
        (Index(11), Index(10), Index(11))
    );
    assert_eq!(log.last_term(), Term(3));
    assert!(log.is_empty());
    assert_eq!(log.term(Index(10)), Some(Term(3)));
    assert_eq!(log.term(Index(9)), None);
    assert_eq!(log.term(Index(11)), None);
    assert_eq!(log.entry(Index(10)), None);
    assert_eq!(log.entries(Index(11)..Index(11)), Ok(&[][..]));
    assert_eq!(
        log.entries(Index(10)..Index(11)),
        Err(LogError::Compacted { index: Index(10), base: Index(10) })
    );
    assert_eq!(log.conflict_at(Index(10)), None, "the base is committed and cannot conflict");
    assert_eq!(log.first_index_of_term(Term(3)), None, "the base is not in the tail");
    assert_eq!(log.last_index_of_term(Term(3)), Some(Index(10)));
    assert_eq!(log.last_index_of_term(Term(2)), None);
}

#[test]
fn base_only_log_accepts_only_entries_after_the_base() {
    let mut log = Log::with_base(Index(10), Term(3));
    assert_eq!(
        log.append(vec![Entry::new(Index(1), Term(3), b"x".to_vec())]),
        Err(LogError::NotContiguous { last: Index(10), found: Index(1) })
    );
    assert_eq!(
        log.truncate_from(Index(10)),
        Err(LogError::Compacted { index: Index(10), base: Index(10) })
    );
    assert_eq!(log.compact_through(Index(4)), Ok(()));
    assert_eq!(log, Log::with_base(Index(10), Term(3)));
    assert_eq!(log.push(Term(3), b"y".to_vec()), Index(11));
    assert_eq!(log.entries_from(Index(11)).map(<[Entry]>::len), Ok(1));
}

#[test]
fn entries_reports_the_first_broken_rule_in_documented_order() {
    let log = log_of_terms(5, 1, &[1, 1, 2]);
    // Inverted and compacted at once: inverted wins.
    assert_eq!(
        log.entries(Index(4)..Index(2)),
        Err(LogError::InvertedRange { start: Index(4), end: Index(2) })
    );
    // Compacted and unavailable at once: compacted wins.
    assert_eq!(
        log.entries(Index(5)..Index(20)),
        Err(LogError::Compacted { index: Index(5), base: Index(5) })
    );
    assert_eq!(
        log.entries(Index(9)..Index(10)),
        Err(LogError::Unavailable { index: Index(9), last: Index(8) })
    );
    let indices: Vec<Index> =
        log.entries(Index(6)..Index(9)).expect("held").iter().map(|entry| entry.index).collect();
    assert_eq!(indices, [Index(6), Index(7), Index(8)]);
}

#[test]
fn compaction_through_the_last_entry_keeps_its_term_as_the_base() {
    let mut log = log_of_terms(0, 0, &[1, 2, 2]);
    log.compact_through(Index(3)).expect("index 3 is held");
    assert_eq!((log.base_index(), log.base_term()), (Index(3), Term(2)));
    assert!(log.is_empty());
    assert_eq!(log.last_term(), Term(2));
    assert_eq!(log.push(Term(2), Vec::new()), Index(4));
}

#[test]
fn compaction_leaves_a_buffer_sized_for_the_tail() {
    let mut log = Log::new();
    for n in 0..1000u32 {
        log.push(Term(1), n.to_le_bytes().to_vec());
    }
    log.compact_through(Index(990)).expect("index 990 is held");
    assert_eq!(log.len(), 10);
    assert!(log.capacity() < 1000, "capacity {} still holds the dropped prefix", log.capacity());
}

#[test]
fn truncation_drops_the_suffix_and_appending_resumes_there() {
    let mut log = log_of_terms(0, 0, &[1, 1, 2, 2]);
    log.truncate_from(Index(3)).expect("after the base");
    assert_eq!((log.last_index(), log.last_term()), (Index(2), Term(1)));
    log.truncate_from(Index(9)).expect("past the end does nothing");
    assert_eq!(log.last_index(), Index(2));
    log.append(vec![Entry::new(Index(3), Term(3), Vec::new())]).expect("follows index 2");
    assert_eq!(log.term(Index(3)), Some(Term(3)));
}

#[test]
fn reset_within_the_log_discards_every_entry() {
    let mut log = log_of_terms(0, 0, &[1, 1, 2, 2]);
    log.reset(Index(2), Term(5));
    assert_eq!(log, Log::with_base(Index(2), Term(5)));
}

// Fast backtracking, in the three cases of the lab's guidance. Each log lists
// the terms of its entries from index 1.

#[test]
fn backtracking_when_the_leader_lacks_the_conflicting_term() {
    let follower = log_of_terms(0, 0, &[4, 5, 5]);
    let leader = log_of_terms(0, 0, &[4, 6, 6, 6]);
    let (term, first) = follower.conflict_at(Index(3)).expect("the follower holds index 3");
    assert_eq!((term, first), (Term(5), Index(2)));
    assert_eq!(leader.last_index_of_term(term), None, "the leader resumes at XIndex, 2");
}

#[test]
fn backtracking_when_the_leader_has_the_conflicting_term() {
    let follower = log_of_terms(0, 0, &[4, 4, 4]);
    let leader = log_of_terms(0, 0, &[4, 6, 6, 6]);
    let (term, first) = follower.conflict_at(Index(3)).expect("the follower holds index 3");
    assert_eq!((term, first), (Term(4), Index(1)));
    assert_eq!(leader.last_index_of_term(term), Some(Index(1)));
}

#[test]
fn backtracking_when_the_follower_log_is_too_short() {
    let follower = log_of_terms(0, 0, &[4]);
    assert_eq!(follower.conflict_at(Index(3)), None);
    assert_eq!(follower.next_index(), Index(2), "XLen");
}

#[test]
fn conflict_hint_stops_at_the_first_index_after_the_base() {
    // Term 2 began before the snapshot; the tail's first term-2 entry is 6.
    let follower = log_of_terms(5, 2, &[2, 2, 3, 3]);
    assert_eq!(follower.conflict_at(Index(7)), Some((Term(2), Index(6))));
    assert_eq!(follower.conflict_at(Index(9)), Some((Term(3), Index(8))));
    assert_eq!(follower.conflict_at(Index(5)), None);
    assert_eq!(follower.conflict_at(Index(10)), None);
}

#[test]
fn term_lookups_skip_absent_terms_and_fall_back_to_the_base() {
    let log = log_of_terms(5, 2, &[3, 3, 5, 5, 5, 7]);
    assert_eq!(log.first_index_of_term(Term(3)), Some(Index(6)));
    assert_eq!(log.last_index_of_term(Term(3)), Some(Index(7)));
    assert_eq!(log.first_index_of_term(Term(5)), Some(Index(8)));
    assert_eq!(log.last_index_of_term(Term(5)), Some(Index(10)));
    assert_eq!(log.last_index_of_term(Term(7)), Some(Index(11)));
    for absent in [Term(1), Term(4), Term(6), Term(8)] {
        assert_eq!(log.first_index_of_term(absent), None, "{absent}");
        assert_eq!(log.last_index_of_term(absent), None, "{absent}");
    }
    assert_eq!(log.first_index_of_term(Term(2)), None);
    assert_eq!(log.last_index_of_term(Term(2)), Some(Index(5)), "only the base has term 2");
}

// Regression tests, each named after the bug it pins.

/// `append` accepted a batch whose terms decrease, breaking the ordering the
/// binary-searching term lookups rely on.
#[test]
fn append_accepted_a_decreasing_term() {
    let mut log = log_of_terms(0, 0, &[1, 3]);
    let before = log.clone();
    let batch =
        vec![Entry::new(Index(3), Term(3), Vec::new()), Entry::new(Index(4), Term(2), Vec::new())];
    assert_eq!(
        log.append(batch),
        Err(LogError::DecreasingTerm { index: Index(4), term: Term(2), previous: Term(3) })
    );
    assert_eq!(log, before);
    assert_eq!(
        Log::from_parts(Index(5), Term(4), vec![Entry::new(Index(6), Term(3), Vec::new())]),
        Err(LogError::DecreasingTerm { index: Index(6), term: Term(3), previous: Term(4) })
    );
}

/// `NotContiguous::last` was documented as the index the entry had to carry,
/// while it holds the index the entry had to follow.
#[test]
fn not_contiguous_names_the_index_the_entry_had_to_follow() {
    let mut log = log_of_terms(0, 0, &[1, 1]);
    let batch =
        vec![Entry::new(Index(3), Term(1), Vec::new()), Entry::new(Index(5), Term(1), Vec::new())];
    assert_eq!(log.append(batch), Err(LogError::NotContiguous { last: Index(3), found: Index(5) }));
}

/// Looking up any index in a log whose base is the largest index overflowed
/// computing `base + 1`.
#[test]
fn lookups_overflowed_past_a_base_at_the_largest_index() {
    let log = Log::with_base(Index(u64::MAX), Term(1));
    assert_eq!(log.entry(Index(7)), None);
    assert_eq!(log.term(Index(7)), None);
    assert_eq!(log.term(Index(u64::MAX)), Some(Term(1)));
    assert_eq!(log.conflict_at(Index(7)), None);
}
