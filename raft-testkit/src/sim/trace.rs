//! [`Recorder`] and [`TraceEvent`]: what a run did, step by step, as a
//! digest (always) and as readable lines (on request).

use std::fmt;

use raft_core::{
    Index, NodeId, ProposeError, ReadError, Request, Response, Role, Term, TransferError,
};
use raft_persist::Update;

use crate::sim::Violation;
use crate::sim::time::VirtualTime;

/// One thing that happened in a run.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TraceEvent<'a> {
    /// A node's clock ticked `count` times (more than once after a stall).
    Tick {
        node: usize,
        count: u32,
    },
    /// A message left `from`: its copies arrive after `delays` (none: lost);
    /// `cut` when the link was down.
    Send {
        from: usize,
        to: usize,
        call: u64,
        wire: Wire<'a>,
        delays: &'a [u64],
        cut: bool,
    },
    /// A copy of a message reached its node.
    Arrive {
        from: usize,
        to: usize,
        call: u64,
        wire: Wire<'a>,
    },
    /// A copy of a message arrived where it could not be taken in.
    LostOnArrival {
        from: usize,
        to: usize,
        call: u64,
        why: &'static str,
    },
    /// A call's deadline passed without an answer; its requester is told.
    CallFailed {
        requester: usize,
        peer: usize,
        call: u64,
    },
    /// A save was asked for; it completes at `done_at`.
    SaveQueued {
        node: usize,
        update: &'a Update,
        done_at: u64,
    },
    /// A save completed.
    SaveDone {
        node: usize,
        update: &'a Update,
    },
    /// A service applied a command.
    Apply {
        node: usize,
        index: Index,
        term: Term,
    },
    /// A service installed a snapshot.
    InstallSnapshot {
        node: usize,
        index: Index,
    },
    /// A service took a snapshot.
    SnapshotTaken {
        node: usize,
        index: Index,
    },
    /// The client's proposal was appended.
    Proposed {
        node: usize,
        index: Index,
        term: Term,
        bytes: usize,
    },
    /// The client's proposal was refused.
    ProposeRefused {
        node: usize,
        error: &'a ProposeError,
    },
    /// A proposal committed and applied where it was proposed: the client is
    /// told it is durable.
    Acknowledged {
        node: usize,
        index: Index,
    },
    /// The client asked `node` for a read index; the index must reach
    /// `floor` (the highest acknowledged write, or command a served read saw).
    ReadAsked {
        node: usize,
        read: u64,
        floor: Index,
    },
    /// `node` answered a read: its index, or why there is none.
    ReadAnswered {
        node: usize,
        read: u64,
        result: &'a Result<Index, ReadError>,
    },
    /// `node`'s service, applied through `applied`, served a read of index
    /// `index`.
    ReadServed {
        node: usize,
        read: u64,
        index: Index,
        applied: Index,
    },
    /// The leader `from` was asked to hand its lead to `to`.
    TransferAsked {
        from: usize,
        to: usize,
        refused: Option<&'a TransferError>,
    },
    /// A node's role, term, leader or commit index changed.
    StateChange {
        node: usize,
        role: Role,
        term: Term,
        leader: Option<NodeId>,
        commit: Index,
    },
    /// The links changed.
    Partition {
        layout: &'a str,
    },
    Heal,
    Crash {
        node: usize,
        lost_saves: usize,
    },
    Restart {
        node: usize,
        incarnation: u32,
    },
    ClockStall {
        node: usize,
        micros: u64,
    },
    /// The fault phase ended: links healed, every node up, no loss.
    FaultsEnd,
    /// The healed cluster converged, `micros` after the faults stopped.
    Converged {
        micros: u64,
    },
    Violated(&'a Violation),
}

