//! [`Raft`]: the deterministic protocol core (Raft Figure 2 and §7).
//!
//! It does no IO, reads no clock, spawns no thread and owns its random number
//! generator, seeded from [`Config::seed`]. Time arrives as [`Raft::tick`];
//! requests, responses, proposals and snapshots arrive as method calls; the
//! effects leave through [`Raft::take_ready`].

mod election;
mod replication;
mod snapshot;

use std::collections::{BTreeMap, BTreeSet};

use raft_log::{Index, Log, NodeId, Term};
use raft_persist::{HardState, PersistedState, Snapshot};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::message::MAX_PLAUSIBLE;
use crate::ready::{PendingUpdate, Ready};
use crate::{Applied, Config, NodeError, Request, Response, Role, Sent, Status};

/// One node's protocol state.
///
/// Invariants: `applied_index <= commit_index <= log.last_index()`;
/// `log.base_index() == snapshot.index`; `snapshot.index <= applied_index`.
#[derive(Debug)]
pub(crate) struct Raft {
    id: NodeId,
    /// The other members of the cluster.
    peers: Vec<NodeId>,
    config: Config,
    rng: SmallRng,

    /// Durable: the latest term seen (Raft Figure 2 `currentTerm`).
    term: Term,
    /// Durable: the candidate voted for in `term`.
    voted_for: Option<NodeId>,
    /// Durable: the log after the snapshot.
    log: Log,
    /// Durable: the latest snapshot, kept in memory to send to followers.
    snapshot: Snapshot,

    role: Role,
    leader: Option<NodeId>,
    /// The highest index known committed.
    commit_index: Index,
    /// The highest index queued for the service through [`Ready::applied`].
    applied_index: Index,

    /// Ticks since the last reset of the election timer.
    election_elapsed: u32,
    /// The current randomised election timeout, in ticks.
    election_timeout: u32,
    /// Ticks since the leader's last heartbeat round.
    heartbeat_elapsed: u32,

    /// Votes received as candidate in `term`, this node's own included.
    votes: BTreeSet<NodeId>,
    /// The leader's view of each peer.
    progress: BTreeMap<NodeId, crate::progress::Progress>,

    pending: PendingUpdate,
    messages: Vec<(NodeId, Request)>,
    applied: Vec<Applied>,
}

impl Raft {
    /// Restores a node from its persisted state. A snapshot in it is handed to
    /// the service first, in the first [`Ready`].
    pub(crate) fn new(config: Config, state: PersistedState) -> Result<Raft, NodeError> {
        config.validate().map_err(NodeError::Config)?;
        let snapshot = state.snapshot.unwrap_or_default();
        let log = Log::from_parts(snapshot.index, snapshot.term, state.entries)
            .map_err(NodeError::InconsistentState)?;
        let peers = config.peers.iter().copied().filter(|&peer| peer != config.id).collect();
        let mut raft = Raft {
            id: config.id,
            peers,
            rng: SmallRng::seed_from_u64(config.seed),
            term: state.hard_state.term,
            voted_for: state.hard_state.voted_for,
            log,
            role: Role::Follower,
            leader: None,
            commit_index: snapshot.index,
            applied_index: snapshot.index,
            election_elapsed: 0,
            election_timeout: 0,
            heartbeat_elapsed: 0,
            votes: BTreeSet::new(),
            progress: BTreeMap::new(),
            pending: PendingUpdate::default(),
            messages: Vec::new(),
            applied: Vec::new(),
            config,
            snapshot,
        };
        if raft.snapshot.index > Index(0) {
            raft.applied.push(Applied::Snapshot {
                index: raft.snapshot.index,
                term: raft.snapshot.term,
                data: raft.snapshot.data.clone(),
            });
        }
        raft.reset_election_timer();
        Ok(raft)
    }

    /// Advances time by one tick: an election when a follower or candidate
    /// hears nothing for its timeout; for a leader, heartbeats when its
    /// interval ends, and news of a commit to followers that lack it.
    pub(crate) fn tick(&mut self) {
        match self.role {
            Role::Leader => {
                self.heartbeat_elapsed += 1;
                for progress in self.progress.values_mut() {
                    progress.snapshot_backoff = progress.snapshot_backoff.saturating_sub(1);
                }
                if self.heartbeat_elapsed >= self.config.heartbeat_ticks {
                    self.heartbeat_elapsed = 0;
                    self.broadcast_append();
                } else {
                    self.broadcast_commit();
                }
            }
            Role::Follower | Role::Candidate => {
                self.election_elapsed += 1;
                if self.election_elapsed >= self.election_timeout {
                    self.campaign();
                }
            }
        }
    }

