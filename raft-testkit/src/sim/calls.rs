//! [`Calls`]: every request a node sent and its outcome, kept as a
//! transport keeps its pending calls: exactly one outcome per call, an answer
//! or a failure at the deadline.

use std::collections::VecDeque;

use raft_core::Sent;

/// Where a call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallState {
    /// No outcome yet.
    Pending,
    /// An answer came back; further answers (from duplicated copies of the
    /// request or of the answer) are delivered too.
    Answered,
    /// The deadline passed first; the requester was told, and any answer
    /// that comes later is dropped.
    Failed,
}

/// One request and its outcome.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    pub(crate) requester: usize,
    /// The requester's incarnation: a restarted node hears nothing of the
    /// calls its previous incarnation made.
    pub(crate) incarnation: u32,
    pub(crate) peer: usize,
    pub(crate) sent: Sent,
    pub(crate) state: CallState,
}

/// Every call of a run, numbered from 0, with the deadlines still to come.
///
/// Invariant: `deadlines` is sorted by time (every call waits the same
/// timeout), so the earliest is at the front.
#[derive(Debug)]
pub(crate) struct Calls {
    calls: Vec<Call>,
    deadlines: VecDeque<(u64, u64)>,
    timeout: u64,
}

impl Calls {
    pub(crate) fn new(timeout: u64) -> Calls {
        Calls { calls: Vec::new(), deadlines: VecDeque::new(), timeout }
    }

    /// Records a request made at `now`, and returns its number.
    pub(crate) fn open(
        &mut self,
        now: u64,
        requester: usize,
        incarnation: u32,
        peer: usize,
        sent: Sent,
    ) -> u64 {
        let number = self.calls.len() as u64;
        self.calls.push(Call { requester, incarnation, peer, sent, state: CallState::Pending });
        self.deadlines.push_back((now + self.timeout, number));
        number
    }

    /// The call numbered `number`, if there is one.
    pub(crate) fn get(&self, number: u64) -> Option<&Call> {
        usize::try_from(number).ok().and_then(|position| self.calls.get(position))
    }

    pub(crate) fn get_mut(&mut self, number: u64) -> Option<&mut Call> {
        usize::try_from(number).ok().and_then(|position| self.calls.get_mut(position))
    }

    /// When the next deadline falls, if one is to come.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.deadlines.front().map(|&(at, _)| at)
    }

    /// Takes the next deadline: the call whose time is up.
    pub(crate) fn pop_deadline(&mut self) -> Option<u64> {
        self.deadlines.pop_front().map(|(_, number)| number)
    }
}
