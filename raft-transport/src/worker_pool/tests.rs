//! Unit tests of the handler thread pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{bounded, unbounded};

use super::WorkerPool;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn no_more_jobs_run_at_once_than_the_thread_limit() {
    let pool = WorkerPool::new("test-pool".into(), 2);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (started_tx, started) = unbounded();
    let (release, released) = bounded::<()>(0);
    for _ in 0..5 {
        let (running, most, started_tx, released) =
            (Arc::clone(&running), Arc::clone(&most), started_tx.clone(), released.clone());
        pool.submit(Box::new(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            started_tx.send(()).unwrap();
            released.recv().unwrap();
            running.fetch_sub(1, Ordering::SeqCst);
        }))
        .unwrap();
    }
    // Two run at once; each of the other three starts only when one ends.
    started.recv_timeout(WAIT).unwrap();
    started.recv_timeout(WAIT).unwrap();
    for _ in 0..3 {
        release.send_timeout((), WAIT).unwrap();
        started.recv_timeout(WAIT).unwrap();
    }
    release.send_timeout((), WAIT).unwrap();
    release.send_timeout((), WAIT).unwrap();
    assert_eq!(most.load(Ordering::SeqCst), 2);
    pool.close();
}

#[test]
fn close_does_not_wait_for_a_job_in_progress() {
    let pool = Arc::new(WorkerPool::new("test-pool".into(), 1));
    let (entered_tx, entered) = bounded(1);
    let (release, released) = bounded::<()>(1);
    pool.submit(Box::new(move || {
        entered_tx.send(()).unwrap();
        let _ = released.recv();
    }))
    .unwrap();
    entered.recv_timeout(WAIT).unwrap();

    let (closed_tx, closed) = bounded(1);
    let closer = Arc::clone(&pool);
    thread::spawn(move || {
        closer.close();
        closed_tx.send(()).unwrap();
    });
    closed.recv_timeout(WAIT).expect("close waited for a blocked job");
    assert!(pool.submit(Box::new(|| {})).is_err(), "a closed pool took a job");
    release.send(()).unwrap();
}

#[test]
fn a_panicking_job_leaves_the_worker_serving() {
    let pool = WorkerPool::new("test-pool".into(), 1);
    pool.submit(Box::new(|| panic!("handler bug"))).unwrap();
    let (done_tx, done) = bounded(1);
    pool.submit(Box::new(move || done_tx.send(()).unwrap())).unwrap();
    done.recv_timeout(WAIT).unwrap();
    pool.close();
}
