//! [`WorkerPool`]: the threads that run handlers, started on demand up to a limit.

use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::threads::{self, join_unless_current, lock};

/// One unit of work: a request to handle and answer.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// Runs jobs on at most `max_threads` threads. A thread is started when a job
/// arrives and every started thread is busy; started threads stay until
/// [`close`](Self::close).
pub(crate) struct WorkerPool {
    shared: Arc<Shared>,
    name: String,
    max_threads: usize,
}

/// The pool was closed, or has no thread and cannot start one: the job was
/// dropped without running.
#[derive(Debug)]
pub(crate) struct Rejected;

struct Shared {
    state: Mutex<State>,
    work: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    /// Workers waiting for a job. Invariant: `idle <= workers.len()`.
    idle: usize,
    workers: Vec<Worker>,
    closed: bool,
}

struct Worker {
    /// `None` once the worker has been joined or left to end on its own.
    handle: Option<JoinHandle<()>>,
    /// Whether the worker is running a job. Changed only under the lock.
    busy: bool,
}

impl WorkerPool {
    /// An empty pool whose threads are named `name-<n>`.
    pub(crate) fn new(name: String, max_threads: usize) -> WorkerPool {
        let state = State { jobs: VecDeque::new(), idle: 0, workers: Vec::new(), closed: false };
        WorkerPool {
            shared: Arc::new(Shared { state: Mutex::new(state), work: Condvar::new() }),
            name,
            max_threads,
        }
    }

    /// Queues `job`, starting a thread for it if every started one is busy and
    /// the limit allows.
    ///
    /// # Errors
    /// [`Rejected`] after [`close`](Self::close), or when no thread can be
    /// started and none exists.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Rejected> {
        let mut state = self.shared.lock();
        if state.closed {
            return Err(Rejected);
        }
        state.jobs.push_back(job);
        if state.jobs.len() > state.idle && state.workers.len() < self.max_threads {
            let index = state.workers.len();
            let shared = Arc::clone(&self.shared);
            match threads::spawn(format!("{}-{index}", self.name), move || shared.work(index)) {
                Ok(handle) => state.workers.push(Worker { handle: Some(handle), busy: false }),
                Err(error) if state.workers.is_empty() => {
                    tracing::error!(%error, "no thread to run a handler on");
                    drop(state.jobs.pop_back());
                    return Err(Rejected);
                }
                Err(error) => tracing::warn!(%error, "could not start another handler thread"),
            }
        }
        self.shared.work.notify_one();
        Ok(())
    }

    /// Whether [`close`](Self::close) has run.
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Drops the queued jobs and ends the workers: idle ones are joined; a
    /// worker in the middle of a job is left to finish it and end on its own.
    /// Idempotent.
    pub(crate) fn close(&self) {
        let (jobs, idle_workers) = {
            let mut state = self.shared.lock();
            state.closed = true;
            let jobs = mem::take(&mut state.jobs);
            let idle_workers: Vec<JoinHandle<()>> = state
                .workers
                .iter_mut()
                .filter_map(|worker| {
                    let handle = worker.handle.take();
                    if worker.busy { None } else { handle }
                })
                .collect();
            self.shared.work.notify_all();
            (jobs, idle_workers)
        };
        drop(jobs);
        for handle in idle_workers {
            join_unless_current(handle);
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Worker `index`'s loop: take a job, run it, until the pool closes.
    fn work(&self, index: usize) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                state.workers[index].busy = true;
                drop(state);
                if panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
                    tracing::error!("a handler job panicked");
                }
                state = self.lock();
                state.workers[index].busy = false;
                continue;
            }
            if state.closed {
                return;
            }
            state.idle += 1;
            state = self.work.wait(state).unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("WorkerPool")
            .field("name", &self.name)
            .field("threads", &state.workers.len())
            .field("queued", &state.jobs.len())
            .field("closed", &state.closed)
            .finish()
    }
}

#[cfg(test)]
mod tests;