    /// Answers a request from a peer. The answer may only leave once the
    /// [`Ready`] taken after this call has been saved.
    pub(crate) fn handle_request(&mut self, request: Request) -> Response {
        if !request.is_plausible() {
            tracing::warn!(id = %self.id, ?request, "refused a malformed request");
            return self.refusal(&request);
        }
        match request {
            Request::Vote(request) => Response::Vote(self.handle_vote_request(request)),
            Request::Append(request) => Response::Append(self.handle_append_request(request)),
            Request::Snapshot(request) => Response::Snapshot(self.handle_snapshot_request(request)),
        }
    }

    /// Takes in a peer's answer to a request this node sent, described by `sent`.
    pub(crate) fn handle_response(&mut self, from: NodeId, sent: Sent, response: Response) {
        let term = response.term();
        if term.0 > MAX_PLAUSIBLE {
            tracing::warn!(id = %self.id, %from, "ignored an answer with a malformed term");
            return;
        }
        if term > self.term {
            self.become_follower(term, None);
            return;
        }
        // An answer to a request from an earlier term says nothing now.
        if sent.term() != self.term {
            return;
        }
        match (sent, response) {
            (Sent::Vote { .. }, Response::Vote(response)) => {
                self.handle_vote_response(from, response)
            }
            (Sent::Append { prev_log_index, .. }, Response::Append(response)) => {
                self.handle_append_response(from, prev_log_index, response)
            }
            (Sent::Snapshot { last_included_index, .. }, Response::Snapshot(_)) => {
                self.handle_snapshot_response(from, last_included_index)
            }
            _ => {}
        }
    }

    /// The answer to a request refused unread: no vote, no match, this node's
    /// term.
    fn refusal(&self, request: &Request) -> Response {
        match request {
            Request::Vote(_) => {
                Response::Vote(crate::VoteResponse { term: self.term, granted: false })
            }
            Request::Append(_) => Response::Append(self.reject_append(None, Index(0))),
            Request::Snapshot(_) => Response::Snapshot(crate::SnapshotResponse { term: self.term }),
        }
    }

    /// Appends a command if this node leads, and starts replicating it.
    pub(crate) fn propose(&mut self, data: Vec<u8>) -> Option<(Index, Term)> {
        if self.role != Role::Leader {
            return None;
        }
        let index = self.log.push(self.term, data);
        if let Some(entry) = self.log.entry(index) {
            self.pending.append([entry.clone()]);
        }
        self.broadcast_append();
        self.maybe_commit();
        Some((index, self.term))
    }

    /// The leader this node knows of in its current term.
    pub(crate) fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// A read-only view of the node.
    pub(crate) fn status(&self) -> Status {
        Status {
            id: self.id,
            term: self.term,
            role: self.role,
            leader: self.leader,
            commit_index: self.commit_index,
            applied_index: self.applied_index,
            snapshot_index: self.snapshot.index,
            last_index: self.log.last_index(),
        }
    }

    /// Takes everything the steps since the last call produced. Committed
    /// entries not yet handed over are added to [`Ready::applied`].
    pub(crate) fn take_ready(&mut self) -> Ready {
        while self.applied_index < self.commit_index {
            let index = self.applied_index.next();
            let Some(entry) = self.log.entry(index) else { break };
            self.applied.push(Applied::Command {
                index,
                term: entry.term,
                data: entry.data.clone(),
            });
            self.applied_index = index;
        }
        Ready {
            update: self.pending.take(),
            messages: std::mem::take(&mut self.messages),
            applied: std::mem::take(&mut self.applied),
        }
    }

    /// Moves to `term` (if newer) as a follower of `leader`. The election
    /// timer restarts only when the role changes: hearing of a newer term from
    /// a candidate that gets no vote must not hold back this node's own
    /// election (Raft Figure 2 resets it on granting a vote or hearing from the
    /// leader, which the callers do).
    fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.save_hard_state();
        }
        if self.role != Role::Follower {
            tracing::debug!(id = %self.id, term = %self.term, "became follower");
            self.role = Role::Follower;
            self.reset_election_timer();
        }
        self.leader = leader;
        self.votes.clear();
        self.progress.clear();
    }

    fn save_hard_state(&mut self) {
        self.pending.set_hard_state(HardState { term: self.term, voted_for: self.voted_for });
    }

    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        self.election_timeout =
            self.rng.gen_range(self.config.election_ticks_min..self.config.election_ticks_max);
    }

    /// The number of votes or matches that make a majority of the cluster.
    fn quorum(&self) -> usize {
        let cluster_size = self.peers.len() + 1;
        cluster_size / 2 + 1
    }

    fn send(&mut self, to: NodeId, request: Request) {
        self.messages.push((to, request));
    }
}

#[cfg(test)]
mod tests;
