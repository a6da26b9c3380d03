//! [`Answers`]: where the applier leaves each command's answer for the submit
//! waiting on it.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use crossbeam_channel::Sender;
use raft_core::{Index, Term};

/// The answer a waiting submit gets: the output, or the term of the entry
/// that took its index instead.
pub(crate) type Answer<O> = Result<O, Term>;

/// Where a waiting submit's answer goes: a channel a blocking submit waits
/// on, or the slot an async one polls.
pub(crate) trait Deliver<O>: Send {
    /// Hands over the answer.
    fn deliver(self: Box<Self>, answer: Answer<O>);
    /// Tells the submit the node stopped.
    fn stopped(self: Box<Self>);
}

impl<O: Send> Deliver<O> for Sender<Answer<O>> {
    fn deliver(self: Box<Self>, answer: Answer<O>) {
        // A submit that gave up no longer listens.
        let _ = self.send(answer);
    }
    fn stopped(self: Box<Self>) {
        // Dropped: the receiver hears the channel close.
    }
}

/// What an [`AnswerSlot`] holds: `Some(Some(answer))` once answered,
/// `Some(None)` once stopped, and the waker of the submit polling it.
type SlotState<O> = (Option<Option<Answer<O>>>, Option<Waker>);

/// An async submit's answer, set once and polled.
pub(crate) struct AnswerSlot<O> {
    state: Mutex<SlotState<O>>,
}

impl<O> AnswerSlot<O> {
    pub(crate) fn new() -> Arc<AnswerSlot<O>> {
        Arc::new(AnswerSlot { state: Mutex::new((None, None)) })
    }

    fn set(&self, outcome: Option<Answer<O>>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = Some(outcome);
        if let Some(waker) = state.1.take() {
            drop(state);
            waker.wake();
        }
    }

    /// The answer, `None` if the node stopped, or pending.
    pub(crate) fn poll(&self, context: &Context<'_>) -> Poll<Option<Answer<O>>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.0.take() {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                state.1 = Some(context.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<O: Send> Deliver<O> for Arc<AnswerSlot<O>> {
    fn deliver(self: Box<Self>, answer: Answer<O>) {
        self.set(Some(answer));
    }
    fn stopped(self: Box<Self>) {
        self.set(None);
    }
}

impl<O> fmt::Debug for AnswerSlot<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnswerSlot").finish_non_exhaustive()
    }
}

/// Submits waiting for the entry at their index, and answers that came before
/// anyone waited for them.
///
/// Invariant: no index is both waited for and unclaimed.
pub(crate) struct Answers<O> {
    /// By index: the term the submit's entry has, and where its answer goes.
    waiting: BTreeMap<Index, (Term, Box<dyn Deliver<O>>)>,
    /// The latest answers nobody waited for yet, oldest first.
    unclaimed: VecDeque<(Index, Term, O)>,
    capacity: usize,
    /// Set once the node stopped: waits end at once.
    stopped: bool,
}

/// What [`Answers::wait_for`] found.
#[derive(Debug)]
pub(crate) enum Claim<O> {
    /// The answer was there already.
    Ready(Answer<O>),
    /// It will come on the receiver registered.
    Registered,
    /// The node stopped.
    Stopped,
}

impl<O> fmt::Debug for Answers<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answers")
            .field("waiting", &self.waiting.len())
            .field("unclaimed", &self.unclaimed.len())
            .field("stopped", &self.stopped)
            .finish()
    }
}

impl<O> Answers<O> {
    pub(crate) fn new(capacity: usize) -> Answers<O> {
        Answers { waiting: BTreeMap::new(), unclaimed: VecDeque::new(), capacity, stopped: false }
    }

    /// A submit whose entry sits at `index` in `term` waits for its answer,
    /// through `sender`; or takes it, if it came already.
    pub(crate) fn wait_for(
        &mut self,
        index: Index,
        term: Term,
        sender: impl Deliver<O> + 'static,
    ) -> Claim<O> {
        if self.stopped {
            return Claim::Stopped;
        }
        if let Some(position) = self.unclaimed.iter().position(|(at, ..)| *at == index) {
            let (_, applied_term, output) =
                self.unclaimed.remove(position).expect("a position just found");
            return Claim::Ready(if applied_term == term { Ok(output) } else { Err(applied_term) });
        }
        self.waiting.insert(index, (term, Box::new(sender)));
        Claim::Registered
    }

    /// A submit gave up waiting for `index`.
    pub(crate) fn forget(&mut self, index: Index) {
        self.waiting.remove(&index);
    }

    /// The entry at `index`, of `term`, was applied with `output`.
    pub(crate) fn applied(&mut self, index: Index, term: Term, output: O) {
        match self.waiting.remove(&index) {
            Some((expected, sender)) => {
                let answer = if expected == term { Ok(output) } else { Err(term) };
                sender.deliver(answer);
            }
            None => {
                if self.unclaimed.len() == self.capacity {
                    self.unclaimed.pop_front();
                }
                if self.capacity > 0 {
                    self.unclaimed.push_back((index, term, output));
                }
            }
        }
    }

    /// A snapshot replaced everything through `index`: the submits waiting
    /// there will never see their entry applied here.
    pub(crate) fn covered_through(&mut self, index: Index, term: Term) {
        let later = self.waiting.split_off(&index.next());
        for (_, (_, sender)) in std::mem::replace(&mut self.waiting, later) {
            sender.deliver(Err(term));
        }
        self.unclaimed.retain(|(at, ..)| *at > index);
    }

    /// The node stopped: every waiting submit ends.
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
        for (_, (_, sender)) in std::mem::take(&mut self.waiting) {
            sender.stopped();
        }
        self.unclaimed.clear();
    }
}

#[cfg(test)]
mod tests;
