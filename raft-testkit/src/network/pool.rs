//! A growable pool of threads that run request handlers, which may block for long.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

/// One handler invocation and what follows it.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a worker waits for another job before it exits.
const IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs each job at once on an idle worker, or on a new one if none is idle, so
/// a handler that blocks never holds up another. Idle workers exit after
/// [`IDLE_TIMEOUT`]; [`close`](Self::close) makes them all exit.
///
/// Idle workers sleep on a condition variable rather than a channel, so waiting
/// for work costs no spinning (this matters on a small, shared machine).
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a job is queued or the pool closes.
    work: Condvar,
}

struct State {
    /// Jobs handed to idle workers and not yet taken.
    /// Invariant: `queue.len() <= waiting`, so every queued job has a waiting
    /// worker that will take it.
    queue: VecDeque<Job>,
    /// Workers waiting for a job.
    waiting: usize,
    closed: bool,
}

impl Pool {
    /// An empty pool; workers start on demand.
    pub(crate) fn new() -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State { queue: VecDeque::new(), waiting: 0, closed: false }),
                work: Condvar::new(),
            }),
        }
    }

    /// Runs `job` on a worker without waiting for it. After
    /// [`close`](Self::close), `job` gets a thread of its own.
    ///
    /// # Panics
    /// If the operating system refuses to start a thread.
    pub(crate) fn execute(&self, job: Job) {
        let mut state = self.shared.lock();
        if state.closed {
            drop(state);
            spawn(move || run_contained(job));
        } else if state.waiting > state.queue.len() {
            state.queue.push_back(job);
            drop(state);
            self.shared.work.notify_one();
        } else {
            drop(state);
            let shared = Arc::clone(&self.shared);
            spawn(move || shared.work(job));
        }
    }

    /// Lets idle workers exit now and busy ones when their job ends. Idempotent.
    pub(crate) fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }

    /// How many workers wait for a job.
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        let state = self.shared.lock();
        state.waiting - state.queue.len()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Pool")
            .field("waiting", &state.waiting)
            .field("queued", &state.queue.len())
            .field("closed", &state.closed)
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock still holds a
        // consistent queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A worker: runs `job`, then whatever comes, until idle too long or closed.
    fn work(&self, mut job: Job) {
        loop {
            run_contained(job);
            job = match self.next_job() {
                Some(next) => next,
                None => return,
            };
        }
    }

    /// Waits for a queued job; `None` once closed or idle for [`IDLE_TIMEOUT`].
    fn next_job(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state.waiting += 1;
            let (next, timeout) =
                self.work.wait_timeout(state, IDLE_TIMEOUT).unwrap_or_else(PoisonError::into_inner);
            state = next;
            state.waiting -= 1;
            // A job queued for this worker just as it timed out is taken on
            // the next turn rather than left behind.
            if timeout.timed_out() && state.queue.is_empty() {
                return None;
            }
        }
    }
}

/// Runs `job`; a panic in it (a handler's or a reply callback's) is logged and
/// goes no further, so the worker goes on.
fn run_contained(job: Job) {
    if panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
        tracing::error!("a job of the simulated network panicked");
    }
}

fn spawn(body: impl FnOnce() + Send + 'static) {
    thread::Builder::new()
        .name("labrpc-handler".to_owned())
        .spawn(body)
        .expect("the simulated network could not start a handler thread");
}

#[cfg(test)]
mod tests;
