//! Tests of the per-follower progress state machine.

use raft_log::Index;

use super::{Progress, ProgressState, Resume, Window};

const WINDOW: Window = Window { messages: 2, bytes: 1_000 };

#[test]
fn a_probe_waits_for_its_answer_then_replicates() {
    let mut progress = Progress::new(Index(10));
    assert!(progress.can_send(WINDOW));
    progress.sent_entries(Index(10), 0);
    assert!(!progress.can_send(WINDOW), "one probe at a time");
    progress.on_success(Index(10));
    assert_eq!(progress.state, ProgressState::Replicate);
    assert_eq!(progress.next_index, Index(11));
    assert!(progress.can_send(WINDOW));
}

#[test]
fn the_window_bounds_messages_and_bytes_and_frees_on_match() {
    let mut progress = Progress::new(Index(0));
    progress.on_success(Index(0));
    progress.sent_entries(Index(5), 100);
    progress.sent_entries(Index(9), 100);
    assert!(!progress.can_send(WINDOW), "two messages fill the window");
    assert_eq!(progress.next_index, Index(10));
    progress.on_success(Index(5));
    assert!(progress.can_send(WINDOW), "the first answer frees a place");
    progress.sent_entries(Index(20), 2_000);
    assert!(!progress.can_send(WINDOW), "the bytes fill the window");
    progress.on_success(Index(20));
    assert!(progress.can_send(WINDOW));
}

#[test]
fn a_rejection_probes_again_at_once_and_a_failure_at_the_next_heartbeat() {
    let mut progress = Progress::new(Index(0));
    progress.on_success(Index(3));
    progress.sent_entries(Index(8), 10);
    progress.become_probe(Index(2), Resume::Now);
    assert_eq!(progress.next_index, Index(4), "never below the match");
    assert!(progress.can_send(WINDOW));

    progress.become_probe(Index(4), Resume::AtHeartbeat);
    assert!(!progress.can_send(WINDOW));
    assert!(!progress.on_tick(), "a probe paused for the heartbeat waits for it");
    progress.on_heartbeat();
    assert!(progress.can_send(WINDOW));
}

#[test]
fn the_first_failure_is_retried_at_the_next_tick_and_later_ones_at_the_heartbeat() {
    let mut progress = Progress::new(Index(0));
    let resume = progress.on_failure();
    assert_eq!(resume, Resume::NextTick);
    progress.become_probe(Index(1), resume);
    assert!(!progress.can_send(WINDOW));
    assert!(progress.on_tick());
    assert!(progress.can_send(WINDOW));
    progress.sent_entries(Index(0), 0);

    assert_eq!(progress.on_failure(), Resume::AtHeartbeat, "a second failure in a row");
    progress.on_answer();
    assert_eq!(progress.on_failure(), Resume::NextTick, "an answer starts the count again");
}

#[test]
fn the_snapshot_state_sends_nothing_until_its_answer() {
    let mut progress = Progress::new(Index(50));
    progress.become_snapshot(Index(40));
    assert!(!progress.can_send(WINDOW));
    progress.on_heartbeat();
    assert!(!progress.can_send(WINDOW), "a heartbeat does not end the snapshot state");
    progress.on_success(Index(12));
    assert_eq!(progress.state, ProgressState::Snapshot, "a match short of the snapshot");
    progress.record_match(Index(40));
    progress.become_replicate();
    assert_eq!(progress.next_index, Index(41));
    assert!(progress.can_send(WINDOW));
}
