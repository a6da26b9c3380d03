//! Leadership transfer (thesis §3.10): the leader stops taking commands,
//! brings the target up to date, and tells it to campaign at once with
//! TimeoutNow.

use raft_log::NodeId;

use super::Raft;
use crate::{Request, Role, TimeoutNowRequest, TimeoutNowResponse, TransferError};

/// A leadership transfer in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Transfer {
    /// The node taking the lead.
    pub(super) to: NodeId,
    /// Ticks since the transfer began; it ends unfinished after an election
    /// timeout.
    elapsed: u32,
    /// Whether TimeoutNow went out.
    timeout_now_sent: bool,
}

impl Raft {
    /// Hands the lead to `to` (thesis §3.10). The leader takes no new
    /// commands meanwhile ([`ProposeError::Transferring`](crate::ProposeError::Transferring)),
    /// brings `to`'s log up to date, then sends it TimeoutNow, on which `to`
    /// campaigns at once, past PreVote and the other nodes' stickiness. The
    /// transfer ends when this node steps down, or unfinished after
    /// `election_ticks_min` ticks, and the leader takes commands again.
    /// [`Status::transfer`](crate::Status::transfer) shows it while it runs.
    ///
    /// Asking for a transfer to this node itself ends one in progress; asking
    /// again for the same target changes nothing; another target replaces it.
    ///
    /// # Errors
    /// [`TransferError::NotLeader`] on a follower or candidate,
    /// [`TransferError::UnknownPeer`] if `to` is not a member.
    pub fn transfer_leadership(&mut self, to: NodeId) -> Result<(), TransferError> {
        if self.role != Role::Leader {
            return Err(TransferError::NotLeader { leader_hint: self.leader });
        }
        if to == self.id {
            self.transfer = None;
            return Ok(());
        }
        if !self.peers.contains(&to) {
            return Err(TransferError::UnknownPeer(to));
        }
        if self.transfer.is_some_and(|transfer| transfer.to == to) {
            return Ok(());
        }
        tracing::info!(id = %self.id, term = %self.term, %to, "transferring leadership");
        self.transfer = Some(Transfer { to, elapsed: 0, timeout_now_sent: false });
        self.to_replicate.insert(to);
        self.maybe_send_timeout_now(to);
        Ok(())
    }

    /// Sends TimeoutNow to `peer` if it is the transfer's target, its log now
    /// matches the leader's whole log, and none went out yet.
    pub(super) fn maybe_send_timeout_now(&mut self, peer: NodeId) {
        let last = self.log.last_index();
        let Some(transfer) = &mut self.transfer else { return };
        if transfer.to != peer || transfer.timeout_now_sent {
            return;
        }
        if self.progress.get(&peer).is_none_or(|progress| progress.match_index < last) {
            return;
        }
        transfer.timeout_now_sent = true;
        let request = TimeoutNowRequest { term: self.term, leader: self.id };
        self.send(peer, Request::TimeoutNow(request));
    }

    /// The leader's tick for a transfer: one that ran an election timeout
    /// ends unfinished.
    pub(super) fn tick_transfer(&mut self) {
        let Some(transfer) = &mut self.transfer else { return };
        transfer.elapsed += 1;
        if transfer.elapsed >= self.config.election_ticks_min {
            tracing::info!(id = %self.id, to = %transfer.to, "leadership transfer timed out");
            self.transfer = None;
        }
    }

    /// TimeoutNow receiver: the leader of this term hands this node the lead,
    /// so it campaigns at once, in the next term, past PreVote.
    pub(super) fn handle_timeout_now_request(
        &mut self,
        request: TimeoutNowRequest,
    ) -> TimeoutNowResponse {
        if request.term < self.term || self.role == Role::Leader {
            return TimeoutNowResponse { term: self.term };
        }
        self.become_follower(request.term, Some(request.leader));
        tracing::info!(id = %self.id, term = %self.term, leader = %request.leader, "taking the lead on a transfer");
        self.campaign(true);
        TimeoutNowResponse { term: self.term }
    }
}
