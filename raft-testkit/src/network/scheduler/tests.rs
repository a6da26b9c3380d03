//! Unit tests of the timer thread.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Fire, Scheduler};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn tasks_run_in_deadline_order_whatever_the_order_they_were_scheduled_in() {
    let scheduler = Scheduler::start();
    let (sender, receiver) = mpsc::channel();
    let base = Instant::now() + Duration::from_millis(100);
    for (label, offset) in [(3, 30), (1, 10), (4, 30), (2, 20)] {
        let sender = sender.clone();
        scheduler.at(
            base + Duration::from_millis(offset),
            Box::new(move |fire| sender.send((label, fire)).expect("receiver alive")),
        );
    }
    let order: Vec<_> =
        (0..4).map(|_| receiver.recv_timeout(WAIT).expect("every task runs")).collect();
    assert_eq!(order, [(1, Fire::Due), (2, Fire::Due), (3, Fire::Due), (4, Fire::Due)]);
}

#[test]
fn a_task_does_not_run_before_its_deadline() {
    let scheduler = Scheduler::start();
    let (sender, receiver) = mpsc::channel();
    let deadline = Instant::now() + Duration::from_millis(20);
    scheduler.at(
        deadline,
        Box::new(move |fire| sender.send((Instant::now(), fire)).expect("receiver alive")),
    );
    let (ran, fire) = receiver.recv_timeout(WAIT).expect("the task runs");
    assert_eq!(fire, Fire::Due);
    assert!(ran >= deadline);
}

#[test]
fn stop_cancels_pending_tasks_and_later_ones_run_cancelled() {
    let scheduler = Scheduler::start();
    let (sender, receiver) = mpsc::channel();
    for label in 0..3 {
        let sender = sender.clone();
        scheduler.after(
            Duration::from_secs(3600),
            Box::new(move |fire| sender.send((label, fire)).expect("receiver alive")),
        );
    }
    assert_eq!(scheduler.pending(), 3);
    scheduler.stop();
    let mut cancelled: Vec<_> =
        (0..3).map(|_| receiver.recv_timeout(WAIT).expect("stop runs every task")).collect();
    cancelled.sort_unstable_by_key(|(label, _)| *label);
    assert_eq!(cancelled, [(0, Fire::Cancelled), (1, Fire::Cancelled), (2, Fire::Cancelled)]);

    let (late_sender, late_receiver) = mpsc::channel();
    scheduler.after(
        Duration::from_secs(3600),
        Box::new(move |fire| late_sender.send(fire).expect("receiver alive")),
    );
    assert_eq!(late_receiver.recv_timeout(WAIT), Ok(Fire::Cancelled));
}

#[test]
fn dropping_the_scheduler_cancels_what_is_pending() {
    let scheduler = Scheduler::start();
    let (sender, receiver) = mpsc::channel();
    scheduler.after(
        Duration::from_secs(3600),
        Box::new(move |fire| sender.send(fire).expect("receiver alive")),
    );
    drop(scheduler);
    assert_eq!(receiver.recv_timeout(WAIT), Ok(Fire::Cancelled));
}

#[test]
fn a_panicking_task_does_not_stop_the_timer() {
    let scheduler = Scheduler::start();
    scheduler.after(Duration::ZERO, Box::new(|_| panic!("a bad callback")));
    let (sender, receiver) = mpsc::channel();
    scheduler.after(
        Duration::from_millis(1),
        Box::new(move |fire| sender.send(fire).expect("receiver alive")),
    );
    assert_eq!(receiver.recv_timeout(WAIT), Ok(Fire::Due));
}
