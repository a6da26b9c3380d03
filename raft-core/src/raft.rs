//! [`Raft`]: the deterministic protocol core (Raft Figure 2 and §7), public
//! for drivers that bring their own IO.

mod check_quorum;
mod election;
mod follower;
mod read;
mod replication;
mod snapshot;
mod transfer;

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use raft_log::{Index, Log, NodeId, Term};
use raft_persist::{HardState, PersistedState, Snapshot};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use self::read::Reads;
use self::transfer::Transfer;
use crate::message::MAX_PLAUSIBLE;
use crate::progress::{Progress, Window};
use crate::ready::{Outgoing, PendingUpdate, Ready};
use crate::{
    Applied, Config, Counters, Message, ProposeError, RaftError, ReadOutcome, Request, RequestId,
    Response, Role, Sent, Status,
};
use raft_log::EntryKind;

/// The bytes an entry is charged on top of its data when batches, windows and
/// the uncommitted bound are measured: its index and term, at most 10 bytes
/// each encoded, with room to spare.
pub(crate) const ENTRY_OVERHEAD_BYTES: u64 = 24;

/// What an entry carrying `data` counts toward the byte bounds.
pub(crate) fn charged_bytes(data: &[u8]) -> u64 {
    data.len() as u64 + ENTRY_OVERHEAD_BYTES
}

