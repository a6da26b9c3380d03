//! Tests of the answer table.

use crossbeam_channel::bounded;
use raft_core::{Index, Term};

use super::{Answers, Claim};

#[test]
fn an_answer_waited_for_goes_to_its_submit() {
    let mut answers = Answers::new(4);
    let (sender, receiver) = bounded(1);
    assert!(matches!(answers.wait_for(Index(3), Term(2), sender), Claim::Registered));
    answers.applied(Index(3), Term(2), "three");
    assert_eq!(receiver.try_recv(), Ok(Ok("three")));
}

#[test]
fn an_answer_that_came_first_is_kept_for_its_submit() {
    let mut answers = Answers::new(4);
    answers.applied(Index(3), Term(2), "three");
    let (sender, _receiver) = bounded(1);
    assert!(matches!(answers.wait_for(Index(3), Term(2), sender), Claim::Ready(Ok("three"))));
}

#[test]
fn another_entry_at_the_index_means_the_lead_was_lost() {
    let mut answers = Answers::new(4);
    let (sender, receiver) = bounded(1);
    answers.wait_for(Index(3), Term(2), sender);
    answers.applied(Index(3), Term(5), "someone else's");
    assert_eq!(receiver.try_recv(), Ok(Err(Term(5))));
}

#[test]
fn the_oldest_unclaimed_answers_are_dropped_past_the_capacity() {
    let mut answers = Answers::new(2);
    for n in 1..=3 {
        answers.applied(Index(n), Term(1), n);
    }
    let (sender, _receiver) = bounded(1);
    assert!(matches!(answers.wait_for(Index(1), Term(1), sender.clone()), Claim::Registered));
    assert!(matches!(answers.wait_for(Index(3), Term(1), sender), Claim::Ready(Ok(3))));
}

#[test]
fn a_snapshot_ends_the_waits_it_covers() {
    let mut answers = Answers::<&str>::new(4);
    let (early, early_receiver) = bounded(1);
    let (late, late_receiver) = bounded(1);
    answers.wait_for(Index(3), Term(2), early);
    answers.wait_for(Index(9), Term(2), late);
    answers.covered_through(Index(5), Term(3));
    assert_eq!(early_receiver.try_recv(), Ok(Err(Term(3))));
    assert!(late_receiver.try_recv().is_err(), "a wait past the snapshot goes on");
}
