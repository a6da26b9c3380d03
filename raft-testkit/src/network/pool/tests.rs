//! Unit tests of the handler pool.

use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::Pool;

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn blocking_jobs_do_not_hold_up_each_other() {
    // Each job waits until all of them run at once: with a fixed number of
    // threads smaller than the jobs, this would never finish.
    let pool = Pool::new();
    let jobs = 8;
    let barrier = Arc::new(Barrier::new(jobs + 1));
    let (sender, receiver) = mpsc::channel();
    for label in 0..jobs {
        let barrier = Arc::clone(&barrier);
        let sender = sender.clone();
        pool.execute(Box::new(move || {
            barrier.wait();
            sender.send(label).expect("receiver alive");
        }));
    }
    barrier.wait();
    let mut done: Vec<_> =
        (0..jobs).map(|_| receiver.recv_timeout(WAIT).expect("every job runs")).collect();
    done.sort_unstable();
    assert_eq!(done, (0..jobs).collect::<Vec<_>>());
}

#[test]
fn an_idle_worker_takes_the_next_job() {
    let pool = Pool::new();
    let (sender, receiver) = mpsc::channel();
    let first = sender.clone();
    pool.execute(Box::new(move || {
        first.send(thread::current().id()).expect("receiver alive");
    }));
    let first_thread = receiver.recv_timeout(WAIT).expect("the job runs");
    wait_until(|| pool.idle() == 1);

    pool.execute(Box::new(move || {
        sender.send(thread::current().id()).expect("receiver alive");
    }));
    let second_thread = receiver.recv_timeout(WAIT).expect("the job runs");
    assert_eq!(first_thread, second_thread);
}

#[test]
fn a_panicking_job_leaves_its_worker_alive() {
    let pool = Pool::new();
    pool.execute(Box::new(|| panic!("a bad handler")));
    wait_until(|| pool.idle() == 1);
}

#[test]
fn after_close_a_job_still_runs() {
    let pool = Pool::new();
    pool.close();
    let (sender, receiver) = mpsc::channel();
    pool.execute(Box::new(move || sender.send(()).expect("receiver alive")));
    assert_eq!(receiver.recv_timeout(WAIT), Ok(()));
}

/// Polls `condition` until it holds; fails the test after [`WAIT`].
fn wait_until(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "condition not reached in {WAIT:?}");
        thread::sleep(Duration::from_millis(1));
    }
}
