//! The event loop: runs the protocol core on one thread and carries out each
//! [`Ready`] in the order it documents: send what may leave now, save, send
//! what waited for the save, resolve proposals and hand committed entries to
//! the service.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use raft_log::Index;
use raft_persist::Persister;
use raft_transport::{CallError, Responder, Transport};

use super::deadline::Ticker;
use super::event::Event;
use super::mailbox::{Mailbox, Taken};
use super::proposal::Slot;
use super::read::ReadSlot;
use super::stop::{Stop, StopReason};
use crate::{
    Applied, Message, Outgoing, Proposal, ProposalError, Raft, ReadError, ReadId, Ready, Request,
    RequestId, Response, Role, Sent, Status,
};

/// What the node's handles read without asking the loop.
#[derive(Debug)]
pub(crate) struct Published {
    pub(crate) status: Mutex<Status>,
    /// Whether this node leads, as of the loop's last turn.
    pub(crate) leading: AtomicBool,
    /// Whether the leader's uncommitted entries are at their bound.
    pub(crate) busy: AtomicBool,
}

/// The state the event loop owns.
pub(crate) struct Driver {
    pub(crate) raft: Raft,
    pub(crate) persister: Arc<dyn Persister>,
    pub(crate) transport: Arc<dyn Transport<Request, Response>>,
    /// The loop's queue: the node's handles, the transport's handler and
    /// its callbacks write to it. Closed when the node stops.
    pub(crate) events: Arc<Mailbox<Event>>,
    pub(crate) stop: Arc<Stop>,
    /// The service's apply side; closed when the loop ends.
    pub(crate) applied: Arc<Mailbox<Applied>>,
    pub(crate) published: Arc<Published>,
    pub(crate) tick_interval: Duration,
    /// Answers owed to peers, by the name the core was given.
    pub(crate) answers: HashMap<RequestId, Responder<Response>>,
    pub(crate) next_request: u64,
    /// Proposals accepted into the log and not yet resolved, in index order.
    pub(crate) proposals: VecDeque<(Proposal, Arc<Slot>)>,
    /// Reads waiting for their index, by the name the core was given.
    pub(crate) reads: HashMap<ReadId, Arc<ReadSlot>>,
    pub(crate) next_read: u64,
    /// Messages the transport could not send.
    pub(crate) unsendable: u64,
}

