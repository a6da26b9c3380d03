//! Linearizable reads without log writes (thesis §6.4): ReadIndex on the
//! leader, a follower's read forwarded to it, and lease-based reads
//! (§6.4.1) as an opt-in.
//!
//! A leader gives each read the commit index at the time it is served, once
//! an entry of its own term has committed (so that index covers every entry
//! committed before it took the lead). Reads waiting at one
//! [`Raft::ready`] start one *read round*: the round number goes up and a
//! heartbeat goes to every follower. At most two rounds with reads are out
//! at a time: the reads that come meanwhile wait for one to be confirmed
//! and go in the next, so under load each round serves many reads and the
//! heartbeats stay a few per follower per round trip. Every AppendEntries carries the latest
//! round and every answer echoes it; once a majority (the leader included)
//! has answered a round, no other leader can have been elected before the
//! round began, and the round's reads get their index.

use std::collections::{BTreeMap, VecDeque};

use raft_log::{Index, NodeId, Term};

use super::Raft;
use crate::ready::Outgoing;
use crate::{
    ReadError, ReadId, ReadIndexRequest, ReadIndexResponse, ReadOutcome, Request, RequestId,
    Response, Role,
};

/// How many rounds with reads in them a leader keeps out at once: two, so a
/// round fills while the one before it is out.
const MAX_READ_ROUNDS_IN_FLIGHT: usize = 2;

/// Who waits for a read index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reader {
    /// This node's driver.
    Local(ReadId),
    /// A follower's ReadIndex request, answered when the read is.
    Remote {
        /// The follower.
        to: NodeId,
        /// The driver's name for its request.
        id: RequestId,
    },
}

/// The reads a node has in hand: on a leader, those waiting for a round and
/// those waiting for their round's confirmation; on a follower, those to
/// forward to the leader and those forwarded.
#[derive(Debug, Default)]
pub(super) struct Reads {
    /// Leader: reads with no round yet.
    waiting: Vec<Reader>,
    /// Leader: reads with their round and index, in round order.
    confirming: VecDeque<(u64, Index, Reader)>,
    /// The latest round started. Only ever grows.
    round: u64,
    /// The latest round a majority confirmed.
    confirmed: u64,
    /// The rounds with reads in them not yet confirmed, oldest first.
    in_flight: VecDeque<u64>,
    /// With lease reads: when each unconfirmed round started (round, tick).
    started: VecDeque<(u64, u64)>,
    /// With lease reads: the tick at which the latest confirmed round of this
    /// leadership started.
    lease_from: Option<u64>,
    /// Follower: reads to forward to the leader at the next Ready.
    to_forward: Vec<ReadId>,
    /// Follower: the batches forwarded, by batch number.
    forwarded: BTreeMap<u64, Vec<ReadId>>,
    next_batch: u64,
}

impl Reads {
    /// The latest read round, which every AppendEntries carries.
    pub(super) fn round(&self) -> u64 {
        self.round
    }

    /// Starts a read round at tick `now`, remembering when if `lease` reads
    /// will need it.
    fn start_round(&mut self, now: u64, lease: bool) {
        self.round += 1;
        if lease {
            self.started.push_back((self.round, now));
        }
    }

    /// Whether reads wait for a round (on a leader) or to be forwarded.
    fn has_waiting(&self) -> bool {
        !self.waiting.is_empty() || !self.to_forward.is_empty()
    }

    /// Whether as many rounds with reads in them as may be are out and not
    /// yet confirmed: the reads waiting meanwhile go in the next round,
    /// started once one is.
    fn round_in_flight(&self) -> bool {
        self.in_flight.len() >= MAX_READ_ROUNDS_IN_FLIGHT
    }

    /// The leader lost the lead in `term`: every read it holds fails, and
    /// the followers that asked hear so.
    pub(super) fn lost_leadership(
        &mut self,
        term: Term,
        outcomes: &mut Vec<ReadOutcome>,
        messages: &mut Vec<Outgoing>,
    ) {
        let readers = self.waiting.drain(..).chain(self.confirming.drain(..).map(|(_, _, r)| r));
        for reader in readers {
            match reader {
                Reader::Local(id) => {
                    outcomes.push(ReadOutcome { id, result: Err(ReadError::LeadershipLost) })
                }
                Reader::Remote { to, id } => {
                    let response = Response::ReadIndex(ReadIndexResponse { term, index: None });
                    messages.push(Outgoing::Response { to, id, response });
                }
            }
        }
        self.started.clear();
        self.in_flight.clear();
        self.lease_from = None;
        self.confirmed = self.round;
    }
}

