//! [`PendingCalls`]: the calls awaiting their outcome, their deadlines, and the
//! thread that fails them.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use raft_log::NodeId;

use crate::threads::{self, join_unless_current, lock};
use crate::{CallError, ReplyCallback};

/// Names one pending call; unique within one [`PendingCalls`]. The TCP backend
/// uses it as the request id on the wire.
pub(crate) type CallId = u64;

/// One transport's calls that have not had their outcome yet.
///
/// Every callback handed to [`register`](Self::register) runs exactly once: the
/// call is removed from the table under its lock by whoever decides the outcome
/// (a reply, a failure, the deadline or [`close`](Self::close)), and only the
/// remover runs it.
///
/// A thread of its own (the reaper) fails calls whose deadline has passed and
/// runs the callbacks of failures decided elsewhere and of replies given
/// inside [`Transport::call`](crate::Transport::call), so that no callback
/// ever runs inside `call`.
pub(crate) struct PendingCalls<Resp> {
    shared: Arc<Shared<Resp>>,
    reaper: Mutex<Option<JoinHandle<()>>>,
}

struct Shared<Resp> {
    state: Mutex<State<Resp>>,
    /// Wakes the reaper: an outcome to deliver, or closing.
    wake: Condvar,
    call_timeout: Duration,
}

struct State<Resp> {
    next_id: CallId,
    /// Invariant: `deadlines` holds exactly `(call.deadline, id)` for each entry.
    calls: HashMap<CallId, Call<Resp>>,
    deadlines: BTreeSet<(Instant, CallId)>,
    /// Outcomes decided but not delivered yet; the reaper delivers them.
    decided: Decided<Resp>,
    /// Set by `close`. Invariant: once set, `calls` stays empty.
    closed: bool,
}

/// Callbacks to run, each with the outcome that ends its call.
type Decided<Resp> = Vec<(ReplyCallback<Resp>, Result<Resp, CallError>)>;

struct Call<Resp> {
    peer: NodeId,
    deadline: Instant,
    on_reply: ReplyCallback<Resp>,
}

impl<Resp: Send + 'static> PendingCalls<Resp> {
    /// An empty table whose calls time out after `call_timeout`, with its reaper
    /// thread named `name`.
    pub(crate) fn start(
        name: String,
        call_timeout: Duration,
    ) -> std::io::Result<PendingCalls<Resp>> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_id: 0,
                calls: HashMap::new(),
                deadlines: BTreeSet::new(),
                decided: Vec::new(),
                closed: false,
            }),
            wake: Condvar::new(),
            call_timeout,
        });
        let reaper = {
            let shared = Arc::clone(&shared);
            threads::spawn(name, move || shared.reap())?
        };
        Ok(PendingCalls { shared, reaper: Mutex::new(Some(reaper)) })
    }

    /// Records a call to `peer`, due `call_timeout` from now, and returns its id.
    /// After [`close`](Self::close) the callback gets [`CallError::Shutdown`]
    /// instead (on a thread of its own) and `None` is returned.
    pub(crate) fn register(&self, peer: NodeId, on_reply: ReplyCallback<Resp>) -> Option<CallId> {
        let deadline = Instant::now() + self.shared.call_timeout;
        let mut state = self.shared.lock();
        if state.closed {
            drop(state);
            deliver_detached(vec![(on_reply, Err(CallError::Shutdown))]);
            return None;
        }
        let id = state.next_id;
        state.next_id += 1;
        // No need to wake the reaper: every deadline is `call_timeout` after
        // its call, so this one is no earlier than those already waiting, nor
        // than the reaper's next wake-up (it never sleeps longer than
        // `call_timeout`). A call costs the reaper no wake-up.
        state.calls.insert(id, Call { peer, deadline, on_reply });
        state.deadlines.insert((deadline, id));
        Some(id)
    }
}

impl<Resp> PendingCalls<Resp> {
    /// Ends call `id` with `outcome`, running its callback on the current
    /// thread. Returns `false` (and does nothing) if the call has ended already.
    pub(crate) fn complete(&self, id: CallId, outcome: Result<Resp, CallError>) -> bool {
        let call = self.shared.lock().remove(id);
        match call {
            Some(call) => {
                run_callback(call.on_reply, outcome);
                true
            }
            None => false,
        }
    }

    /// Ends call `id` with `outcome`, as [`complete`](Self::complete) does,
    /// but leaves its callback for the reaper to run: for an outcome decided
    /// where the callback must not run (inside `call`). Returns `false` (and
    /// does nothing) if the call has ended already.
    pub(crate) fn complete_on_reaper(&self, id: CallId, outcome: Result<Resp, CallError>) -> bool {
        let mut state = self.shared.lock();
        match state.remove(id) {
            Some(call) => {
                state.decided.push((call.on_reply, outcome));
                self.shared.wake.notify_one();
                true
            }
            None => false,
        }
    }

