//! The read check on fabricated answers: a read index below what the client
//! knew was written, or below what an earlier read saw, is a stale read.

use raft_core::{Index, ReadError, ReadId, ReadOutcome};

use super::Reads;
use crate::sim::Violation;

/// Every command is a client's (no no-ops): the last command through an
/// index is the index.
fn every_index_a_command(index: Index) -> Index {
    index
}

/// Node `node` (incarnation 0) answers read `id` with `index`, which must
/// pass the check.
fn index_given(reads: &mut Reads, node: usize, id: ReadId, index: u64) {
    let outcome = ReadOutcome { id, result: Ok(Index(index)) };
    let (_, result) = reads.answered((node, 0), outcome).expect("a read index above the floor");
    assert_eq!(result, Ok(Index(index)));
}

#[test]
fn a_read_index_below_an_acknowledged_write_is_a_stale_read() {
    let mut reads = Reads::new(3);
    let id = reads.begin(100, (1, 0), false, Index(7));
    let outcome = ReadOutcome { id, result: Ok(Index(6)) };
    match reads.answered((1, 0), outcome) {
        Err(Violation::StaleRead { node: 1, index: Index(6), floor: Index(7), why }) => {
            assert_eq!(why, "was acknowledged");
        }
        other => panic!("expected a stale read, got {other:?}"),
    }
}

#[test]
fn a_read_index_that_covers_the_acknowledged_writes_is_served_once_applied() {
    let mut reads = Reads::new(3);
    let id = reads.begin(100, (2, 0), true, Index(7));
    let (read, result) = reads.answered((2, 0), ReadOutcome { id, result: Ok(Index(7)) }).unwrap();
    assert!(read.on_follower);
    assert_eq!(result, Ok(Index(7)));
    // Not served before the service reaches the index.
    assert!(reads.serve((2, 0), Index(6), every_index_a_command).is_empty());
    let served = reads.serve((2, 0), Index(9), every_index_a_command);
    assert_eq!(served.len(), 1);
    assert_eq!((served[0].index, served[0].applied), (Index(7), Index(9)));
    // Served once only.
    assert!(reads.serve((2, 0), Index(10), every_index_a_command).is_empty());
}

#[test]
fn a_read_that_sees_less_than_an_earlier_read_saw_is_a_stale_read() {
    let mut reads = Reads::new(3);
    // The first read is served from a state through 12 (a follower ahead of
    // its read index); its commands through 11, with a no-op at 12.
    let first = reads.begin(100, (0, 0), false, Index(3));
    index_given(&mut reads, 0, first, 10);
    let served = reads.serve((0, 0), Index(12), |index| Index(index.0.min(11)));
    assert_eq!(served.len(), 1);
    // A read that begins afterwards must see command 11, though no write
    // past 3 was acknowledged.
    let second = reads.begin(200, (1, 0), false, Index(3));
    match reads.answered((1, 0), ReadOutcome { id: second, result: Ok(Index(10)) }) {
        Err(Violation::StaleRead { node: 1, index: Index(10), floor: Index(11), why }) => {
            assert_eq!(why, "was seen by a read served earlier");
        }
        other => panic!("expected a stale read, got {other:?}"),
    }
    // Reaching the no-op is not needed: index 11 holds the last command.
    let third = reads.begin(300, (1, 0), false, Index(3));
    assert!(reads.answered((1, 0), ReadOutcome { id: third, result: Ok(Index(11)) }).is_ok());
}

#[test]
fn a_read_begun_before_another_was_served_is_held_to_the_older_floor() {
    let mut reads = Reads::new(3);
    let early = reads.begin(100, (0, 0), false, Index(2));
    let first = reads.begin(100, (1, 0), false, Index(2));
    index_given(&mut reads, 1, first, 9);
    assert_eq!(reads.serve((1, 0), Index(9), every_index_a_command).len(), 1);
    // Concurrent with the first: index 5 is fine for it.
    assert!(reads.answered((0, 0), ReadOutcome { id: early, result: Ok(Index(5)) }).is_ok());
}

#[test]
fn refusals_crashes_and_unknown_reads() {
    let mut reads = Reads::new(3);
    let refused = reads.begin(100, (0, 0), false, Index(4));
    let result = Err(ReadError::NotLeader { leader_hint: None });
    let (_, result) = reads.answered((0, 0), ReadOutcome { id: refused, result }).unwrap();
    assert!(result.is_err());
    // Answered twice, or by a node not asked: the driver contract.
    let outcome = ReadOutcome { id: refused, result: Ok(Index(4)) };
    assert!(matches!(reads.answered((0, 0), outcome), Err(Violation::DriverContract { .. })));
    let other = reads.begin(100, (0, 0), false, Index(4));
    let outcome = ReadOutcome { id: other, result: Ok(Index(4)) };
    assert!(matches!(reads.answered((1, 0), outcome), Err(Violation::DriverContract { .. })));
    // A crash loses the node's reads; a later incarnation serves none of them.
    let lost = reads.begin(100, (2, 0), false, Index(4));
    index_given(&mut reads, 2, lost, 8);
    let unanswered = reads.begin(100, (2, 0), false, Index(4));
    assert_eq!(reads.waiting(100, 1_000), 2);
    reads.crashed(2);
    assert_eq!(reads.waiting(100, 1_000), 1);
    assert!(reads.serve((2, 1), Index(20), every_index_a_command).is_empty());
    let outcome = ReadOutcome { id: unanswered, result: Ok(Index(8)) };
    assert!(reads.answered((2, 1), outcome).is_err());
    // The client stops waiting on reads older than its timeout.
    assert_eq!(reads.waiting(2_000, 1_000), 0);
}
