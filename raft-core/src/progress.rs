//! [`Progress`]: what a leader knows of one follower's log, and the state
//! machine that paces replication to it (probe, replicate, snapshot), after
//! etcd-io/raft's `tracker/progress.go`.

use std::collections::VecDeque;

use raft_log::{Index, NodeId};

/// How a leader is replicating to one follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProgressState {
    /// The follower's log position is not known: at most one AppendEntries is
    /// in flight, and the next waits for its answer (or the next heartbeat).
    Probe,
    /// The follower's log matches: AppendEntries stream to it, up to the
    /// inflight window.
    Replicate,
    /// The follower needs the snapshot, which is in flight. Only heartbeats go
    /// to it until the snapshot's answer or failure.
    Snapshot,
}

/// A read-only view of one follower's progress, as [`Status`](crate::Status)
/// reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerProgress {
    /// The follower.
    pub id: NodeId,
    /// How the leader is replicating to it.
    pub state: ProgressState,
    /// The highest index known to be replicated on it.
    pub match_index: Index,
    /// The next index the leader will send it.
    pub next_index: Index,
    /// AppendEntries carrying entries sent to it and not yet answered.
    pub inflight: usize,
}

/// One AppendEntries in flight in the replicate state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Inflight {
    /// The last index it carries.
    last: Index,
    /// The bytes of its entries' payloads.
    bytes: u64,
}

/// A leader's view of one follower.
///
/// Invariants: `match_index < next_index`; in [`ProgressState::Replicate`],
/// `inflight` lists the appends in flight in the order sent, each ending
/// before the next and at most at `next_index - 1`; it is empty in the other
/// states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) state: ProgressState,
    /// The next index to send. In the replicate state it runs ahead of what
    /// the follower has acknowledged, by what is in flight.
    pub(crate) next_index: Index,
    /// The highest index known to be replicated on the follower.
    pub(crate) match_index: Index,
    /// In the probe state: a probe is out and the next waits for its answer
    /// or for the next heartbeat.
    pub(crate) probe_sent: bool,
    /// In the probe state after a failed call: the probe goes out again at
    /// the next tick.
    resume_on_tick: bool,
    /// Calls to the follower that failed since it last answered.
    pub(crate) failed_calls: u32,
    /// In the snapshot state: the index of the snapshot in flight.
    pub(crate) pending_snapshot: Index,
    inflight: VecDeque<Inflight>,
    inflight_bytes: u64,
    /// The commit index the last AppendEntries to this follower carried.
    pub(crate) sent_commit: Index,
    /// Ticks the follower has gone without hearing of the latest commit.
    pub(crate) commit_lag_ticks: u32,
    /// The leader's tick count when the follower last answered in the
    /// leader's term (CheckQuorum).
    pub(crate) last_heard: u64,
    /// The highest read round the follower's answers have echoed (ReadIndex).
    pub(crate) acked_round: u64,
}

/// The bounds of the replicate state's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// The most appends in flight.
    pub(crate) messages: usize,
    /// The most payload bytes in flight.
    pub(crate) bytes: u64,
}

impl Progress {
    /// The progress a new leader starts with (Raft Figure 2: nextIndex is the
    /// leader's last index + 1, matchIndex is 0), probing.
    pub(crate) fn new(last_index: Index) -> Progress {
        Progress {
            state: ProgressState::Probe,
            next_index: last_index.next(),
            match_index: Index(0),
            probe_sent: false,
            resume_on_tick: false,
            failed_calls: 0,
            pending_snapshot: Index(0),
            inflight: VecDeque::new(),
            inflight_bytes: 0,
            sent_commit: Index(0),
            commit_lag_ticks: 0,
            last_heard: 0,
            acked_round: 0,
        }
    }

    /// Whether another append with entries may be sent now.
    pub(crate) fn can_send(&self, window: Window) -> bool {
        match self.state {
            ProgressState::Probe => !self.probe_sent,
            ProgressState::Replicate => {
                self.inflight.len() < window.messages && self.inflight_bytes < window.bytes
            }
            ProgressState::Snapshot => false,
        }
    }

    /// Records an append carrying the entries through `last` (`bytes` of
    /// payload) sent after `next_index - 1`.
    pub(crate) fn sent_entries(&mut self, last: Index, bytes: u64) {
        match self.state {
            ProgressState::Probe => self.probe_sent = true,
            ProgressState::Replicate => {
                if last >= self.next_index {
                    self.next_index = last.next();
                    self.inflight.push_back(Inflight { last, bytes });
                    self.inflight_bytes += bytes;
                }
            }
            ProgressState::Snapshot => {}
        }
    }