impl Raft {
    /// Asks for a read index for the read the driver names `id`; the outcome
    /// comes in a later [`Ready::reads`](crate::Ready::reads). Once the
    /// service has applied through the index, a read of its state is
    /// linearizable: it reflects every write acknowledged before this call.
    ///
    /// - On the leader: served at the next [`ready`](Self::ready) with the
    ///   others waiting then, in one heartbeat round, once an entry of the
    ///   leader's term has committed (at once with a valid lease, see
    ///   [`Config::lease_reads`](crate::Config::lease_reads)). Without
    ///   [`Config::noop_on_election`](crate::Config::noop_on_election), a new
    ///   leader's reads wait for its first command to commit.
    /// - On a node that knows a leader: forwarded to it, batched.
    /// - Otherwise: [`ReadError::NotLeader`] at once.
    ///
    /// A leader that loses the lead fails its reads with
    /// [`ReadError::LeadershipLost`].
    pub fn read_index(&mut self, id: ReadId) {
        if self.role == Role::Leader {
            if self.lease_is_valid() {
                self.counters.reads_confirmed += 1;
                self.read_outcomes.push(ReadOutcome { id, result: Ok(self.commit_index) });
            } else {
                self.reads.waiting.push(Reader::Local(id));
            }
        } else if self.leader.is_some() {
            self.reads.to_forward.push(id);
        } else {
            let result = Err(ReadError::NotLeader { leader_hint: None });
            self.read_outcomes.push(ReadOutcome { id, result });
        }
    }

    /// Whether reads wait for work at the next [`ready`](Self::ready): a
    /// leader's once it may serve them, a follower's to forward.
    pub(super) fn reads_have_work(&self) -> bool {
        match self.role {
            Role::Leader => {
                self.reads.has_waiting()
                    && self.own_term_committed()
                    && !self.reads.round_in_flight()
            }
            _ => !self.reads.to_forward.is_empty(),
        }
    }

    /// Whether an entry of the leader's own term has committed.
    fn own_term_committed(&self) -> bool {
        self.commit_index > self.term_start_index
    }

    /// With [`Config::lease_reads`](crate::Config::lease_reads): whether the
    /// leader may serve a read at once. Its lease runs from the start of the
    /// latest round a majority answered, for `election_ticks_min - 1` ticks
    /// (one tick less for the phase between the nodes' ticks): the followers
    /// that answered refuse to vote for `election_ticks_min` ticks after.
    /// Not during a transfer, which sets that stickiness aside.
    fn lease_is_valid(&self) -> bool {
        let lease = u64::from(self.config.election_ticks_min.saturating_sub(1));
        self.config.lease_reads
            && self.role == Role::Leader
            && self.transfer.is_none()
            && self.own_term_committed()
            && self.reads.lease_from.is_some_and(|from| self.ticks < from + lease)
    }

    /// A heartbeat round begins: with lease reads, it is a read round too,
    /// so the lease is renewed.
    pub(super) fn heartbeat_round(&mut self) {
        if self.config.lease_reads {
            self.reads.start_round(self.ticks, true);
        }
    }

