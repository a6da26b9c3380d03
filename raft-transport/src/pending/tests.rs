//! Unit tests of the pending-call table and its deadlines.

use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, unbounded};
use raft_log::NodeId;

use super::PendingCalls;
use crate::{CallError, ReplyCallback};

const WAIT: Duration = Duration::from_secs(10);

type Outcome = (Result<u32, CallError>, thread::ThreadId);

fn new_test_table(call_timeout: Duration) -> PendingCalls<u32> {
    PendingCalls::start("test-reaper".into(), call_timeout).expect("reaper thread")
}

/// A callback that reports its outcome and the thread it ran on.
fn reporting_callback() -> (ReplyCallback<u32>, Receiver<Outcome>) {
    let (tx, rx) = unbounded();
    (Box::new(move |outcome| tx.send((outcome, thread::current().id())).unwrap()), rx)
}

#[test]
fn complete_runs_the_callback_once_on_the_completing_thread() {
    let table = new_test_table(Duration::from_secs(60));
    let (callback, outcomes) = reporting_callback();
    let id = table.register(NodeId(2), callback).unwrap();
    assert!(table.complete(id, Ok(7)));
    assert!(!table.complete(id, Ok(8)), "a second outcome for the same call");
    assert_eq!(outcomes.recv_timeout(WAIT).unwrap(), (Ok(7), thread::current().id()));
    table.close();
    assert!(outcomes.try_recv().is_err());
}

#[test]
fn complete_on_reaper_runs_the_callback_once_on_the_reaper() {
    let table = new_test_table(Duration::from_secs(60));
    let (callback, outcomes) = reporting_callback();
    let id = table.register(NodeId(2), callback).unwrap();
    assert!(table.complete_on_reaper(id, Ok(7)));
    assert!(!table.complete_on_reaper(id, Ok(8)), "a second outcome for the same call");
    assert!(!table.complete(id, Ok(9)), "a second outcome for the same call");
    let (outcome, thread) = outcomes.recv_timeout(WAIT).unwrap();
    assert_eq!(outcome, Ok(7));
    assert_ne!(thread, thread::current().id());
    table.close();
    assert!(outcomes.try_recv().is_err());
}

#[test]
fn a_call_past_its_deadline_times_out_on_the_reaper() {
    let table = new_test_table(Duration::from_millis(20));
    let (callback, outcomes) = reporting_callback();
    let id = table.register(NodeId(3), callback).unwrap();
    let (outcome, thread) = outcomes.recv_timeout(WAIT).unwrap();
    assert_eq!(outcome, Err(CallError::TimedOut(NodeId(3))));
    assert_ne!(thread, thread::current().id());
    assert!(!table.complete(id, Ok(1)), "a reply after the deadline must be dropped");
}

#[test]
fn failures_run_on_the_reaper_not_the_caller() {
    let table = new_test_table(Duration::from_secs(60));
    let (callback, outcomes) = reporting_callback();
    let id = table.register(NodeId(2), callback).unwrap();
    table.fail(id, CallError::Unavailable(NodeId(2)));
    let (outcome, thread) = outcomes.recv_timeout(WAIT).unwrap();
    assert_eq!(outcome, Err(CallError::Unavailable(NodeId(2))));
    assert_ne!(thread, thread::current().id());
}

#[test]
fn fail_unreachable_ends_only_the_matching_peers_calls() {
    let table = new_test_table(Duration::from_secs(60));
    let (to_two, two) = reporting_callback();
    let (to_three, three) = reporting_callback();
    table.register(NodeId(2), to_two).unwrap();
    let kept = table.register(NodeId(3), to_three).unwrap();
    table.fail_unreachable(|peer| peer == NodeId(2));
    assert_eq!(two.recv_timeout(WAIT).unwrap().0, Err(CallError::Unreachable(NodeId(2))));
    assert!(table.complete(kept, Ok(5)));
    assert_eq!(three.recv_timeout(WAIT).unwrap().0, Ok(5));
}

#[test]
fn close_fails_pending_and_later_calls_with_shutdown_off_the_calling_thread() {
    let table = new_test_table(Duration::from_secs(60));
    let (pending, pending_outcome) = reporting_callback();
    let id = table.register(NodeId(2), pending).unwrap();
    table.close();
    assert_eq!(pending_outcome.recv_timeout(WAIT).unwrap().0, Err(CallError::Shutdown));
    assert!(!table.complete(id, Ok(1)));

    let (late, late_outcome) = reporting_callback();
    assert_eq!(table.register(NodeId(2), late), None);
    let (outcome, thread) = late_outcome.recv_timeout(WAIT).unwrap();
    assert_eq!(outcome, Err(CallError::Shutdown));
    assert_ne!(thread, thread::current().id());
    table.close();
}

#[test]
fn a_panicking_callback_leaves_the_reaper_running() {
    let table = new_test_table(Duration::from_secs(60));
    let first = table.register(NodeId(2), Box::new(|_| panic!("callback bug"))).unwrap();
    table.fail(first, CallError::Unavailable(NodeId(2)));
    let (callback, outcomes) = reporting_callback();
    let second = table.register(NodeId(2), callback).unwrap();
    table.fail(second, CallError::Unavailable(NodeId(2)));
    assert_eq!(outcomes.recv_timeout(WAIT).unwrap().0, Err(CallError::Unavailable(NodeId(2))));
}