    /// Records that the follower's log matches through `index`. Returns
    /// whether that was news.
    pub(crate) fn record_match(&mut self, index: Index) -> bool {
        let news = index > self.match_index;
        if news {
            self.match_index = index;
        }
        if self.next_index <= self.match_index {
            self.next_index = self.match_index.next();
        }
        self.free_through(self.match_index);
        news
    }

    /// A successful answer: the follower matches through `index`. A probe
    /// that succeeds starts replicating, and so does a follower in the
    /// snapshot state that already holds the snapshot.
    pub(crate) fn on_success(&mut self, index: Index) -> bool {
        let news = self.record_match(index);
        match self.state {
            ProgressState::Probe => self.become_replicate(),
            ProgressState::Snapshot if self.match_index >= self.pending_snapshot => {
                self.become_replicate()
            }
            _ => {}
        }
        news
    }

    /// A rejection, or a failed call: back to probing from `next`, never
    /// below what is known to match. The next probe goes out as `resume`
    /// says.
    pub(crate) fn become_probe(&mut self, next: Index, resume: Resume) {
        self.state = ProgressState::Probe;
        self.next_index = next.max(self.match_index.next());
        self.probe_sent = resume != Resume::Now;
        self.resume_on_tick = resume == Resume::NextTick;
        self.pending_snapshot = Index(0);
        self.clear_inflight();
    }

    /// A call to the follower failed: how soon to try again. The first
    /// failure since it last answered is retried at the next tick (a lossy
    /// network drops one message now and then); later ones wait for the
    /// heartbeat, so an unreachable follower costs one message a heartbeat.
    pub(crate) fn on_failure(&mut self) -> Resume {
        self.failed_calls = self.failed_calls.saturating_add(1);
        if self.failed_calls == 1 { Resume::NextTick } else { Resume::AtHeartbeat }
    }

    /// The follower answered.
    pub(crate) fn on_answer(&mut self) {
        self.failed_calls = 0;
    }

    /// A tick: whether a probe paused by a failure may go out again now.
    pub(crate) fn on_tick(&mut self) -> bool {
        let resume = self.resume_on_tick && self.state == ProgressState::Probe;
        if resume {
            self.probe_sent = false;
        }
        self.resume_on_tick = false;
        resume
    }

    /// Starts streaming from just after the match.
    pub(crate) fn become_replicate(&mut self) {
        self.state = ProgressState::Replicate;
        self.next_index = self.match_index.next();
        self.probe_sent = false;
        self.pending_snapshot = Index(0);
        self.clear_inflight();
    }

    /// The snapshot through `index` is on its way.
    pub(crate) fn become_snapshot(&mut self, index: Index) {
        self.state = ProgressState::Snapshot;
        self.pending_snapshot = index;
        self.probe_sent = false;
        self.clear_inflight();
    }

    /// The heartbeat tick: a probe that got no answer may be sent again.
    pub(crate) fn on_heartbeat(&mut self) {
        if self.state == ProgressState::Probe {
            self.probe_sent = false;
            self.resume_on_tick = false;
        }
    }

    /// Whether an append carrying the entries through `last` is in the
    /// replicate state's window.
    pub(crate) fn is_inflight(&self, last: Index) -> bool {
        self.inflight.iter().any(|inflight| inflight.last == last)
    }

    /// The read-only view of this progress.
    pub(crate) fn view(&self, id: NodeId) -> PeerProgress {
        PeerProgress {
            id,
            state: self.state,
            match_index: self.match_index,
            next_index: self.next_index,
            inflight: self.inflight.len(),
        }
    }

    fn free_through(&mut self, index: Index) {
        while let Some(first) = self.inflight.front() {
            if first.last > index {
                break;
            }
            self.inflight_bytes -= first.bytes;
            self.inflight.pop_front();
        }
    }

    fn clear_inflight(&mut self) {
        self.inflight.clear();
        self.inflight_bytes = 0;
    }
}

/// When a follower moved back to probing hears from the leader again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resume {
    /// A probe goes out with the next batch of messages.
    Now,
    /// A probe goes out at the next tick.
    NextTick,
    /// A probe goes out at the next heartbeat.
    AtHeartbeat,
}

#[cfg(test)]
mod tests;
