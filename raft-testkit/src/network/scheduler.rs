//! The network's one timer thread: every delay and every delayed delivery waits here.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// Why a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fire {
    /// Its deadline passed.
    Due,
    /// The scheduler stopped first; the task must wind up without waiting
    /// (a pending reply becomes a failure).
    Cancelled,
}

/// Work to do at a deadline. Runs exactly once, on the timer thread, so it must
/// be quick and must not block. A panic in it is logged and contained.
pub(crate) type Task = Box<dyn FnOnce(Fire) + Send + 'static>;

/// A single thread that runs tasks at their deadlines, earliest first.
///
/// Holding a `Scheduler` keeps the thread; dropping it (or [`stop`](Self::stop))
/// cancels what is pending and lets the thread exit.
pub(crate) struct Scheduler {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a new earliest deadline arrives or the scheduler stops.
    wake: Condvar,
}

struct Queue {
    timers: BinaryHeap<Timer>,
    /// Breaks ties between equal deadlines: first scheduled, first run.
    next_seq: u64,
    stopped: bool,
}

struct Timer {
    at: Instant,
    seq: u64,
    task: Task,
}

impl Scheduler {
    /// Starts the timer thread.
    ///
    /// # Panics
    /// If the operating system refuses to start a thread.
    pub(crate) fn start() -> Scheduler {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue { timers: BinaryHeap::new(), next_seq: 0, stopped: false }),
            wake: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        thread::Builder::new()
            .name("labrpc-timer".to_owned())
            .spawn(move || worker.run())
            .expect("the simulated network could not start its timer thread");
        Scheduler { shared }
    }

    /// Runs `task` with [`Fire::Due`] once `delay` has passed. After
    /// [`stop`](Self::stop), runs it at once with [`Fire::Cancelled`] on a
    /// short-lived thread of its own.
    pub(crate) fn after(&self, delay: Duration, task: Task) {
        self.at(Instant::now() + delay, task);
    }

    /// Runs `task` with [`Fire::Due`] at `at`. After [`stop`](Self::stop), runs
    /// it at once with [`Fire::Cancelled`] on a short-lived thread of its own
    /// (never on the caller's: a task may take locks the caller holds).
    ///
    /// # Panics
    /// After `stop`, if the operating system refuses to start a thread.
    pub(crate) fn at(&self, at: Instant, task: Task) {
        let mut queue = self.shared.lock();
        if queue.stopped {
            drop(queue);
            thread::Builder::new()
                .name("labrpc-late".to_owned())
                .spawn(move || run_contained(task, Fire::Cancelled))
                .expect("the simulated network could not start a thread");
            return;
        }
        let seq = queue.next_seq;
        queue.next_seq += 1;
        queue.timers.push(Timer { at, seq, task });
        let earliest = queue.timers.peek().is_some_and(|top| top.seq == seq);
        drop(queue);
        if earliest {
            self.shared.wake.notify_one();
        }
    }

    /// Stops the thread. Pending tasks run on it with [`Fire::Cancelled`] before
    /// it exits; tasks scheduled later run at once with [`Fire::Cancelled`] (see
    /// [`at`](Self::at)). Idempotent.
    pub(crate) fn stop(&self) {
        self.shared.lock().stopped = true;
        self.shared.wake.notify_one();
    }

    /// How many tasks wait for their deadline.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.shared.lock().timers.len()
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.shared.lock();
        f.debug_struct("Scheduler")
            .field("pending", &queue.timers.len())
            .field("stopped", &queue.stopped)
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A task runs outside the lock, so a poisoned lock still holds a
        // consistent queue.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The timer thread: sleeps until the earliest deadline, runs what is due
    /// outside the lock, and on stop cancels everything left.
    fn run(&self) {
        let mut queue = self.lock();
        loop {
            if queue.stopped {
                let cancelled = std::mem::take(&mut queue.timers).into_sorted_vec();
                drop(queue);
                // `into_sorted_vec` is ascending in `Ord`, which is reversed
                // deadline order; cancel the earliest first.
                for timer in cancelled.into_iter().rev() {
                    run_contained(timer.task, Fire::Cancelled);
                }
                return;
            }
            let now = Instant::now();
            match queue.timers.peek().map(|top| top.at) {
                None => {
                    queue = self.wake.wait(queue).unwrap_or_else(PoisonError::into_inner);
                }
                Some(at) if at <= now => {
                    let timer = queue.timers.pop().expect("peeked a timer under the same lock");
                    drop(queue);
                    run_contained(timer.task, Fire::Due);
                    queue = self.lock();
                }
                Some(at) => {
                    queue = self
                        .wake
                        .wait_timeout(queue, at - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

/// Runs `task`; a panic in it (a reply callback's) is logged and goes no
/// further, so one bad callback cannot stop every timer of the network.
fn run_contained(task: Task, fire: Fire) {
    if panic::catch_unwind(AssertUnwindSafe(|| task(fire))).is_err() {
        tracing::error!("a task of the simulated network panicked");
    }
}

// `BinaryHeap` is a max-heap: order timers so that the earliest deadline (then
// the earliest scheduled) is the greatest.
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.cmp(&self.at).then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timer {}

#[cfg(test)]
mod tests;