/// One node's protocol state machine, with no IO, clock, threads or ambient
/// randomness (the role of etcd-io/raft's `RawNode`).
///
/// A driver feeds it time ([`tick`](Self::tick)), the network
/// ([`step`](Self::step)), the service's commands ([`propose`](Self::propose))
/// and snapshots ([`snapshot`](Self::snapshot)), and what became durable
/// ([`on_persisted`](Self::on_persisted)). After any of these it takes the
/// work they produced with [`ready`](Self::ready) and carries it out in the
/// order [`Ready`] documents. [`Node`](crate::Node) is such a driver, on
/// threads; a simulator is another, in virtual time.
///
/// # Messages
///
/// Messages are paired: every [`Request`] gets one [`Response`] or fails. The
/// driver names each request it steps with a [`RequestId`](crate::RequestId), which comes back on
/// the answer, and remembers a [`Sent`] for each request it sends, which it
/// hands back with the outcome. So one "RPC" of a transport, or of the lab's
/// simulated network, is one request and its answer.
///
/// # Example
///
/// Three cores in one thread, over a perfect network and an instant disk:
///
/// ```
/// use std::collections::{HashMap, VecDeque};
///
/// use raft_core::{Applied, Config, Message, NodeId, Outgoing, Raft, RaftError, RequestId, Role, Sent};
/// use raft_persist::PersistedState;
///
/// /// Carries out every node's work, and delivers every message, until all is quiet.
/// fn settle(nodes: &mut [Raft], applied: &mut [Vec<Applied>]) -> Result<(), RaftError> {
///     let mut wire = VecDeque::new();
///     let mut asked: HashMap<RequestId, Sent> = HashMap::new();
///     let mut next_id = 0;
///     loop {
///         for (n, node) in nodes.iter_mut().enumerate() {
///             let ready = node.ready();
///             // A real driver sends ready.messages now, then saves ready.update.
///             if let Some((index, term)) = ready.persisted() {
///                 node.on_persisted(index, term);
///             }
///             let from = node.id();
///             for message in ready.messages.into_iter().chain(ready.persisted_messages) {
///                 match message {
///                     Outgoing::Request { to, request } => {
///                         next_id += 1;
///                         let id = RequestId(next_id);
///                         asked.insert(id, Sent::of(&request));
///                         wire.push_back((to, Message::Request { from, id, request }));
///                     }
///                     Outgoing::Response { to, id, response } => {
///                         let sent = asked.remove(&id).expect("an answer to a request sent");
///                         let response = Some(response);
///                         wire.push_back((to, Message::Response { from, sent, response }));
///                     }
///                 }
///             }
///             applied[n].extend(ready.committed);
///         }
///         match wire.pop_front() {
///             Some((to, message)) => nodes[to.0 as usize - 1].step(message)?,
///             None if nodes.iter().any(Raft::has_ready) => {}
///             None => return Ok(()),
///         }
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let ids = vec![NodeId(1), NodeId(2), NodeId(3)];
/// let mut nodes = Vec::new();
/// for &id in &ids {
///     nodes.push(Raft::new(Config::new(id, ids.clone()), PersistedState::default())?);
/// }
/// let mut applied = vec![Vec::new(); 3];
///
/// // Time passes until one node times out and wins an election.
/// while !nodes.iter().any(|node| node.role() == Role::Leader) {
///     nodes.iter_mut().for_each(Raft::tick);
///     settle(&mut nodes, &mut applied)?;
/// }
/// let leader = nodes.iter().position(|node| node.role() == Role::Leader).unwrap();
/// let (index, _term) = nodes[leader].propose(b"hello".to_vec())?;
///
/// // The followers hear of the commit within a heartbeat.
/// for _ in 0..10 {
///     nodes.iter_mut().for_each(Raft::tick);
///     settle(&mut nodes, &mut applied)?;
/// }
/// for items in &applied {
///     assert!(matches!(
///         items.last(),
///         Some(Applied::Command { index: i, data, .. }) if *i == index && &data[..] == b"hello"
///     ));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Raft {
    id: NodeId,
    /// The other members of the cluster.
    peers: Vec<NodeId>,
    config: Config,
    rng: SmallRng,

    /// Durable: the latest term seen (Raft Figure 2 `currentTerm`).
    term: Term,
    /// Durable: the candidate voted for in `term`.
    voted_for: Option<NodeId>,
    /// The log after the snapshot; durable through `persisted_index`.
    log: Log,
    /// Durable: the latest snapshot, kept in memory to send to followers.
    snapshot: Snapshot,
    /// The last index known durable on this node's own disk.
    /// Invariant: `persisted_index <= log.last_index()`.
    persisted_index: Index,

    role: Role,
    leader: Option<NodeId>,
    /// The highest index known committed.
    commit_index: Index,
    /// The highest index handed out through [`Ready::committed`].
    applied_index: Index,

    /// Ticks since the last reset of the election timer.
    election_elapsed: u32,
    /// The current randomised election timeout, in ticks.
    election_timeout: u32,
    /// Ticks since the leader's last heartbeat round.
    heartbeat_elapsed: u32,
    /// Ticks since the node started: the clock of CheckQuorum and leases.
    ticks: u64,

    /// Votes received as candidate in `term`, this node's own included.
    votes: BTreeSet<NodeId>,
    /// The leader's view of each peer.
    progress: BTreeMap<NodeId, Progress>,
    /// Followers with something new to send at the next [`Raft::ready`]: new
    /// entries, or an answer that opened the window.
    to_replicate: BTreeSet<NodeId>,
    /// The leader's last index when it took the lead: the entries after it
    /// are its own, those up to it a predecessor's.
    term_start_index: Index,
    /// The payload bytes of the leader's own entries past the commit index.
    /// Invariant: 0 unless leader.
    uncommitted_bytes: u64,
    /// The leadership transfer in progress. Invariant: `None` unless leader.
    transfer: Option<Transfer>,
    /// Reads waiting for a read index, on the leader or forwarded to it.
    reads: Reads,

    counters: Counters,
    pending: PendingUpdate,
    messages: Vec<Outgoing>,
    persisted_messages: Vec<Outgoing>,
    committed: Vec<Applied>,
    read_outcomes: Vec<ReadOutcome>,
}

impl Raft {
    /// Restores a node from its persisted state. A snapshot in it is handed to
    /// the service first, in the first [`Ready::committed`].
    ///
    /// # Errors
    /// [`RaftError::Config`] if `config` does not validate,
    /// [`RaftError::InconsistentState`] if the entries do not follow the
    /// snapshot.
    pub fn new(config: Config, state: PersistedState) -> Result<Raft, RaftError> {
        config.validate().map_err(RaftError::Config)?;
        let snapshot = state.snapshot.unwrap_or_default();
        let log = Log::from_parts(snapshot.index, snapshot.term, state.entries)
            .map_err(RaftError::InconsistentState)?;
        let peers = config.peers.iter().copied().filter(|&peer| peer != config.id).collect();
        let mut raft = Raft {
            id: config.id,
            peers,
            rng: SmallRng::seed_from_u64(config.seed),
            term: state.hard_state.term,
            voted_for: state.hard_state.voted_for,
            persisted_index: log.last_index(),
            log,
            role: Role::Follower,
            leader: None,
            commit_index: snapshot.index,
            applied_index: snapshot.index,
            election_elapsed: 0,
            election_timeout: 0,
            heartbeat_elapsed: 0,
            ticks: 0,
            votes: BTreeSet::new(),
            progress: BTreeMap::new(),
            to_replicate: BTreeSet::new(),
            term_start_index: Index(0),
            uncommitted_bytes: 0,
            transfer: None,
            reads: Reads::default(),
            counters: Counters::default(),
            pending: PendingUpdate::default(),
            messages: Vec::new(),
            persisted_messages: Vec::new(),
            committed: Vec::new(),
            read_outcomes: Vec::new(),
            config,
            snapshot,
        };
        if raft.snapshot.index > Index(0) {
            raft.committed.push(Applied::Snapshot {
                index: raft.snapshot.index,
                term: raft.snapshot.term,
                data: raft.snapshot.data.clone(),
            });
        }
        raft.reset_election_timer();
        Ok(raft)
    }

