//! The event loop: runs the protocol core on one thread, saving, sending and
//! applying what each batch of steps produces, in that order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, select};
use raft_persist::Persister;
use raft_transport::{Responder, Transport};

use super::event::Event;
use crate::raft::Raft;
use crate::{Applied, NodeError, Proposal, ProposeError, Request, Response, Sent, Status};

/// How many queued events one batch takes in before saving once: more means
/// fewer fsyncs under load, at the cost of a little latency.
const MAX_EVENTS_PER_BATCH: usize = 64;

/// An answer held back until the batch's effects are durable.
enum Reply {
    Response(Responder<Response>, Response),
    Propose(Sender<Result<Proposal, ProposeError>>, Result<Proposal, ProposeError>),
    Snapshot(Sender<Result<(), NodeError>>, Result<(), NodeError>),
}

impl Reply {
    fn send(self) {
        // A requester that gave up no longer listens; that is fine.
        let _ = match self {
            Reply::Response(to, response) => {
                to.respond(response);
                true
            }
            Reply::Propose(to, result) => to.send(result).is_ok(),
            Reply::Snapshot(to, result) => to.send(result).is_ok(),
        };
    }
}

/// The state the event loop owns.
pub(crate) struct Driver {
    pub(crate) raft: Raft,
    pub(crate) persister: Arc<dyn Persister>,
    pub(crate) transport: Arc<dyn Transport<Request, Response>>,
    /// A sender into the loop's own queue, for transport callbacks.
    pub(crate) events_sender: Sender<Event>,
    pub(crate) events: Receiver<Event>,
    /// Disconnects when the node shuts down.
    pub(crate) stop: Receiver<()>,
    pub(crate) stopped: Arc<AtomicBool>,
    /// The applier thread's queue.
    pub(crate) applied: Sender<Applied>,
    pub(crate) status: Arc<Mutex<Status>>,
    pub(crate) tick_interval: Duration,
}

impl Driver {
    /// Runs until shutdown or a persister failure.
    pub(crate) fn run(mut self) {
        if !self.flush(Vec::new()) {
            return;
        }
        let ticker = crossbeam_channel::tick(self.tick_interval);
        loop {
            let mut replies = Vec::new();
            select! {
                recv(self.stop) -> _ => return,
                recv(ticker) -> _ => self.raft.tick(),
                recv(self.events) -> event => match event {
                    Ok(event) => self.handle(event, &mut replies),
                    Err(_) => return,
                },
            }
            for _ in 0..MAX_EVENTS_PER_BATCH {
                match self.events.try_recv() {
                    Ok(event) => self.handle(event, &mut replies),
                    Err(_) => break,
                }
            }
            if !self.flush(replies) {
                return;
            }
        }
    }

    fn handle(&mut self, event: Event, replies: &mut Vec<Reply>) {
        match event {
            Event::Request { request, reply } => {
                let response = self.raft.handle_request(request);
                replies.push(Reply::Response(reply, response));
            }
            Event::Response { from, sent, result } => {
                // A failed call is simply lost: Raft retries on its own timers.
                if let Ok(response) = result {
                    self.raft.handle_response(from, sent, response);
                }
            }
            Event::Propose { data, reply } => {
                let result = self
                    .raft
                    .propose(data)
                    .map(|(index, term)| Proposal { index, term })
                    .ok_or(ProposeError::NotLeader { leader_hint: self.raft.leader() });
                replies.push(Reply::Propose(reply, result));
            }
            Event::Snapshot { index, data, reply } => {
                let result = self.raft.snapshot(index, data);
                replies.push(Reply::Snapshot(reply, result));
            }
        }
    }

    /// Carries out what the batch produced: save, then publish and speak,
    /// then apply. Returns false when the node must stop.
    fn flush(&mut self, replies: Vec<Reply>) -> bool {
        let ready = self.raft.take_ready();
        if self.stopped.load(Ordering::SeqCst) {
            return false;
        }
        if let Err(error) = self.save(&ready.update) {
            // Nothing that depends on the update may leave the node; it stops.
            tracing::error!(%error, "persister failed; the node stops");
            self.stopped.store(true, Ordering::SeqCst);
            return false;
        }
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = self.raft.status();
        for (to, request) in ready.messages {
            let sent = Sent::of(&request);
            let events = self.events_sender.clone();
            self.transport.call(
                to,
                request,
                Box::new(move |result| {
                    let _ = events.send(Event::Response { from: to, sent, result });
                }),
            );
        }
        for reply in replies {
            reply.send();
        }
        for item in ready.applied {
            if self.applied.send(item).is_err() {
                break;
            }
        }
        true
    }

    fn save(&self, update: &raft_persist::Update) -> Result<(), raft_persist::PersistError> {
        if update.is_empty() { Ok(()) } else { self.persister.save(update) }
    }
}