impl Driver {
    /// Runs until shutdown or a persister failure. Each turn takes in every
    /// event waiting (or the next tick), then carries out what they produced:
    /// under load, one turn's proposals make one batch.
    pub(crate) fn run(mut self) {
        self.turn();
        let mut ticker = Ticker::start(self.tick_interval);
        let mut events = VecDeque::new();
        while !self.stop.is_stopped() {
            let taken = self.events.take_all(&mut events, Some(ticker.next()));
            if taken == Taken::Closed || self.stop.is_stopped() {
                break;
            }
            for _ in 0..ticker.due() {
                self.raft.tick();
            }
            while let Some(event) = events.pop_front() {
                self.handle(event);
            }
            self.turn();
        }
        self.events.close();
        self.applied.close();
        // Whatever was queued and never handled ends too: a proposal's handle
        // resolves, a request's responder and a snapshot's reply are dropped
        // (refused).
        self.events.take_all(&mut events, None);
        for event in events {
            match event {
                Event::Propose(commands) => {
                    for (_, slot) in commands {
                        slot.resolve(Err(ProposalError::Stopped));
                    }
                }
                Event::Read(slots) => {
                    for slot in slots {
                        slot.set(Err(ReadError::Shutdown));
                    }
                }
                _ => {}
            }
        }
        for (_, slot) in self.proposals.drain(..) {
            slot.resolve(Err(ProposalError::Stopped));
        }
        for (_, slot) in self.reads.drain() {
            slot.set(Err(ReadError::Shutdown));
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Request { request, answer } => {
                self.next_request += 1;
                let id = RequestId(self.next_request);
                let from = request.sender();
                match self.raft.step(Message::Request { from, id, request }) {
                    Ok(()) => {
                        self.answers.insert(id, answer);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "refused a request");
                        answer.refuse();
                    }
                }
            }
            Event::Response { from, sent, result } => {
                if let Err(CallError::Unsendable { reason, .. }) = &result {
                    self.unsendable += 1;
                    tracing::error!(peer = %from, %reason, "a message could not be sent");
                }
                let response = result.ok();
                if let Err(error) = self.raft.step(Message::Response { from, sent, response }) {
                    tracing::warn!(%error, "ignored an answer");
                }
            }
            Event::Propose(commands) => {
                for (data, slot) in commands {
                    match self.raft.propose(data) {
                        Ok((index, term)) => {
                            let proposal = Proposal { index, term };
                            slot.accept(proposal);
                            self.proposals.push_back((proposal, slot));
                        }
                        Err(error) => slot.resolve(Err(ProposalError::Refused(error))),
                    }
                }
            }
            Event::Snapshot { index, data, reply } => {
                let result = self.raft.snapshot(index, data).map_err(Into::into);
                let _ = reply.send(result);
            }
            Event::Read(slots) => {
                for slot in slots {
                    self.next_read += 1;
                    let id = ReadId(self.next_read);
                    self.reads.insert(id, slot);
                    self.raft.read_index(id);
                }
            }
            Event::Transfer { to, reply } => {
                let _ = reply.send(self.raft.transfer_leadership(to));
            }
        }
    }

    /// Carries out everything the core has to do, until it has nothing more
    /// (a save can let a leader commit, which gives more to apply).
    fn turn(&mut self) {
        while self.raft.has_ready() {
            if self.stop.is_stopped() {
                return;
            }
            let ready = self.raft.ready();
            if !self.carry_out(ready) {
                return;
            }
        }
        self.publish();
    }

    /// Carries out one [`Ready`]. Returns false when the node must stop.
    fn carry_out(&mut self, ready: Ready) -> bool {
        let Ready { messages, update, persisted_messages, committed, reads } = ready;
        for outcome in reads {
            if let Some(slot) = self.reads.remove(&outcome.id) {
                slot.set(outcome.result);
            }
        }
        // The leader's AppendEntries leave while it writes the same entries.
        for message in messages {
            self.send(message);
        }
        if let Some(from) = update.truncate_from {
            self.lose_proposals_from(from);
        }
        let persisted = Ready::persisted_of(&update);
        if let Err(error) = self.save(&update) {
            // Nothing that depends on the update may leave the node.
            tracing::error!(%error, "the persister failed; the node stops");
            self.stop.stop(StopReason::PersisterFailed(Arc::new(error)));
            return false;
        }
        if let Some((index, term)) = persisted {
            self.raft.on_persisted(index, term);
        }
        for message in persisted_messages {
            self.send(message);
        }
        if !committed.is_empty() {
            self.resolve_proposals(&committed);
            self.applied.extend(committed);
        }
        true
    }

    fn save(&self, update: &raft_persist::Update) -> Result<(), raft_persist::PersistError> {
        if update.is_empty() { Ok(()) } else { self.persister.save(update) }
    }

    fn send(&mut self, message: Outgoing) {
        match message {
            Outgoing::Request { to, request } => {
                let sent = Sent::of(&request);
                let events = Arc::clone(&self.events);
                self.transport.call(
                    to,
                    request,
                    Box::new(move |result| {
                        events.push(Event::Response { from: to, sent, result });
                    }),
                );
            }
            Outgoing::Response { id, response, .. } => {
                if let Some(answer) = self.answers.remove(&id) {
                    answer.respond(response);
                }
            }
        }
    }

    /// Resolves the proposals that `committed` decides: committed if the
    /// entry at their index is theirs, lost if another took it, unknown if a
    /// snapshot covered it.
    fn resolve_proposals(&mut self, committed: &[Applied]) {
        for item in committed {
            while let Some((proposal, _)) = self.proposals.front() {
                if proposal.index > item.index() {
                    break;
                }
                let (proposal, slot) = self.proposals.pop_front().expect("a front proposal");
                let outcome = match item {
                    Applied::Command { index, term, .. } if *index == proposal.index => {
                        if *term == proposal.term {
                            Ok(proposal)
                        } else {
                            Err(ProposalError::Lost { index: proposal.index })
                        }
                    }
                    _ => Err(ProposalError::Unknown { index: proposal.index }),
                };
                slot.resolve(outcome);
            }
        }
    }

    /// The log lost its entries from `from` on: proposals there never commit.
    fn lose_proposals_from(&mut self, from: Index) {
        while self.proposals.back().is_some_and(|(proposal, _)| proposal.index >= from) {
            if let Some((proposal, slot)) = self.proposals.pop_back() {
                slot.resolve(Err(ProposalError::Lost { index: proposal.index }));
            }
        }
    }

    fn publish(&self) {
        let mut status = self.raft.status();
        status.counters.unsendable = self.unsendable;
        self.published.leading.store(status.role == Role::Leader, Ordering::SeqCst);
        self.published.busy.store(self.raft.is_busy(0), Ordering::SeqCst);
        *self.published.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }
}
