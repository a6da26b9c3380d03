//! The leader's side of log replication (Raft §5.3, §5.4, thesis §10.2): the
//! pipeline that batches entries to each follower and paces them by its
//! [`Progress`](crate::progress::Progress), heartbeats, the answers, and the
//! commit rule.

use raft_log::{Entry, Index, NodeId};

use super::{Raft, charged_bytes};
use crate::progress::{ProgressState, Resume};
use crate::{AppendRequest, AppendResponse, Request, Role, Sent};

/// Ticks a follower may go without hearing of a new commit index before the
/// leader tells it outside a heartbeat.
const COMMIT_NEWS_GRACE_TICKS: u32 = 2;

impl Raft {
    /// The heartbeat tick: every follower hears from the leader, whatever its
    /// state, a follower receiving a snapshot included. A probe that got no
    /// answer goes out again.
    pub(super) fn broadcast_heartbeat(&mut self) {
        self.heartbeat_round();
        // By position, so a heartbeat round allocates no copy of the peer list.
        for position in 0..self.peers.len() {
            let peer = self.peers[position];
            if let Some(progress) = self.progress.get_mut(&peer) {
                progress.on_heartbeat();
            }
            self.heartbeat(peer);
        }
    }

    /// Tells the followers that have gone a whole tick without hearing of the
    /// latest commit index about it, so they apply without waiting for the
    /// next heartbeat. The tick of grace lets the next batch's AppendEntries
    /// carry the news instead, so a steady stream of proposals costs no extra
    /// messages; when idle, this sends nothing.
    pub(super) fn broadcast_commit(&mut self) {
        let commit_index = self.commit_index;
        for position in 0..self.peers.len() {
            let peer = self.peers[position];
            let Some(progress) = self.progress.get_mut(&peer) else { continue };
            if progress.sent_commit >= commit_index {
                continue;
            }
            progress.commit_lag_ticks += 1;
            if progress.commit_lag_ticks >= COMMIT_NEWS_GRACE_TICKS {
                self.heartbeat(peer);
            }
        }
    }

    /// One message that tells `peer` the leader lives and what is committed:
    /// - in the probe state, the probe itself (unless one is out);
    /// - in the replicate state, an AppendEntries without entries after the
    ///   last entry sent, so a follower that lost one rejects it and is
    ///   probed again (the transports deliver in order, so nothing in flight
    ///   is overtaken);
    /// - in the snapshot state, one after a point the follower is known to
    ///   hold, or the snapshot's: the follower may reject it, which the
    ///   leader ignores, and its election timer restarts all the same.
    pub(super) fn heartbeat(&mut self, peer: NodeId) {
        let Some(progress) = self.progress.get(&peer) else { return };
        // Planted bug (test-only): a follower awaiting its snapshot hears
        // nothing, so its election timer runs out (L1-a).
        #[cfg(feature = "planted-bugs")]
        if progress.state == ProgressState::Snapshot
            && self.config.planted_bug == Some(crate::PlantedBug::NoHeartbeatDuringSnapshot)
        {
            return;
        }
        let after = match progress.state {
            ProgressState::Probe if progress.probe_sent => return,
            ProgressState::Probe => return self.send_append(peer),
            ProgressState::Replicate => Index(progress.next_index.0 - 1),
            ProgressState::Snapshot => progress.match_index,
        };
        let after = if self.log.term(after).is_some() { after } else { self.log.base_index() };
        self.send_entries(peer, after, Vec::new(), 0);
    }

    /// Sends what the followers marked since the last [`Raft::ready`] can
    /// take: one batch per follower of everything proposed since, as far as
    /// its window allows.
    pub(super) fn flush_replication(&mut self) {
        if self.role != Role::Leader {
            self.to_replicate.clear();
            return;
        }
        while let Some(peer) = self.to_replicate.pop_first() {
            self.replicate(peer);
        }
    }