    /// Advances time by one tick: an election (or a PreVote round) when a
    /// follower or candidate hears nothing for its timeout; for a leader,
    /// heartbeats to every follower when its interval ends (whatever the
    /// follower's state), news of a commit to followers that lack it,
    /// CheckQuorum, and the end of a leadership transfer that ran too long.
    pub fn tick(&mut self) {
        self.ticks += 1;
        match self.role {
            Role::Leader => {
                if !self.check_quorum() {
                    return;
                }
                self.tick_transfer();
                for (&peer, progress) in &mut self.progress {
                    if progress.on_tick() {
                        self.to_replicate.insert(peer);
                    }
                }
                self.heartbeat_elapsed += 1;
                if self.heartbeat_elapsed >= self.config.heartbeat_ticks {
                    self.heartbeat_elapsed = 0;
                    self.broadcast_heartbeat();
                } else {
                    self.broadcast_commit();
                }
            }
            Role::Follower | Role::PreCandidate | Role::Candidate => {
                self.election_elapsed += 1;
                if self.election_elapsed >= self.election_timeout {
                    self.start_election();
                }
            }
        }
    }

    /// Takes in one message from the network: a peer's request (answered in
    /// a later [`Ready`]) or the outcome of a request this node sent.
    ///
    /// A request whose terms or indices are implausible (within 2^32 of
    /// `u64::MAX`) is refused with an answer that grants nothing; an answer
    /// like that is ignored.
    ///
    /// # Errors
    /// [`RaftError::UnknownPeer`] if the message names a node outside the
    /// cluster (this node included); nothing changes and no answer is made.
    pub fn step(&mut self, message: Message) -> Result<(), RaftError> {
        match message {
            Message::Request { from, id, request } => {
                if !self.peers.contains(&from) {
                    return Err(RaftError::UnknownPeer(from));
                }
                let Some(response) = self.handle_request(from, id, request) else {
                    return Ok(()); // answered later (a ReadIndex waiting for its round)
                };
                // Planted bug (test-only): an AppendEntries answer leaves before
                // the entries it acknowledges are durable.
                #[cfg(feature = "planted-bugs")]
                if matches!(response, Response::Append(_))
                    && self.config.planted_bug == Some(crate::PlantedBug::AnswerBeforePersisting)
                {
                    self.messages.push(Outgoing::Response { to: from, id, response });
                    return Ok(());
                }
                self.persisted_messages.push(Outgoing::Response { to: from, id, response });
            }
            Message::Response { from, sent, response } => {
                if !self.peers.contains(&from) {
                    return Err(RaftError::UnknownPeer(from));
                }
                match response {
                    Some(response) => self.handle_response(from, sent, response),
                    None => self.handle_failure(from, sent),
                }
            }
        }
        Ok(())
    }

