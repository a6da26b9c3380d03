//! Tests of the whole-batch check of AppendEntries.

use raft_log::{Entry, Index, NodeId, Term};

use super::{BadBatch, check_batch};
use crate::AppendRequest;

fn request(prev: (u64, u64), entries: &[(u64, u64)]) -> AppendRequest {
    AppendRequest {
        term: Term(5),
        leader: NodeId(1),
        prev_log_index: Index(prev.0),
        prev_log_term: Term(prev.1),
        entries: entries.iter().map(|&(i, t)| Entry::new(Index(i), Term(t), vec![])).collect(),
        leader_commit: Index(0),
        read_round: 0,
    }
}

#[test]
fn a_well_formed_batch_passes() {
    assert_eq!(check_batch(&request((3, 2), &[(4, 2), (5, 4), (6, 5)])), Ok(()));
    assert_eq!(check_batch(&request((3, 2), &[])), Ok(()));
}

#[test]
fn a_gap_or_a_repeat_is_refused() {
    let expected = Index(5);
    assert_eq!(
        check_batch(&request((3, 2), &[(4, 2), (6, 2)])),
        Err(BadBatch::NotContiguous { expected, found: Index(6) })
    );
    assert_eq!(
        check_batch(&request((3, 2), &[(3, 2)])),
        Err(BadBatch::NotContiguous { expected: Index(4), found: Index(3) })
    );
}

#[test]
fn falling_terms_are_refused() {
    assert_eq!(
        check_batch(&request((3, 3), &[(4, 2)])),
        Err(BadBatch::DecreasingTerm { index: Index(4) })
    );
    assert_eq!(
        check_batch(&request((3, 2), &[(4, 4), (5, 3)])),
        Err(BadBatch::DecreasingTerm { index: Index(5) })
    );
}

#[test]
fn terms_past_the_leaders_are_refused() {
    assert_eq!(
        check_batch(&request((3, 2), &[(4, 6)])),
        Err(BadBatch::TermFromTheFuture { index: Index(4) })
    );
    assert_eq!(
        check_batch(&request((3, 6), &[])),
        Err(BadBatch::TermFromTheFuture { index: Index(3) })
    );
}