/// A message on the wire.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wire<'a> {
    Request(&'a Request),
    Answer(&'a Response),
}

/// Keeps the digest of a run's events and, when asked, their lines.
#[derive(Debug)]
pub(crate) struct Recorder {
    digest: u64,
    lines: Option<Vec<String>>,
}

impl Recorder {
    pub(crate) fn new(keep_lines: bool) -> Recorder {
        Recorder { digest: 0x243f_6a88_85a3_08d3, lines: keep_lines.then(Vec::new) }
    }

    /// Records `event`, which happened at `now`.
    pub(crate) fn record(&mut self, now: u64, event: TraceEvent<'_>) {
        self.feed(now);
        event.feed(self);
        if let Some(lines) = &mut self.lines {
            lines.push(format!("{:>12} {event}", VirtualTime::from_micros(now).to_string()));
        }
    }

    /// Adds a line of explanation to the trace (when lines are kept), outside
    /// the digest: what the seed drew, for one.
    pub(crate) fn note(&mut self, line: String) {
        if let Some(lines) = &mut self.lines {
            lines.push(line);
        }
    }

    pub(crate) fn digest(&self) -> u64 {
        self.digest
    }

    pub(crate) fn take_lines(&mut self) -> Vec<String> {
        self.lines.take().unwrap_or_default()
    }

    fn feed(&mut self, word: u64) {
        self.digest = (self.digest.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn feed_all(&mut self, words: &[u64]) {
        for &word in words {
            self.feed(word);
        }
    }
}

impl TraceEvent<'_> {
    fn feed(&self, recorder: &mut Recorder) {
        match *self {
            TraceEvent::Tick { node, count } => recorder.feed_all(&[1, node as u64, count.into()]),
            TraceEvent::Send { from, to, call, wire, delays, cut } => {
                recorder.feed_all(&[2, from as u64, to as u64, call, cut.into()]);
                recorder.feed_all(delays);
                wire.feed(recorder);
            }
            TraceEvent::Arrive { from, to, call, wire } => {
                recorder.feed_all(&[3, from as u64, to as u64, call]);
                wire.feed(recorder);
            }
            TraceEvent::LostOnArrival { from, to, call, why } => {
                recorder.feed_all(&[4, from as u64, to as u64, call, why.len() as u64])
            }
            TraceEvent::CallFailed { requester, peer, call } => {
                recorder.feed_all(&[5, requester as u64, peer as u64, call])
            }
            TraceEvent::SaveQueued { node, update, done_at } => {
                recorder.feed_all(&[6, node as u64, done_at]);
                feed_update(recorder, update);
            }
            TraceEvent::SaveDone { node, update } => {
                recorder.feed_all(&[7, node as u64]);
                feed_update(recorder, update);
            }
            TraceEvent::Apply { node, index, term } => {
                recorder.feed_all(&[8, node as u64, index.0, term.0])
            }
            TraceEvent::InstallSnapshot { node, index } => {
                recorder.feed_all(&[9, node as u64, index.0])
            }
            TraceEvent::SnapshotTaken { node, index } => {
                recorder.feed_all(&[10, node as u64, index.0])
            }
            TraceEvent::Proposed { node, index, term, bytes } => {
                recorder.feed_all(&[11, node as u64, index.0, term.0, bytes as u64])
            }
            TraceEvent::ProposeRefused { node, error } => {
                let code = match error {
                    ProposeError::NotLeader { .. } => 1,
                    ProposeError::Busy => 2,
                    ProposeError::TooLarge { .. } => 3,
                    _ => 4,
                };
                recorder.feed_all(&[12, node as u64, code])
            }
            TraceEvent::Acknowledged { node, index } => {
                recorder.feed_all(&[13, node as u64, index.0])
            }
            TraceEvent::StateChange { node, role, term, leader, commit } => {
                let role = match role {
                    Role::Follower => 0,
                    Role::Candidate => 1,
                    Role::Leader => 2,
                    Role::PreCandidate => 3,
                };
                let leader = leader.map_or(u64::MAX, |leader| leader.0);
                recorder.feed_all(&[14, node as u64, role, term.0, leader, commit.0])
            }
            TraceEvent::Partition { layout } => {
                recorder.feed(15);
                for byte in layout.bytes() {
                    recorder.feed(byte.into());
                }
            }
            TraceEvent::Heal => recorder.feed(16),
            TraceEvent::Crash { node, lost_saves } => {
                recorder.feed_all(&[17, node as u64, lost_saves as u64])
            }
            TraceEvent::Restart { node, incarnation } => {
                recorder.feed_all(&[18, node as u64, incarnation.into()])
            }
            TraceEvent::ClockStall { node, micros } => {
                recorder.feed_all(&[19, node as u64, micros])
            }
            TraceEvent::FaultsEnd => recorder.feed(20),
            TraceEvent::Converged { micros } => recorder.feed_all(&[21, micros]),
            TraceEvent::ReadAsked { node, read, floor } => {
                recorder.feed_all(&[23, node as u64, read, floor.0])
            }
            TraceEvent::ReadAnswered { node, read, result } => {
                let code = match result {
                    Ok(index) => index.0,
                    Err(ReadError::NotLeader { .. }) => u64::MAX,
                    Err(ReadError::LeadershipLost) => u64::MAX - 1,
                    Err(_) => u64::MAX - 2,
                };
                recorder.feed_all(&[24, node as u64, read, code])
            }
            TraceEvent::ReadServed { node, read, index, applied } => {
                recorder.feed_all(&[25, node as u64, read, index.0, applied.0])
            }
            TraceEvent::TransferAsked { from, to, refused } => {
                recorder.feed_all(&[26, from as u64, to as u64, refused.is_some().into()])
            }
            TraceEvent::Violated(violation) => {
                recorder.feed(22);
                for byte in violation.property().bytes() {
                    recorder.feed(byte.into());
                }
            }
        }
    }
}

impl Wire<'_> {
    fn feed(&self, recorder: &mut Recorder) {
        match *self {
            Wire::Request(Request::Vote(request)) => recorder.feed_all(&[
                31,
                request.term.0,
                request.candidate.0,
                request.last_log_index.0,
                request.last_log_term.0,
            ]),
            Wire::Request(Request::Append(request)) => recorder.feed_all(&[
                32,
                request.term.0,
                request.prev_log_index.0,
                request.prev_log_term.0,
                request.entries.len() as u64,
                request.entries.last().map_or(0, |entry| entry.term.0),
                request.leader_commit.0,
            ]),
            Wire::Request(Request::Snapshot(request)) => recorder.feed_all(&[
                33,
                request.term.0,
                request.last_included_index.0,
                request.last_included_term.0,
                request.data.len() as u64,
            ]),
            Wire::Answer(Response::Vote(response)) => {
                recorder.feed_all(&[34, response.term.0, response.granted.into()])
            }
            Wire::Answer(Response::Append(response)) => recorder.feed_all(&[
                35,
                response.term.0,
                response.success.into(),
                response.match_index.0,
                response.conflict_term.map_or(u64::MAX, |term| term.0),
                response.conflict_index.0,
            ]),
            Wire::Answer(Response::Snapshot(response)) => recorder.feed_all(&[36, response.term.0]),
            Wire::Request(Request::PreVote(request)) => recorder.feed_all(&[
                37,
                request.term.0,
                request.candidate.0,
                request.last_log_index.0,
                request.last_log_term.0,
            ]),
            Wire::Request(Request::TimeoutNow(request)) => {
                recorder.feed_all(&[38, request.term.0, request.leader.0])
            }
            Wire::Request(Request::ReadIndex(request)) => {
                recorder.feed_all(&[39, request.term.0, request.batch])
            }
            Wire::Answer(Response::PreVote(response)) => {
                recorder.feed_all(&[40, response.term.0, response.granted.into()])
            }
            Wire::Answer(Response::TimeoutNow(response)) => {
                recorder.feed_all(&[41, response.term.0])
            }
            Wire::Answer(Response::ReadIndex(response)) => recorder.feed_all(&[
                42,
                response.term.0,
                response.index.map_or(u64::MAX, |index| index.0),
            ]),
        }
    }
}

fn feed_update(recorder: &mut Recorder, update: &Update) {
    recorder.feed_all(&[
        update.hard_state.map_or(u64::MAX, |hard_state| hard_state.term.0),
        update
            .hard_state
            .and_then(|hard_state| hard_state.voted_for)
            .map_or(u64::MAX, |node| node.0),
        update.snapshot.as_ref().map_or(u64::MAX, |snapshot| snapshot.index.0),
        update.truncate_from.map_or(u64::MAX, |index| index.0),
        update.append.len() as u64,
        update.append.last().map_or(0, |entry| entry.index.0),
    ]);
}

impl fmt::Display for TraceEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TraceEvent::Tick { node, count: 1 } => write!(f, "n{node} tick"),
            TraceEvent::Tick { node, count } => write!(f, "n{node} tick x{count} (clock burst)"),
            TraceEvent::Send { from, to, call, wire, delays, cut } => {
                write!(f, "n{from} -> n{to} #{call} {wire}")?;
                if cut {
                    write!(f, ": link down, lost")
                } else if delays.is_empty() {
                    write!(f, ": lost")
                } else {
                    let delays: Vec<String> = delays
                        .iter()
                        .map(|delay| format!("{:.3}ms", *delay as f64 / 1e3))
                        .collect();
                    write!(f, ": arrives in {}", delays.join(", "))
                }
            }
            TraceEvent::Arrive { from, to, call, wire } => {
                write!(f, "n{from} -> n{to} #{call} delivered {wire}")
            }
            TraceEvent::LostOnArrival { from, to, call, why } => {
                write!(f, "n{from} -> n{to} #{call} lost on arrival: {why}")
            }
            TraceEvent::CallFailed { requester, peer, call } => {
                write!(f, "n{requester} #{call} to n{peer} failed: no answer by the deadline")
            }
            TraceEvent::SaveQueued { node, update, done_at } => write!(
                f,
                "n{node} save {} queued, durable at {}",
                UpdateView(update),
                VirtualTime::from_micros(done_at)
            ),
            TraceEvent::SaveDone { node, update } => {
                write!(f, "n{node} save {} durable", UpdateView(update))
            }
            TraceEvent::Apply { node, index, term } => {
                write!(f, "n{node} applies ({index}, {term})")
            }
            TraceEvent::InstallSnapshot { node, index } => {
                write!(f, "n{node} service installs the snapshot through {index}")
            }
            TraceEvent::SnapshotTaken { node, index } => {
                write!(f, "n{node} service snapshots through {index}")
            }
            TraceEvent::Proposed { node, index, term, bytes } => {
                write!(f, "client -> n{node} proposes {bytes} bytes: appended at ({index}, {term})")
            }
            TraceEvent::ProposeRefused { node, error } => {
                write!(f, "client -> n{node} proposal refused: {error}")
            }
            TraceEvent::Acknowledged { node, index } => {
                write!(f, "client <- n{node} index {index} committed (acknowledged)")
            }
            TraceEvent::ReadAsked { node, read, floor } => {
                write!(f, "client -> n{node} read r{read} (its index must reach {floor})")
            }
            TraceEvent::ReadAnswered { node, read, result: Ok(index) } => {
                write!(f, "client <- n{node} read r{read}: read index {index}")
            }
            TraceEvent::ReadAnswered { node, read, result: Err(error) } => {
                write!(f, "client <- n{node} read r{read} refused: {error}")
            }
            TraceEvent::ReadServed { node, read, index, applied } => write!(
                f,
                "client <- n{node} read r{read} served: the state applied through {applied} (read index {index})"
            ),
            TraceEvent::TransferAsked { from, to, refused: None } => {
                write!(f, "fault: leader n{from} asked to hand its lead to n{to}")
            }
            TraceEvent::TransferAsked { from, to, refused: Some(error) } => {
                write!(f, "fault: leader n{from} asked to hand its lead to n{to}, refused: {error}")
            }
            TraceEvent::StateChange { node, role, term, leader, commit } => {
                let leader = leader.map_or("none".to_owned(), |leader| format!("n{leader}"));
                write!(f, "n{node} is {role:?} of term {term} (leader {leader}, commit {commit})")
            }
            TraceEvent::Partition { layout } => write!(f, "fault: partition {layout}"),
            TraceEvent::Heal => write!(f, "fault: every link restored"),
            TraceEvent::Crash { node, lost_saves } => {
                write!(f, "fault: n{node} crashes, losing {lost_saves} saves in progress")
            }
            TraceEvent::Restart { node, incarnation } => {
                write!(f, "fault: n{node} restarts from its disk (incarnation {incarnation})")
            }
            TraceEvent::ClockStall { node, micros } => {
                write!(f, "fault: n{node}'s ticks stall for {:.3}ms", micros as f64 / 1e3)
            }
            TraceEvent::FaultsEnd => {
                write!(f, "faults stop: links healed, every node up, no loss from here on")
            }
            TraceEvent::Converged { micros } => write!(
                f,
                "converged {:.3}s after the faults stopped: one leader, every node caught up",
                micros as f64 / 1e6
            ),
            TraceEvent::Violated(violation) => write!(f, "VIOLATION {violation}"),
        }
    }
}