    /// Appends a command if this node leads; it goes to the followers with the
    /// next [`Ready`], batched with every other command proposed before it.
    /// Returns where the entry sits; it may still be lost if leadership
    /// changes before it commits.
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`] on a follower or candidate;
    /// [`ProposeError::TooLarge`] if the command alone exceeds
    /// [`Config::max_bytes_per_append`]; [`ProposeError::Busy`] if the
    /// uncommitted entries or bytes are at [`Config::max_uncommitted_entries`]
    /// or [`Config::max_uncommitted_bytes`]; [`ProposeError::Transferring`]
    /// while a leadership transfer is in progress.
    pub fn propose(&mut self, data: impl Into<Bytes>) -> Result<(Index, Term), ProposeError> {
        let data = data.into();
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader { leader_hint: self.leader });
        }
        if let Some(transfer) = &self.transfer {
            return Err(ProposeError::Transferring { to: transfer.to });
        }
        let size = charged_bytes(&data);
        if size > self.config.max_bytes_per_append {
            return Err(ProposeError::TooLarge { size, limit: self.config.max_bytes_per_append });
        }
        if self.is_busy(size) {
            return Err(ProposeError::Busy);
        }
        let index = self.log.push(self.term, data);
        self.appended_own(index, size);
        Ok((index, self.term))
    }

    /// The leader appended its own entry at `index`, counting `size` bytes
    /// toward the uncommitted bound: save it, send it, and commit it if this
    /// node alone is a majority.
    fn appended_own(&mut self, index: Index, size: u64) {
        self.uncommitted_bytes += size;
        if let Some(entry) = self.log.entry(index) {
            self.pending.append([entry.clone()]);
        }
        self.to_replicate.extend(self.peers.iter().copied());
        self.maybe_commit();
    }

    /// Whether a leader would refuse a command of `size` bytes (as
    /// [`Config::max_bytes_per_append`] counts them) as busy: its own
    /// uncommitted entries or bytes are at their bounds.
    ///
    /// Only the entries the leader appended in its term count: those of
    /// earlier terms commit only once one of its own does (Raft §5.4.2), so
    /// counting them could refuse the very entry that would commit them.
    pub fn is_busy(&self, size: u64) -> bool {
        let own_from = self.commit_index.max(self.term_start_index);
        let uncommitted = self.log.last_index().0.saturating_sub(own_from.0);
        uncommitted >= self.config.max_uncommitted_entries
            || self.uncommitted_bytes + size > self.config.max_uncommitted_bytes
    }

    /// Reports that the log is durable through `index`, whose entry has
    /// `term` (as [`Ready::persisted`] gives them). A report for an entry
    /// that has since been replaced is ignored. A leader counts its own log
    /// toward a commit only through this index.
    pub fn on_persisted(&mut self, index: Index, term: Term) {
        if index <= self.persisted_index || index > self.log.last_index() {
            return;
        }
        if self.log.term(index) != Some(term) {
            return;
        }
        self.persisted_index = index;
        self.maybe_commit();
    }

    /// Whether [`ready`](Self::ready) has anything to give.
    pub fn has_ready(&self) -> bool {
        !self.pending.is_empty()
            || !self.messages.is_empty()
            || !self.persisted_messages.is_empty()
            || !self.committed.is_empty()
            || !self.read_outcomes.is_empty()
            || self.reads_have_work()
            || self.applied_index < self.commit_index
            || (self.role == Role::Leader && !self.to_replicate.is_empty())
    }

    /// Takes everything the steps since the last call produced: the batched
    /// AppendEntries for new entries, the durable update, the answers, the
    /// committed entries not yet handed out and the reads' outcomes.
    pub fn ready(&mut self) -> Ready {
        self.flush_reads();
        self.flush_replication();
        while self.applied_index < self.commit_index {
            let index = self.applied_index.next();
            let Some(entry) = self.log.entry(index) else { break };
            let term = entry.term;
            self.committed.push(match entry.kind {
                EntryKind::Command => Applied::Command { index, term, data: entry.data.clone() },
                // Configuration entries never enter the log (check_batch).
                EntryKind::Noop | EntryKind::Configuration => Applied::Noop { index, term },
            });
            self.applied_index = index;
        }
        Ready {
            messages: std::mem::take(&mut self.messages),
            update: self.pending.take(),
            persisted_messages: std::mem::take(&mut self.persisted_messages),
            committed: std::mem::take(&mut self.committed),
            reads: std::mem::take(&mut self.read_outcomes),
        }
    }

    /// This node.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The current term.
    pub fn term(&self) -> Term {
        self.term
    }

    /// The role in the current term.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The leader this node knows of in its current term.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The candidate this node voted for in its current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// The highest index known committed.
    pub fn commit_index(&self) -> Index {
        self.commit_index
    }

    /// The last index durable on this node's disk, as reported through
    /// [`on_persisted`](Self::on_persisted).
    pub fn persisted_index(&self) -> Index {
        self.persisted_index
    }

    /// The log, read-only.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The configuration the node runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A read-only view of the node: role, indices, each follower's progress
    /// (on a leader) and the counters.
    pub fn status(&self) -> Status {
        Status {
            id: self.id,
            term: self.term,
            role: self.role,
            leader: self.leader,
            commit_index: self.commit_index,
            applied_index: self.applied_index,
            snapshot_index: self.snapshot.index,
            last_index: self.log.last_index(),
            persisted_index: self.persisted_index,
            progress: self.progress.iter().map(|(&id, progress)| progress.view(id)).collect(),
            transfer: self.transfer.as_ref().map(|transfer| transfer.to),
            counters: self.counters,
        }
    }

    /// Answers a request from peer `from`, which the driver named `id`; `None`
    /// when the answer comes later (a ReadIndex the leader must confirm).
    fn handle_request(
        &mut self,
        from: NodeId,
        id: RequestId,
        request: Request,
    ) -> Option<Response> {
        if !request.is_plausible() {
            tracing::warn!(id = %self.id, ?request, "refused a malformed request");
            return Some(self.refusal(&request));
        }
        Some(match request {
            Request::Vote(request) => Response::Vote(self.handle_vote_request(request)),
            Request::PreVote(request) => Response::PreVote(self.handle_pre_vote_request(request)),
            Request::Append(request) => Response::Append(self.handle_append_request(request)),
            Request::Snapshot(request) => Response::Snapshot(self.handle_snapshot_request(request)),
            Request::TimeoutNow(request) => {
                Response::TimeoutNow(self.handle_timeout_now_request(request))
            }
            Request::ReadIndex(request) => {
                return self.handle_read_index_request(from, id, request).map(Response::ReadIndex);
            }
        })
    }

    /// Takes in a peer's answer to a request this node sent, described by `sent`.
    fn handle_response(&mut self, from: NodeId, sent: Sent, response: Response) {
        let term = response.term();
        if term.0 > MAX_PLAUSIBLE {
            tracing::warn!(id = %self.id, %from, "ignored an answer with a malformed term");
            return;
        }
        // A read index stays good whatever happened to this node since it
        // asked: the leader confirmed it. The reads must hear either way.
        if let (Sent::ReadIndex { batch, .. }, Response::ReadIndex(response)) = (sent, &response) {
            self.handle_read_index_response(from, batch, response.index);
        }
        if term > self.term {
            self.become_follower(term, None);
            return;
        }
        if term == self.term {
            self.heard_from(from);
        }
        // A PreVote asks about the next term; its answer counts only if this
        // node is still in the term it asked from.
        if let (Sent::PreVote { term }, Response::PreVote(response)) = (sent, &response) {
            if term == self.term.next() {
                self.handle_pre_vote_response(from, response);
            }
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
            (Sent::Append { prev_log_index, entries, .. }, Response::Append(response)) => {
                self.handle_append_response(from, prev_log_index, entries, response)
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
            Request::PreVote(_) => {
                Response::PreVote(crate::VoteResponse { term: self.term, granted: false })
            }
            Request::Append(_) => Response::Append(self.reject_append(None, Index(0), 0)),
            Request::Snapshot(_) => Response::Snapshot(crate::SnapshotResponse { term: self.term }),
            Request::TimeoutNow(_) => {
                Response::TimeoutNow(crate::TimeoutNowResponse { term: self.term })
            }
            Request::ReadIndex(_) => {
                Response::ReadIndex(crate::ReadIndexResponse { term: self.term, index: None })
            }
        }
    }

    /// Moves to `term` (if newer) as a follower of `leader`. The election
    /// timer restarts only when the role changes: hearing of a newer term from
    /// a candidate that gets no vote must not hold back this node's own
    /// election (Raft Figure 2 resets it on granting a vote or hearing from the
    /// leader, which the callers do).
    fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        if self.role == Role::Leader {
            self.transfer = None;
            self.reads.lost_leadership(
                self.term,
                &mut self.read_outcomes,
                &mut self.persisted_messages,
            );
        }
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
        self.to_replicate.clear();
        self.uncommitted_bytes = 0;
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

    /// The replicate state's window bounds.
    fn window(&self) -> Window {
        Window { messages: self.config.max_inflight_appends, bytes: self.config.max_inflight_bytes }
    }

    /// Queues a request. A leader's AppendEntries and InstallSnapshot may
    /// leave before the update is saved (they promise nothing it holds);
    /// everything else waits for the save.
    fn send(&mut self, to: NodeId, request: Request) {
        let early = self.role == Role::Leader
            && matches!(request, Request::Append(_) | Request::Snapshot(_));
        let message = Outgoing::Request { to, request };
        if early { self.messages.push(message) } else { self.persisted_messages.push(message) }
    }
}

#[cfg(test)]
mod tests;