    /// Ends call `id` with `error`; the reaper runs its callback.
    pub(crate) fn fail(&self, id: CallId, error: CallError) {
        self.complete_on_reaper(id, Err(error));
    }

    /// Ends every call to a peer for which `cut_off` holds with
    /// [`CallError::Unreachable`]; the reaper runs the callbacks.
    pub(crate) fn fail_unreachable(&self, cut_off: impl Fn(NodeId) -> bool) {
        let mut state = self.shared.lock();
        let ids: Vec<CallId> =
            state.calls.iter().filter(|(_, call)| cut_off(call.peer)).map(|(&id, _)| id).collect();
        for id in ids {
            if let Some(call) = state.remove(id) {
                state.decided.push((call.on_reply, Err(CallError::Unreachable(call.peer))));
            }
        }
        if !state.decided.is_empty() {
            self.shared.wake.notify_one();
        }
    }

    /// Fails every pending call with [`CallError::Shutdown`], makes later
    /// registrations fail the same way, and waits for the reaper to deliver
    /// those failures and end (unless this runs on the reaper itself, from a
    /// callback). Idempotent.
    pub(crate) fn close(&self) {
        {
            let mut state = self.shared.lock();
            if !state.closed {
                state.closed = true;
                state.deadlines.clear();
                let calls = mem::take(&mut state.calls);
                state.decided.extend(
                    calls.into_values().map(|call| (call.on_reply, Err(CallError::Shutdown))),
                );
                self.shared.wake.notify_one();
            }
        }
        let reaper = lock(&self.reaper).take();
        if let Some(reaper) = reaper {
            join_unless_current(reaper);
        }
    }
}

impl<Resp> Shared<Resp> {
    fn lock(&self) -> MutexGuard<'_, State<Resp>> {
        lock(&self.state)
    }

    /// The reaper's loop: deliver decided outcomes, fail calls past their
    /// deadline, sleep until the earliest deadline; after `close`, deliver what
    /// is left and end.
    fn reap(&self) {
        let mut state = self.lock();
        loop {
            if !state.decided.is_empty() {
                let decided = mem::take(&mut state.decided);
                drop(state);
                for (on_reply, outcome) in decided {
                    run_callback(on_reply, outcome);
                }
                state = self.lock();
                continue;
            }
            if state.closed {
                return;
            }
            let now = Instant::now();
            match state.deadlines.first().copied() {
                Some((deadline, id)) if deadline <= now => {
                    if let Some(call) = state.remove(id) {
                        state.decided.push((call.on_reply, Err(CallError::TimedOut(call.peer))));
                    }
                }
                Some((deadline, _)) => {
                    state = self
                        .wake
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                // With nothing pending, sleep at most one call timeout, so a
                // call registered meanwhile is failed on time without waking
                // this thread (see `register`).
                None => {
                    state = self
                        .wake
                        .wait_timeout(state, self.call_timeout)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

impl<Resp> State<Resp> {
    fn remove(&mut self, id: CallId) -> Option<Call<Resp>> {
        let call = self.calls.remove(&id)?;
        self.deadlines.remove(&(call.deadline, id));
        Some(call)
    }
}

impl<Resp> Drop for PendingCalls<Resp> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<Resp> fmt::Debug for PendingCalls<Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("PendingCalls")
            .field("pending", &state.calls.len())
            .field("closed", &state.closed)
            .finish_non_exhaustive()
    }
}

/// Runs a caller's callback, containing a panic in it so that the thread
/// running it (a reaper, a reader, a thread that answered a responder) goes on
/// serving others.
pub(crate) fn run_callback<Resp>(on_reply: ReplyCallback<Resp>, outcome: Result<Resp, CallError>) {
    if panic::catch_unwind(AssertUnwindSafe(move || on_reply(outcome))).is_err() {
        tracing::error!("a reply callback panicked");
    }
}

/// Delivers failures after the reaper has ended: on a short-lived thread of
/// their own, so that they still never run inside `call`. Should no thread be
/// available, they run on the current one rather than not at all.
fn deliver_detached<Resp: Send + 'static>(failures: Decided<Resp>) {
    let slot = Arc::new(Mutex::new(Some(failures)));
    let deliver = |slot: &Mutex<Option<Decided<Resp>>>| {
        let failures = lock(slot).take();
        for (on_reply, outcome) in failures.into_iter().flatten() {
            run_callback(on_reply, outcome);
        }
    };
    let theirs = Arc::clone(&slot);
    if let Err(error) = threads::spawn("raft-transport-late".into(), move || deliver(&theirs)) {
        tracing::error!(%error, "no thread to fail a call made after shutdown; failing it in place");
        deliver(&slot);
    }
}

#[cfg(test)]
mod tests;