impl fmt::Display for Wire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Wire::Request(Request::Vote(request)) => write!(
                f,
                "RequestVote(term {}, last ({}, {}))",
                request.term, request.last_log_index, request.last_log_term
            ),
            Wire::Request(Request::Append(request)) => {
                write!(
                    f,
                    "AppendEntries(term {}, prev ({}, {}), ",
                    request.term, request.prev_log_index, request.prev_log_term
                )?;
                match (request.entries.first(), request.entries.last()) {
                    (Some(first), Some(last)) => write!(
                        f,
                        "entries {}..={} terms {}..={}",
                        first.index, last.index, first.term, last.term
                    )?,
                    _ => write!(f, "no entries")?,
                }
                write!(f, ", commit {})", request.leader_commit)
            }
            Wire::Request(Request::Snapshot(request)) => write!(
                f,
                "InstallSnapshot(term {}, through ({}, {}), {} bytes)",
                request.term,
                request.last_included_index,
                request.last_included_term,
                request.data.len()
            ),
            Wire::Answer(Response::Vote(response)) => write!(
                f,
                "vote answer(term {}, {})",
                response.term,
                if response.granted { "granted" } else { "refused" }
            ),
            Wire::Answer(Response::Append(response)) if response.success => write!(
                f,
                "append answer(term {}, success, match {})",
                response.term, response.match_index
            ),
            Wire::Answer(Response::Append(response)) => write!(
                f,
                "append answer(term {}, rejected, conflict term {:?} index {})",
                response.term,
                response.conflict_term.map(|term| term.0),
                response.conflict_index
            ),
            Wire::Answer(Response::Snapshot(response)) => {
                write!(f, "snapshot answer(term {})", response.term)
            }
            Wire::Request(Request::PreVote(request)) => write!(
                f,
                "PreVote(term {}, last ({}, {}))",
                request.term, request.last_log_index, request.last_log_term
            ),
            Wire::Request(Request::TimeoutNow(request)) => {
                write!(f, "TimeoutNow(term {})", request.term)
            }
            Wire::Request(Request::ReadIndex(request)) => {
                write!(f, "ReadIndex(term {}, batch {})", request.term, request.batch)
            }
            Wire::Answer(Response::PreVote(response)) => write!(
                f,
                "pre-vote answer(term {}, {})",
                response.term,
                if response.granted { "granted" } else { "refused" }
            ),
            Wire::Answer(Response::TimeoutNow(response)) => {
                write!(f, "timeout-now answer(term {})", response.term)
            }
            Wire::Answer(Response::ReadIndex(response)) => {
                write!(f, "read-index answer(term {}, index {:?})", response.term, response.index)
            }
        }
    }
}

/// An update, briefly.
struct UpdateView<'a>(&'a Update);

impl fmt::Display for UpdateView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let update = self.0;
        let mut parts = Vec::new();
        if let Some(hard_state) = update.hard_state {
            let vote = hard_state.voted_for.map_or("none".to_owned(), |node| format!("n{node}"));
            parts.push(format!("term {} vote {vote}", hard_state.term));
        }
        if let Some(snapshot) = &update.snapshot {
            parts.push(format!("snapshot through ({}, {})", snapshot.index, snapshot.term));
        }
        if let Some(from) = update.truncate_from {
            parts.push(format!("truncate from {from}"));
        }
        if let (Some(first), Some(last)) = (update.append.first(), update.append.last()) {
            parts.push(format!("append {}..={}", first.index, last.index));
        }
        if parts.is_empty() {
            parts.push("nothing".to_owned());
        }
        write!(f, "[{}]", parts.join(", "))
    }
}