    /// Sends `peer` what it lacks, as its state and window allow: the
    /// snapshot when the log no longer holds its next entry, one probe in the
    /// probe state, batches up to the window in the replicate state.
    fn replicate(&mut self, peer: NodeId) {
        let window = self.window();
        loop {
            let Some(progress) = self.progress.get(&peer) else { return };
            if !progress.can_send(window) {
                return;
            }
            let next = progress.next_index;
            if next <= self.log.base_index() {
                self.send_snapshot(peer);
                return;
            }
            let probing = progress.state == ProgressState::Probe;
            if !probing && next > self.log.last_index() {
                return;
            }
            self.send_append(peer);
            // One probe at a time; and a batch that carried nothing (which
            // the checks above rule out) must not spin this loop.
            let advanced = self.progress.get(&peer).is_some_and(|p| p.next_index > next);
            if probing || !advanced {
                return;
            }
        }
    }

    /// Sends `peer` one AppendEntries from its `next_index`: as many entries as
    /// fit in [`Config::max_bytes_per_append`](crate::Config::max_bytes_per_append),
    /// and at least one when there is one.
    fn send_append(&mut self, peer: NodeId) {
        let Some(progress) = self.progress.get(&peer) else { return };
        let next = progress.next_index;
        if next <= self.log.base_index() {
            self.send_snapshot(peer);
            return;
        }
        let (entries, bytes) = self.batch_from(next);
        self.send_entries(peer, Index(next.0 - 1), entries, bytes);
    }

    /// The entries from `next` on that fit in one AppendEntries, and their
    /// payload bytes. Cloning an entry shares its payload.
    fn batch_from(&self, next: Index) -> (Vec<Entry>, u64) {
        let limit = self.config.max_bytes_per_append;
        let mut bytes = 0;
        let mut batch = Vec::new();
        for entry in self.log.entries_from(next).unwrap_or_default() {
            let size = charged_bytes(&entry.data);
            if !batch.is_empty() && bytes + size > limit {
                break;
            }
            bytes += size;
            batch.push(entry.clone());
        }
        (batch, bytes)
    }

    /// Sends `peer` the AppendEntries after `prev_log_index` carrying `entries`
    /// (`bytes` of payload), with the commit index, and records it in the
    /// follower's progress.
    fn send_entries(
        &mut self,
        peer: NodeId,
        prev_log_index: Index,
        entries: Vec<Entry>,
        bytes: u64,
    ) {
        let Some(prev_log_term) = self.log.term(prev_log_index) else { return };
        let commit_index = self.commit_index;
        let Some(progress) = self.progress.get_mut(&peer) else { return };
        let last = Index(prev_log_index.0 + entries.len() as u64);
        if !entries.is_empty() || progress.state == ProgressState::Probe {
            progress.sent_entries(last, bytes);
        }
        progress.sent_commit = commit_index;
        progress.commit_lag_ticks = 0;
        self.counters.appends_sent += 1;
        self.counters.entries_sent += entries.len() as u64;
        let request = AppendRequest {
            term: self.term,
            leader: self.id,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: commit_index,
            read_round: self.reads.round(),
        };
        self.send(peer, Request::Append(request));
    }

    /// Takes in a follower's answer to an AppendEntries sent after
    /// `prev_log_index` with `entries` entries.
    pub(super) fn handle_append_response(
        &mut self,
        from: NodeId,
        prev_log_index: Index,
        entries: u64,
        response: AppendResponse,
    ) {
        if self.role != Role::Leader {
            return;
        }
        let last = self.log.last_index();
        let Some(progress) = self.progress.get_mut(&from) else { return };
        progress.on_answer();
        let round = response.read_round.min(self.reads.round());
        if round > progress.acked_round {
            progress.acked_round = round;
            self.confirm_reads();
        }
        let Some(progress) = self.progress.get_mut(&from) else { return };
        if response.success {
            // A follower can only have matched what it was sent.
            let sent_through = Index(prev_log_index.0 + entries);
            progress.on_success(response.match_index.min(sent_through).min(last));
            self.to_replicate.insert(from);
            self.maybe_commit();
            self.maybe_send_timeout_now(from);
            return;
        }
        self.counters.rejections += 1;
        if progress.state == ProgressState::Snapshot || prev_log_index < progress.match_index {
            return; // A heartbeat to a follower awaiting its snapshot, or overtaken since.
        }
        let hint = match response.conflict_term {
            None => response.conflict_index,
            Some(term) => match self.log.last_index_of_term(term) {
                Some(index) => index.next(),
                None => response.conflict_index,
            },
        };
        let target = hint.min(prev_log_index).max(progress.match_index.next());
        if progress.state == ProgressState::Probe && target >= progress.next_index {
            return; // An older probe's rejection: the leader has backed off further already.
        }
        progress.become_probe(target, Resume::Now);
        self.to_replicate.insert(from);
    }

