//! [`Answers`]: where the applier leaves each command's answer for the submit
//! waiting on it.

use std::collections::{BTreeMap, VecDeque};

use crossbeam_channel::Sender;
use raft_core::{Index, Term};

/// The answer a waiting submit gets: the output, or the term of the entry
/// that took its index instead.
pub(crate) type Answer<O> = Result<O, Term>;

/// Submits waiting for the entry at their index, and answers that came before
/// anyone waited for them.
///
/// Invariant: no index is both waited for and unclaimed.
#[derive(Debug)]
pub(crate) struct Answers<O> {
    /// By index: the term the submit's entry has, and where its answer goes.
    waiting: BTreeMap<Index, (Term, Sender<Answer<O>>)>,
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

impl<O> Answers<O> {
    pub(crate) fn new(capacity: usize) -> Answers<O> {
        Answers { waiting: BTreeMap::new(), unclaimed: VecDeque::new(), capacity, stopped: false }
    }

    /// A submit whose entry sits at `index` in `term` waits for its answer,
    /// on `sender`; or takes it, if it came already.
    pub(crate) fn wait_for(
        &mut self,
        index: Index,
        term: Term,
        sender: Sender<Answer<O>>,
    ) -> Claim<O> {
        if self.stopped {
            return Claim::Stopped;
        }
        if let Some(position) = self.unclaimed.iter().position(|(at, ..)| *at == index) {
            let (_, applied_term, output) =
                self.unclaimed.remove(position).expect("a position just found");
            return Claim::Ready(if applied_term == term { Ok(output) } else { Err(applied_term) });
        }
        self.waiting.insert(index, (term, sender));
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
                // A submit that gave up no longer listens.
                let _ = sender.send(answer);
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
            let _ = sender.send(Err(term));
        }
        self.unclaimed.retain(|(at, ..)| *at > index);
    }

    /// The node stopped: every waiting submit ends.
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
        self.waiting.clear();
        self.unclaimed.clear();
    }
}

#[cfg(test)]
mod tests;
