//! A growable pool of threads that run request handlers, which may block for long.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// One handler invocation and what follows it.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a worker waits for another job before it exits.
const IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs each job at once on an idle worker, or on a new one if none is idle, so
/// a handler that blocks never holds up another. Idle workers exit after
/// [`IDLE_TIMEOUT`]; [`close`](Self::close) makes them all exit.
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    jobs: Receiver<Job>,
}

struct State {
    /// `None` once closed; workers see the channel disconnect and exit.
    sender: Option<Sender<Job>>,
    /// Invariant: `idle` = workers waiting for a job − jobs queued, and
    /// `idle >= 0`, so every queued job has a waiting worker that will take it.
    idle: usize,
}

impl Pool {
    /// An empty pool; workers start on demand.
    pub(crate) fn new() -> Pool {
        let (sender, jobs) = crossbeam_channel::unbounded();
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State { sender: Some(sender), idle: 0 }),
                jobs,
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
        let State { sender, idle } = &mut *state;
        match sender {
            Some(sender) if *idle > 0 => {
                *idle -= 1;
                // Cannot fail: `shared` holds the receiving side.
                let _ = sender.send(job);
            }
            Some(_) => {
                drop(state);
                let shared = Arc::clone(&self.shared);
                spawn(move || shared.work(job));
            }
            None => {
                drop(state);
                spawn(job);
            }
        }
    }

    /// Lets idle workers exit now and busy ones when their job ends. Idempotent.
    pub(crate) fn close(&self) {
        self.shared.lock().sender = None;
    }

    /// How many workers wait for a job.
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.shared.lock().idle
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
            .field("idle", &state.idle)
            .field("closed", &state.sender.is_none())
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock still holds a
        // consistent count.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A worker: runs `job`, then whatever comes, until idle too long or closed.
    fn work(&self, mut job: Job) {
        loop {
            // A handler's or a callback's panic is logged and contained: the
            // worker goes on.
            if panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
                tracing::error!("a job of the simulated network panicked");
            }
            self.lock().idle += 1;
            job = match self.jobs.recv_timeout(IDLE_TIMEOUT) {
                Ok(next) => next,
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    // A job may have been handed to this worker just as it
                    // timed out: take it rather than leave it queued.
                    let mut state = self.lock();
                    match self.jobs.try_recv() {
                        Ok(next) => next,
                        Err(_) => {
                            state.idle -= 1;
                            return;
                        }
                    }
                }
            };
        }
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