    /// A request to `peer` failed (unreachable, timed out): back to probing,
    /// at the next tick the first time, at the next heartbeat after that,
    /// unless it was a heartbeat to a follower awaiting its snapshot, whose
    /// own failure decides.
    pub(super) fn handle_failure(&mut self, peer: NodeId, sent: Sent) {
        if let Sent::ReadIndex { batch, .. } = sent {
            self.read_index_failed(batch);
            return;
        }
        if self.role != Role::Leader || sent.term() != self.term {
            return;
        }
        let Some(progress) = self.progress.get_mut(&peer) else { return };
        let restart = match sent {
            Sent::Vote { .. }
            | Sent::PreVote { .. }
            | Sent::TimeoutNow { .. }
            | Sent::ReadIndex { .. } => false,
            // Only the failure of an append still in flight counts: the
            // probe out now, or a batch in the window. Failures can come
            // long after their call (seconds, on a network that delays
            // them), when the follower has answered later calls since; and
            // a lost heartbeat is followed by lost batches if the follower
            // is really gone.
            Sent::Append { prev_log_index, entries, .. } => match progress.state {
                ProgressState::Probe => {
                    progress.probe_sent && prev_log_index.next() == progress.next_index
                }
                ProgressState::Replicate => {
                    entries > 0 && progress.is_inflight(Index(prev_log_index.0 + entries))
                }
                ProgressState::Snapshot => false,
            },
            Sent::Snapshot { last_included_index, .. } => {
                progress.state == ProgressState::Snapshot
                    && progress.pending_snapshot == last_included_index
            }
        };
        if restart {
            let next = progress.match_index.next();
            let resume = progress.on_failure();
            progress.become_probe(next, resume);
        }
    }

    /// Advances the commit index to the highest index a majority holds, if
    /// that entry is from the current term (Raft §5.4.2). The leader's own
    /// log counts only through what is durable on its disk.
    pub(super) fn maybe_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let mut matches: Vec<Index> = self
            .progress
            .values()
            .map(|progress| progress.match_index)
            .chain([self.persisted_index])
            .collect();
        matches.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = matches[self.quorum() - 1];
        let of_this_term = self.log.term(candidate) == Some(self.term);
        // Planted bug (test-only): an earlier term's entry commits by counting
        // replicas, without Raft §5.4.2's current-term check.
        #[cfg(feature = "planted-bugs")]
        let of_this_term = of_this_term
            || self.config.planted_bug == Some(crate::PlantedBug::CommitEarlierTermByCounting);
        if candidate > self.commit_index && of_this_term {
            let own_from = self.commit_index.max(self.term_start_index);
            let released = self.payload_bytes(own_from, candidate);
            self.uncommitted_bytes = self.uncommitted_bytes.saturating_sub(released);
            self.commit_index = candidate;
        }
    }

    /// The payload bytes, as the uncommitted bound counts them, of the
    /// entries after `from` through `through` that the log holds.
    pub(super) fn payload_bytes(&self, from: Index, through: Index) -> u64 {
        let start = from.next().max(self.log.first_index());
        let end = Index(through.0.saturating_add(1)).min(self.log.next_index());
        if start >= end {
            return 0;
        }
        self.log
            .entries(start..end)
            .unwrap_or_default()
            .iter()
            .map(|entry| charged_bytes(&entry.data))
            .sum()
    }
}