    /// At [`ready`](Self::ready): a leader starts a round for the reads
    /// waiting, a follower forwards its reads to the leader.
    pub(super) fn flush_reads(&mut self) {
        if self.role == Role::Leader {
            let forwarded = std::mem::take(&mut self.reads.to_forward);
            self.reads.waiting.extend(forwarded.into_iter().map(Reader::Local));
            if self.reads.waiting.is_empty()
                || !self.own_term_committed()
                || self.reads.round_in_flight()
            {
                return;
            }
            self.reads.start_round(self.ticks, self.config.lease_reads);
            let round = self.reads.round;
            self.reads.in_flight.push_back(round);
            let index = self.commit_index;
            let waiting = std::mem::take(&mut self.reads.waiting);
            self.reads.confirming.extend(waiting.into_iter().map(|reader| (round, index, reader)));
            for position in 0..self.peers.len() {
                let peer = self.peers[position];
                self.heartbeat(peer);
            }
            self.confirm_reads();
            return;
        }
        if self.reads.to_forward.is_empty() {
            return;
        }
        let ids = std::mem::take(&mut self.reads.to_forward);
        match self.leader {
            Some(leader) => {
                let batch = self.reads.next_batch;
                self.reads.next_batch += 1;
                self.reads.forwarded.insert(batch, ids);
                let request = ReadIndexRequest { term: self.term, follower: self.id, batch };
                self.send(leader, Request::ReadIndex(request));
            }
            None => {
                for id in ids {
                    let result = Err(ReadError::NotLeader { leader_hint: None });
                    self.read_outcomes.push(ReadOutcome { id, result });
                }
            }
        }
    }

    /// The latest round a majority (the leader included) has answered
    /// releases its reads and those of earlier rounds, and renews the lease.
    pub(super) fn confirm_reads(&mut self) {
        let mut rounds: Vec<u64> = self
            .progress
            .values()
            .map(|progress| progress.acked_round)
            .chain([self.reads.round])
            .collect();
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        let confirmed = rounds[self.quorum() - 1];
        if confirmed <= self.reads.confirmed {
            return;
        }
        self.reads.confirmed = confirmed;
        while self.reads.in_flight.front().is_some_and(|&round| round <= confirmed) {
            self.reads.in_flight.pop_front();
        }
        while self.reads.started.front().is_some_and(|&(round, _)| round <= confirmed) {
            if let Some((_, tick)) = self.reads.started.pop_front() {
                self.reads.lease_from = Some(tick);
            }
        }
        let term = self.term;
        while self.reads.confirming.front().is_some_and(|&(round, _, _)| round <= confirmed) {
            let Some((_, index, reader)) = self.reads.confirming.pop_front() else { break };
            self.counters.reads_confirmed += 1;
            match reader {
                Reader::Local(id) => self.read_outcomes.push(ReadOutcome { id, result: Ok(index) }),
                Reader::Remote { to, id } => {
                    let response =
                        Response::ReadIndex(ReadIndexResponse { term, index: Some(index) });
                    self.persisted_messages.push(Outgoing::Response { to, id, response });
                }
            }
        }
    }

    /// ReadIndex receiver: the leader serves a follower's read like its own
    /// and answers once it is confirmed (`None` here: the answer comes
    /// later); anyone else answers that it does not lead.
    pub(super) fn handle_read_index_request(
        &mut self,
        from: NodeId,
        id: RequestId,
        _request: ReadIndexRequest,
    ) -> Option<ReadIndexResponse> {
        if self.role != Role::Leader {
            return Some(ReadIndexResponse { term: self.term, index: None });
        }
        if self.lease_is_valid() {
            self.counters.reads_confirmed += 1;
            return Some(ReadIndexResponse { term: self.term, index: Some(self.commit_index) });
        }
        self.reads.waiting.push(Reader::Remote { to: from, id });
        None
    }

    /// The leader's answer to a forwarded batch (`None` when it does not
    /// lead, or its request failed).
    pub(super) fn handle_read_index_response(
        &mut self,
        from: NodeId,
        batch: u64,
        index: Option<Index>,
    ) {
        let Some(ids) = self.reads.forwarded.remove(&batch) else { return };
        let result = index.ok_or(ReadError::NotLeader {
            leader_hint: self.leader.filter(|&leader| leader != from),
        });
        self.read_outcomes
            .extend(ids.into_iter().map(|id| ReadOutcome { id, result: result.clone() }));
    }

    /// A forwarded batch's request failed: its reads fail, to be tried again.
    pub(super) fn read_index_failed(&mut self, batch: u64) {
        let Some(ids) = self.reads.forwarded.remove(&batch) else { return };
        let result = Err(ReadError::LeadershipLost);
        self.read_outcomes
            .extend(ids.into_iter().map(|id| ReadOutcome { id, result: result.clone() }));
    }
}
