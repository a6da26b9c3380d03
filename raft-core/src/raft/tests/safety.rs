//! A randomised safety check of the core, driven as a real driver drives it:
//! through `tick`, `step`, `propose`, `snapshot`, `ready` and `on_persisted`
//! only. Five nodes run seeded schedules of ticks, proposals, service
//! snapshots, partitions, crashes and restarts; the network loses, delays,
//! duplicates and reorders requests and answers independently (and holds
//! InstallSnapshot back for longer than an election timeout); each disk
//! completes its saves, in order, steps after they were asked for. After every
//! step it checks Raft's safety properties across all nodes (§5.2, §5.3,
//! §5.4); after the faults it heals everything and checks that the cluster
//! converges within a bound.
//!
//! Some steps are clients' reads through ReadIndex on any node, and some
//! leadership transfers; each schedule draws PreVote, CheckQuorum and the
//! leader's no-op on or off. Every read's index must cover every write
//! acknowledged (applied by any service) before the read began, and the state
//! read must hold only commands proposed before it was served: the reads are
//! linearizable.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use quickcheck::{QuickCheck, TestResult};
use raft_log::{Index, NodeId, Term};
use raft_persist::{MemPersister, Persister, Update};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::new_test_config;
use crate::raft::Raft;
use crate::{
    Applied, Config, Message, Outgoing, ReadId, ReadOutcome, Ready, Request, RequestId, Response,
    Role, Sent,
};

/// Nodes in the cluster.
const SIZE: usize = 5;
/// Schedules run. With [`STEPS`], sized for the test's CI budget of about 20 s
/// in the test profile: 400 × 5,000 take about 8 s of one core here.
const SEEDS: u64 = 400;
/// Steps of faults in each schedule, before the healing.
const STEPS: usize = 5_000;
/// How long the healed cluster has to converge, in election timeouts
/// (`election_ticks_max` ticks each): 50 × 60 = 3,000 ticks. The worst seen
/// over 6,000 schedules was 76 ticks.
const HEALING_ELECTION_TIMEOUTS: u64 = 50;
/// Readies a driver takes in one go before it decides `has_ready` never
/// clears.
const MAX_TURNS: usize = 1_000;

/// One call, a request and its outcome, as the requester's transport tracks
/// it. The wire may lose, duplicate and reorder the request and the answer;
/// the requester is handed every answer that arrives, and a failure only if
/// none has, at most once.
struct Call {
    requester: usize,
    /// The requester's incarnation: the outcomes of a crashed incarnation's
    /// calls go nowhere.
    incarnation: u32,
    peer: usize,
    sent: Sent,
    outcome: Outcome,
    /// Whether a failure is on its way to the requester.
    failing: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Pending,
    Answered,
    Failed,
}

/// What the network carries. The number names the call.
#[derive(Clone, Debug)]
enum Packet {
    Request {
        call: u64,
        request: Request,
    },
    Answer {
        call: u64,
        response: Response,
    },
    /// The requester's transport gives up on the call.
    Failure {
        call: u64,
    },
}

#[derive(Debug)]
struct InFlight {
    packet: Packet,
    /// The world's tick when it was put on the wire.
    posted_at: u64,
    /// The world's tick before which the packet cannot arrive.
    held_until: u64,
}

/// A Ready's part that waits for its save: the update, then what may happen
/// only once the update is durable, in that order.
struct Write {
    update: Update,
    persisted_messages: Vec<Outgoing>,
    committed: Vec<Applied>,
}

/// One node: its core, its disk and the service above it.
struct Member {
    raft: Raft,
    persister: MemPersister,
    /// Saves under way, oldest first; they complete in order, and a crash
    /// loses them.
    disk: VecDeque<Write>,
    /// The service's state machine: the commands applied, index 1 first.
    service: Vec<Vec<u8>>,
    up: bool,
    incarnation: u32,
    /// The highest commit index this incarnation has shown.
    commit_index: Index,
}

/// How the network and the disks behave.
#[derive(Clone, Copy, Debug)]
struct Weather {
    loss: f64,
    duplication: f64,
    /// The chance that a delivery takes any packet that may arrive, not the
    /// oldest.
    ///
    /// Under heavy reordering a leader's pipeline of small batches can
    /// starve: each batch that overtakes another is rejected and sends the
    /// follower back to probe, and each late success of an old batch while
    /// probing restarts the whole window, so the wire fills faster than it
    /// drains. The core counts on what the real transports give, one caller's
    /// requests in order, to stream efficiently. The faults let it happen;
    /// the healed network delivers in the order sent.
    reordering: f64,
    /// The chance that a packet is held back a few ticks.
    delay: f64,
    /// The chance that an InstallSnapshot is held back longer than an
    /// election timeout.
    snapshot_delay: f64,
    /// Whether every save completes as soon as it is asked for.
    prompt_disk: bool,
}

impl Weather {
    const HEALED: Weather = Weather {
        loss: 0.0,
        duplication: 0.0,
        reordering: 0.0,
        delay: 0.0,
        snapshot_delay: 0.0,
        prompt_disk: true,
    };
}

/// An entry known committed.
#[derive(Clone, Copy, Debug)]
struct Committed {
    term: Term,
    /// The earliest term in which a node showed it committed: every leader of
    /// a later term must hold it (Raft §5.4, Leader Completeness).
    known_in: Term,
}

/// What the schedules made happen, summed over all of them, so the test can
/// show it exercised what it claims to.
#[derive(Clone, Copy, Debug)]
struct Coverage {
    /// Commands the services applied, summed over the nodes.
    commands_applied: u64,
    /// InstallSnapshot requests that reached a follower.
    snapshots_delivered: u64,
    /// InstallSnapshot requests that arrived more than an election timeout
    /// late.
    late_snapshots: u64,
    /// Answers to a request sent in an earlier term than the requester's.
    stale_answers: u64,
    /// Second answers to one call, from a duplicated request or answer.
    duplicate_answers: u64,
    failures: u64,
    /// Saves a crash lost.
    lost_writes: u64,
    /// The most ticks a healed cluster took to converge.
    worst_healing_ticks: u64,
    /// Reads that got a read index and were served from a state applied
    /// through it.
    reads_served: u64,
    /// Of those, reads asked on a follower (forwarded to the leader).
    follower_reads_served: u64,
    /// Leadership transfers that ended with the target leading.
    transfers_completed: u64,
}

impl Coverage {
    const NOTHING: Coverage = Coverage {
        commands_applied: 0,
        snapshots_delivered: 0,
        late_snapshots: 0,
        stale_answers: 0,
        duplicate_answers: 0,
        failures: 0,
        lost_writes: 0,
        worst_healing_ticks: 0,
        reads_served: 0,
        follower_reads_served: 0,
        transfers_completed: 0,
    };

    fn add(&mut self, other: &Coverage) {
        self.commands_applied += other.commands_applied;
        self.snapshots_delivered += other.snapshots_delivered;
        self.late_snapshots += other.late_snapshots;
        self.stale_answers += other.stale_answers;
        self.duplicate_answers += other.duplicate_answers;
        self.failures += other.failures;
        self.lost_writes += other.lost_writes;
        self.worst_healing_ticks = self.worst_healing_ticks.max(other.worst_healing_ticks);
        self.reads_served += other.reads_served;
        self.follower_reads_served += other.follower_reads_served;
        self.transfers_completed += other.transfers_completed;
    }
}

struct World {
    rng: SmallRng,
    config: Config,
    members: Vec<Member>,
    /// Packets on the wire, oldest first.
    pool: VecDeque<InFlight>,
    calls: HashMap<u64, Call>,
    next_call: u64,
    /// Which side of a partition each node is on.
    side: Vec<u8>,
    /// Ticks of the world's clock.
    now: u64,
    storm: Weather,
    weather: Weather,
    /// Every leader seen, by term (Election Safety).
    leaders: BTreeMap<Term, usize>,
    /// Every entry any node showed committed, by index.
    committed: BTreeMap<Index, Committed>,
    /// Every command any service applied, by index (State Machine Safety).
    applied: BTreeMap<Index, Vec<u8>>,
    next_command: u32,
    /// The highest index any service has applied: every write up to it has
    /// been acknowledged to a client (or could have been).
    acknowledged: u64,
    /// Reads waiting for their index, by node and name: the acknowledged
    /// index when each began, and whether it began on a follower.
    reads: HashMap<(usize, ReadId), (u64, bool)>,
    /// Reads with an index, waiting for their node's service to apply
    /// through it: node, index, asked on a follower.
    to_serve: Vec<(usize, Index, bool)>,
    next_read: u64,
    /// A leadership transfer asked for: the target and the term it began in.
    transfer: Option<(usize, Term)>,
    coverage: Coverage,
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = SmallRng::seed_from_u64(seed);
        // Small batches and windows on some schedules, to exercise the
        // pipeline's bounds; the commands take 4 + 24 bytes each.
        let mut config = new_test_config(0, SIZE as u64);
        config.max_bytes_per_append = [64, 256, config.max_bytes_per_append][rng.gen_range(0..3)];
        config.max_inflight_appends = [1, 4, config.max_inflight_appends][rng.gen_range(0..3)];
        // Lease reads stay off: they assume clocks that run alike, and these
        // schedules let one node's clock run ahead.
        config.pre_vote = rng.gen_bool(0.5);
        config.check_quorum = rng.gen_bool(0.5);
        config.noop_on_election = rng.gen_bool(0.5);
        let members = (0..SIZE)
            .map(|id| {
                let persister = MemPersister::new();
                let config = node_config(&config, id, &mut rng);
                let raft = Raft::new(config, persister.load().unwrap()).unwrap();
                Member {
                    raft,
                    persister,
                    disk: VecDeque::new(),
                    service: Vec::new(),
                    up: true,
                    incarnation: 0,
                    commit_index: Index(0),
                }
            })
            .collect();
        let storm = Weather {
            loss: [0.05, 0.15, 0.3][rng.gen_range(0..3)],
            duplication: [0.02, 0.1, 0.25][rng.gen_range(0..3)],
            reordering: [0.05, 0.3, 1.0][rng.gen_range(0..3)],
            delay: 0.1,
            snapshot_delay: 0.5,
            prompt_disk: false,
        };
        World {
            rng,
            config,
            members,
            pool: VecDeque::new(),
            calls: HashMap::new(),
            next_call: 0,
            side: vec![0; SIZE],
            now: 0,
            storm,
            weather: storm,
            leaders: BTreeMap::new(),
            committed: BTreeMap::new(),
            applied: BTreeMap::new(),
            next_command: 0,
            acknowledged: 0,
            reads: HashMap::new(),
            to_serve: Vec::new(),
            next_read: 0,
            transfer: None,
            coverage: Coverage::NOTHING,
        }
    }

    /// One step of the fault schedule, then the checks.
    fn step(&mut self) -> Result<(), String> {
        match self.rng.gen_range(0..100) {
            0..=29 => self.tick_all(),
            30..=32 => {
                // Clocks drift: one node's tick alone.
                let id = self.rng.gen_range(0..SIZE);
                if self.members[id].up {
                    self.members[id].raft.tick();
                }
            }
            33..=38 => {
                let id = self.rng.gen_range(0..SIZE);
                self.propose(id, 1);
            }
            39..=41 => {
                if let Some(leader) = self.leader() {
                    let count = self.rng.gen_range(2..=20);
                    self.propose(leader, count);
                }
            }
            42..=69 => {
                for _ in 0..4 {
                    self.deliver_any()?;
                }
            }
            70..=71 => self.read(),
            72..=84 => {
                let id = self.rng.gen_range(0..SIZE);
                let pending = self.members[id].disk.len();
                if self.members[id].up && pending > 0 {
                    for _ in 0..self.rng.gen_range(1..=pending) {
                        self.complete_write(id)?;
                    }
                }
            }
            85 => {
                for side in &mut self.side {
                    *side = self.rng.gen_range(0..2);
                }
            }
            86 => {
                // The leader and at most one other node are cut off from the
                // rest: what it takes in now cannot commit.
                if let Some(leader) = self.leader() {
                    self.side.fill(0);
                    self.side[leader] = 1;
                    self.side[self.rng.gen_range(0..SIZE)] = 1;
                }
            }
            87 => self.side.fill(0),
            88 => {
                let id = self.crash_victim();
                self.crash(id);
            }
            89..=91 => {
                let down: Vec<usize> = (0..SIZE).filter(|&id| !self.members[id].up).collect();
                if !down.is_empty() {
                    let id = down[self.rng.gen_range(0..down.len())];
                    self.restart(id)?;
                }
            }
            92..=94 => {
                let id = self.rng.gen_range(0..SIZE);
                self.snapshot(id)?;
            }
            95 => self.time_out_any(),
            98 => self.read(),
            99 => self.transfer_leadership(),
            96..=97 => {
                let calm = Weather {
                    loss: 0.0,
                    duplication: 0.0,
                    reordering: 0.0,
                    delay: 0.0,
                    ..self.storm
                };
                self.weather = if self.rng.gen_bool(0.5) { calm } else { self.storm };
            }
            _ => self.deliver_any()?,
        }
        for id in 0..SIZE {
            self.carry_out(id)?;
        }
        self.serve_reads()?;
        self.check()
    }

    /// A client reads through the leader, through a node that believes it
    /// leads (perhaps deposed, in a minority), or through any node (a node
    /// that is down never answers).
    fn read(&mut self) {
        let claimants: Vec<usize> = (0..SIZE)
            .filter(|&id| self.members[id].up && self.members[id].raft.role() == Role::Leader)
            .collect();
        let id = match (self.rng.gen_range(0..3), self.leader()) {
            (0, Some(leader)) => leader,
            (1, _) if !claimants.is_empty() => claimants[self.rng.gen_range(0..claimants.len())],
            _ => self.rng.gen_range(0..SIZE),
        };
        if !self.members[id].up {
            return;
        }
        self.next_read += 1;
        let read = ReadId(self.next_read);
        let on_follower = self.members[id].raft.role() != Role::Leader;
        self.reads.insert((id, read), (self.acknowledged, on_follower));
        self.members[id].raft.read_index(read);
    }

    /// Node `id`'s core answered a read: its index must cover every write
    /// acknowledged before the read began.
    fn read_answered(&mut self, id: usize, outcome: ReadOutcome) -> Result<(), String> {
        let Some((floor, on_follower)) = self.reads.remove(&(id, outcome.id)) else {
            return Err(format!(
                "node {id} answered read {:?}, which it was never asked",
                outcome.id
            ));
        };
        let Ok(index) = outcome.result else { return Ok(()) };
        if index.0 < floor {
            return Err(format!(
                "linearizable reads: node {id} gave read index {index} to a read that began after index {floor} was acknowledged"
            ));
        }
        self.to_serve.push((id, index, on_follower));
        Ok(())
    }

    /// Serves the reads whose node has applied through their index: the
    /// state read is the service's first `index` commands, each proposed
    /// before now.
    fn serve_reads(&mut self) -> Result<(), String> {
        let mut waiting = Vec::new();
        for (id, index, on_follower) in std::mem::take(&mut self.to_serve) {
            let service = &self.members[id].service;
            if !self.members[id].up {
                continue; // The client hears nothing.
            }
            if (service.len() as u64) < index.0 {
                waiting.push((id, index, on_follower));
                continue;
            }
            let newest = service[..index.0 as usize]
                .iter()
                .filter_map(|command| <[u8; 4]>::try_from(&command[..]).ok())
                .map(u32::from_be_bytes)
                .max()
                .unwrap_or(0);
            if newest > self.next_command {
                return Err(format!(
                    "linearizable reads: node {id} served a state holding command {newest}, never proposed"
                ));
            }
            self.coverage.reads_served += 1;
            self.coverage.follower_reads_served += u64::from(on_follower);
        }
        self.to_serve = waiting;
        Ok(())
    }

    /// The leader, if any, is asked to hand its lead to another node.
    fn transfer_leadership(&mut self) {
        let Some(leader) = self.leader() else { return };
        let target = (leader + self.rng.gen_range(1..SIZE)) % SIZE;
        let term = self.members[leader].raft.term();
        if self.members[leader].raft.transfer_leadership(NodeId(target as u64)).is_ok() {
            self.transfer = Some((target, term));
        }
    }

    fn tick_all(&mut self) {
        self.now += 1;
        for member in self.members.iter_mut().filter(|member| member.up) {
            member.raft.tick();
        }
    }

    /// The service asks node `id` to replicate `count` new commands; only a
    /// leader takes them.
    fn propose(&mut self, id: usize, count: usize) {
        if !self.members[id].up {
            return;
        }
        for _ in 0..count {
            self.next_command += 1;
            let command = self.next_command.to_be_bytes().to_vec();
            let _ = self.members[id].raft.propose(command);
        }
    }

    /// The service above node `id` snapshots everything it has applied.
    fn snapshot(&mut self, id: usize) -> Result<(), String> {
        let member = &mut self.members[id];
        if !member.up || member.service.is_empty() {
            return Ok(());
        }
        let index = Index(member.service.len() as u64);
        let data = postcard::to_allocvec(&member.service).map_err(|error| error.to_string())?;
        member.raft.snapshot(index, data).map_err(|error| {
            format!("the core refused node {id}'s snapshot through applied index {index}: {error}")
        })
    }

    /// Carries out everything node `id`'s core has to do: each Ready's
    /// messages leave at once, the rest waits for the disk (at once too, when
    /// the disk is prompt).
    fn carry_out(&mut self, id: usize) -> Result<(), String> {
        for _ in 0..MAX_TURNS {
            if !self.members[id].up {
                return Ok(());
            }
            if self.members[id].raft.has_ready() {
                let Ready { messages, update, persisted_messages, committed, reads } =
                    self.members[id].raft.ready();
                for message in messages {
                    self.post(id, message)?;
                }
                for outcome in reads {
                    self.read_answered(id, outcome)?;
                }
                self.members[id].disk.push_back(Write { update, persisted_messages, committed });
            } else if self.weather.prompt_disk && !self.members[id].disk.is_empty() {
                self.complete_write(id)?;
            } else {
                return Ok(());
            }
        }
        Err(format!("node {id} still has a Ready after {MAX_TURNS} turns"))
    }

    /// Carries out node `id`'s work now, or, as a driver that takes in a
    /// batch of events per turn does, at the end of the step.
    fn maybe_carry_out(&mut self, id: usize) -> Result<(), String> {
        if self.weather.prompt_disk || self.rng.gen_bool(0.5) {
            self.carry_out(id)?;
        }
        Ok(())
    }

    /// Node `id`'s disk completes its oldest save: report it, then send and
    /// apply what waited for it.
    fn complete_write(&mut self, id: usize) -> Result<(), String> {
        let Some(Write { update, persisted_messages, committed }) =
            self.members[id].disk.pop_front()
        else {
            return Ok(());
        };
        let member = &mut self.members[id];
        if !update.is_empty() {
            member.persister.save(&update).map_err(|error| {
                format!("persistence: node {id}'s update does not apply to its disk: {error}")
            })?;
        }
        if let Some((index, term)) = Ready::persisted_of(&update) {
            member.raft.on_persisted(index, term);
        }
        for message in persisted_messages {
            self.post(id, message)?;
        }
        for item in committed {
            self.apply(id, item)?;
        }
        Ok(())
    }

    /// Puts a message node `id` sends on the wire, remembering a request's
    /// [`Sent`] as its call.
    fn post(&mut self, id: usize, message: Outgoing) -> Result<(), String> {
        match message {
            Outgoing::Request { to, request } => {
                let peer = to.0 as usize;
                if peer >= SIZE || peer == id {
                    return Err(format!("node {id} sent a request to {to}"));
                }
                self.next_call += 1;
                let call = self.next_call;
                let sent = Sent::of(&request);
                let incarnation = self.members[id].incarnation;
                let outcome = Outcome::Pending;
                let record =
                    Call { requester: id, incarnation, peer, sent, outcome, failing: false };
                self.calls.insert(call, record);
                let held_until = self.hold(matches!(request, Request::Snapshot(_)));
                self.put_on_wire(Packet::Request { call, request }, held_until);
            }
            Outgoing::Response { to, id: RequestId(call), response } => {
                let Some(record) = self.calls.get(&call) else {
                    return Err(format!("node {id} answered call {call}, which was never made"));
                };
                if record.peer != id || record.requester != to.0 as usize {
                    return Err(format!("node {id} answered call {call} to the wrong node {to}"));
                }
                let held_until = self.hold(false);
                self.put_on_wire(Packet::Answer { call, response }, held_until);
            }
        }
        Ok(())
    }

    fn put_on_wire(&mut self, packet: Packet, held_until: u64) {
        self.pool.push_back(InFlight { packet, posted_at: self.now, held_until });
    }

    /// When a packet posted now may arrive.
    fn hold(&mut self, snapshot: bool) -> u64 {
        let timeout = u64::from(self.config.election_ticks_max);
        if snapshot && self.rng.gen_bool(self.weather.snapshot_delay) {
            // L1-a: the snapshot arrives after the follower's election timeout.
            self.now + timeout + self.rng.gen_range(1..=2 * timeout)
        } else if self.rng.gen_bool(self.weather.delay) {
            // Mostly a few ticks; sometimes long enough to cross elections.
            let longest = if self.rng.gen_bool(0.25) { 2 * timeout } else { 20 };
            self.now + self.rng.gen_range(1..=longest)
        } else {
            self.now
        }
    }

    /// Delivers one packet that may arrive now, if there is one: the oldest,
    /// or under reordering any.
    fn deliver_any(&mut self) -> Result<(), String> {
        let now = self.now;
        let arrived = |packet: &&InFlight| packet.held_until <= now;
        let position = if self.rng.gen_bool(self.weather.reordering) {
            let count = self.pool.iter().filter(arrived).count();
            if count == 0 {
                return Ok(());
            }
            let choice = self.rng.gen_range(0..count);
            self.pool.iter().enumerate().filter(|(_, packet)| arrived(packet)).nth(choice)
        } else {
            self.pool.iter().enumerate().find(|(_, packet)| arrived(packet))
        };
        match position.map(|(position, _)| position) {
            Some(position) => self.deliver(position),
            None => Ok(()),
        }
    }

    fn deliver(&mut self, position: usize) -> Result<(), String> {
        let InFlight { packet, posted_at, .. } =
            self.pool.remove(position).expect("a packet on the wire");
        match packet {
            Packet::Request { call, request } => self.deliver_request(call, request, posted_at),
            Packet::Answer { call, response } => {
                let (requester, peer) = (self.calls[&call].requester, self.calls[&call].peer);
                if !self.reachable(peer, requester) || self.rng.gen_bool(self.weather.loss) {
                    self.give_up(call);
                    return Ok(());
                }
                if self.rng.gen_bool(self.weather.duplication) {
                    let packet = Packet::Answer { call, response: response.clone() };
                    self.put_on_wire(packet, self.now);
                }
                self.hand_outcome(call, Some(response))
            }
            Packet::Failure { call } => self.hand_outcome(call, None),
        }
    }

    fn deliver_request(
        &mut self,
        call: u64,
        request: Request,
        posted_at: u64,
    ) -> Result<(), String> {
        let (requester, peer) = (self.calls[&call].requester, self.calls[&call].peer);
        if !self.reachable(requester, peer) || self.rng.gen_bool(self.weather.loss) {
            self.give_up(call);
            return Ok(());
        }
        if self.rng.gen_bool(self.weather.duplication) {
            let packet = Packet::Request { call, request: request.clone() };
            self.put_on_wire(packet, self.now);
        }
        if matches!(request, Request::Snapshot(_)) {
            self.coverage.snapshots_delivered += 1;
            let late = posted_at + u64::from(self.config.election_ticks_max) < self.now;
            self.coverage.late_snapshots += u64::from(late);
        }
        let from = NodeId(requester as u64);
        let message = Message::Request { from, id: RequestId(call), request };
        self.members[peer].raft.step(message).map_err(|error| {
            format!("node {peer} refused a request from node {requester}: {error}")
        })?;
        self.maybe_carry_out(peer)
    }

    /// Hands the requester the outcome of `call`: every answer that arrives,
    /// and a failure only while no answer has.
    fn hand_outcome(&mut self, call: u64, response: Option<Response>) -> Result<(), String> {
        let record = self.calls.get_mut(&call).expect("a call made");
        let member = &mut self.members[record.requester];
        if !member.up || member.incarnation != record.incarnation {
            return Ok(()); // The caller is gone.
        }
        match (record.outcome, &response) {
            (Outcome::Failed, _) | (Outcome::Answered, None) => return Ok(()),
            (Outcome::Answered, Some(_)) => self.coverage.duplicate_answers += 1,
            (Outcome::Pending, Some(_)) => record.outcome = Outcome::Answered,
            (Outcome::Pending, None) => {
                record.outcome = Outcome::Failed;
                self.coverage.failures += 1;
            }
        }
        if response.is_some() && record.sent.term() < member.raft.term() {
            self.coverage.stale_answers += 1;
        }
        let from = NodeId(record.peer as u64);
        let requester = record.requester;
        member.raft.step(Message::Response { from, sent: record.sent, response }).map_err(
            |error| format!("node {requester} refused an outcome from node {from}: {error}"),
        )?;
        if member.raft.role() == Role::Leader {
            // A vote may have made it leader: check it before a later
            // message of the same step can depose it.
            self.check_node(requester)?;
            self.check_leader_completeness(requester)?;
        }
        self.maybe_carry_out(requester)
    }

    /// A packet of `call` was lost, or its transport timed out: unless an
    /// answer already came, the requester will hear that the call failed.
    fn give_up(&mut self, call: u64) {
        let record = self.calls.get_mut(&call).expect("a call made");
        if record.outcome == Outcome::Pending && !record.failing {
            record.failing = true;
            self.put_on_wire(Packet::Failure { call }, self.now);
        }
    }

    /// A transport times out a call while its request or answer is still on
    /// the wire: whichever outcome arrives first stands.
    fn time_out_any(&mut self) {
        if self.pool.is_empty() {
            return;
        }
        let position = self.rng.gen_range(0..self.pool.len());
        match self.pool[position].packet {
            Packet::Request { call, .. } | Packet::Answer { call, .. } => self.give_up(call),
            Packet::Failure { .. } => {}
        }
    }

    fn reachable(&self, from: usize, to: usize) -> bool {
        self.members[to].up && self.side[from] == self.side[to]
    }

    /// Whom a crash strikes: the leader, or a node that has not saved a vote
    /// or a term it answered with, or one with other saves under way, or
    /// anyone.
    fn crash_victim(&mut self) -> usize {
        let unsaved = |member: &Member, hard_state: bool| {
            member.up
                && member.disk.iter().any(|write| !hard_state || write.update.hard_state.is_some())
        };
        let voters: Vec<usize> = (0..SIZE).filter(|&id| unsaved(&self.members[id], true)).collect();
        let busy: Vec<usize> = (0..SIZE).filter(|&id| unsaved(&self.members[id], false)).collect();
        let choice = match self.rng.gen_range(0..4) {
            0 => self.leader(),
            1 if !voters.is_empty() => Some(voters[self.rng.gen_range(0..voters.len())]),
            2 if !busy.is_empty() => Some(busy[self.rng.gen_range(0..busy.len())]),
            _ => None,
        };
        choice.unwrap_or_else(|| self.rng.gen_range(0..SIZE))
    }

    /// Node `id` crashes: what its disk had not saved is lost, the answers
    /// waiting for it included.
    fn crash(&mut self, id: usize) {
        let member = &mut self.members[id];
        if !member.up {
            return;
        }
        member.up = false;
        self.reads.retain(|&(node, _), _| node != id);
        self.to_serve.retain(|&(node, _, _)| node != id);
        let lost: Vec<Write> = member.disk.drain(..).collect();
        self.coverage.lost_writes += lost.len() as u64;
        for write in lost {
            for message in write.persisted_messages {
                if let Outgoing::Response { id: RequestId(call), .. } = message {
                    self.give_up(call);
                }
            }
        }
    }

    /// Node `id` comes back from what its disk holds, with an empty service.
    fn restart(&mut self, id: usize) -> Result<(), String> {
        if self.members[id].up {
            return Ok(());
        }
        let config = node_config(&self.config, id, &mut self.rng);
        let member = &mut self.members[id];
        let state = member.persister.load().map_err(|error| error.to_string())?;
        member.raft = Raft::new(config, state)
            .map_err(|error| format!("node {id} cannot restart from its disk: {error}"))?;
        member.service.clear();
        member.up = true;
        member.incarnation += 1;
        member.commit_index = Index(0);
        Ok(())
    }

    /// The service above node `id` takes one committed item.
    fn apply(&mut self, id: usize, item: Applied) -> Result<(), String> {
        let applied = self.members[id].service.len() as u64;
        let (index, data) = match item {
            Applied::Command { index, data, .. } => (index, data.to_vec()),
            // A leader's no-op applies as an empty command, which no client's
            // command is.
            Applied::Noop { index, .. } => (index, Vec::new()),
            Applied::Snapshot { index, data, .. } => return self.install(id, index, &data),
        };
        if index.0 != applied + 1 {
            return Err(format!(
                "apply order: node {id} was handed index {index} after applying {applied}"
            ));
        }
        self.record_applied(id, index, &data)?;
        self.members[id].service.push(data);
        self.coverage.commands_applied += 1;
        self.acknowledged = self.acknowledged.max(index.0);
        Ok(())
    }

    /// The service above node `id` installs a snapshot through `index`.
    fn install(&mut self, id: usize, index: Index, data: &[u8]) -> Result<(), String> {
        let applied = self.members[id].service.len() as u64;
        if index.0 <= applied {
            return Err(format!(
                "apply order: node {id} was handed snapshot {index} after applying {applied}"
            ));
        }
        let state: Vec<Vec<u8>> = postcard::from_bytes(data).map_err(|error| error.to_string())?;
        if state.len() as u64 != index.0 {
            return Err(format!(
                "apply order: node {id} was handed snapshot {index} holding {} commands",
                state.len()
            ));
        }
        for (position, command) in state.iter().enumerate() {
            self.record_applied(id, Index(position as u64 + 1), command)?;
        }
        self.members[id].service = state;
        Ok(())
    }

    fn record_applied(&mut self, id: usize, index: Index, data: &[u8]) -> Result<(), String> {
        match self.applied.get(&index) {
            Some(other) if other[..] != *data => Err(format!(
                "state machine safety: node {id} applied {data:?} at index {index}, another node {other:?}"
            )),
            Some(_) => Ok(()),
            None => {
                self.applied.insert(index, data.to_vec());
                Ok(())
            }
        }
    }

    /// The up node that leads the highest term, if any.
    fn leader(&self) -> Option<usize> {
        (0..SIZE)
            .filter(|&id| self.members[id].up && self.members[id].raft.role() == Role::Leader)
            .max_by_key(|&id| self.members[id].raft.term())
    }

    /// Checks Raft's safety properties across all nodes.
    fn check(&mut self) -> Result<(), String> {
        for id in 0..SIZE {
            if self.members[id].up {
                self.check_node(id)?;
            }
        }
        if let Some((target, term)) = self.transfer {
            let raft = &self.members[target].raft;
            if raft.role() == Role::Leader && raft.term() > term {
                self.coverage.transfers_completed += 1;
                self.transfer = None;
            } else if self.leader().is_some_and(|id| self.members[id].raft.term() > term) {
                self.transfer = None; // Another node took the lead.
            }
        }
        for id in 0..SIZE {
            let raft = &self.members[id].raft;
            if self.members[id].up && raft.role() == Role::Leader {
                self.check_leader_completeness(id)?;
            }
        }
        self.check_log_matching()
    }

    /// Election safety, and what node `id` shows committed.
    fn check_node(&mut self, id: usize) -> Result<(), String> {
        let raft = &self.members[id].raft;
        let term = raft.term();
        if raft.role() == Role::Leader {
            let leader = *self.leaders.entry(term).or_insert(id);
            if leader != id {
                return Err(format!(
                    "election safety: nodes {leader} and {id} both led term {term}"
                ));
            }
        }
        let commit = raft.commit_index();
        let shown = self.members[id].commit_index;
        if commit < shown {
            return Err(format!(
                "commit monotonicity: node {id}'s commit index fell from {shown} to {commit}"
            ));
        }
        let log = raft.log();
        let mut index = shown.next().max(log.base_index());
        while index <= commit {
            if let Some(entry_term) = log.term(index) {
                match self.committed.get_mut(&index) {
                    Some(known) if known.term != entry_term => {
                        return Err(format!(
                            "committed entries: node {id} shows ({index}, {entry_term}) committed, \
                             another node showed term {}",
                            known.term
                        ));
                    }
                    Some(known) => known.known_in = known.known_in.min(term),
                    None => {
                        self.committed
                            .insert(index, Committed { term: entry_term, known_in: term });
                    }
                }
            }
            index = index.next();
        }
        self.members[id].commit_index = commit;
        Ok(())
    }

    /// Leader Completeness (Raft §5.4): the leader holds, in its log or its
    /// snapshot, every entry known committed in an earlier term.
    fn check_leader_completeness(&self, leader: usize) -> Result<(), String> {
        let raft = &self.members[leader].raft;
        let (log, term) = (raft.log(), raft.term());
        for (&index, known) in self.committed.range(log.base_index()..) {
            if known.known_in < term && log.term(index) != Some(known.term) {
                return Err(format!(
                    "leader completeness: node {leader} leads term {term} without ({index}, {}), \
                     known committed in term {}; its log has {:?}",
                    known.term,
                    known.known_in,
                    log.term(index)
                ));
            }
        }
        Ok(())
    }

    /// Log Matching (Raft §5.3): two logs that hold an entry with the same
    /// index and term are identical up to it, over the indices both hold.
    fn check_log_matching(&self) -> Result<(), String> {
        for a in 0..SIZE {
            for b in a + 1..SIZE {
                let (left, right) = (self.members[a].raft.log(), self.members[b].raft.log());
                let low = left.base_index().max(right.base_index());
                let high = left.last_index().min(right.last_index());
                if low > high {
                    continue;
                }
                // The highest index where they agree on the term...
                let mut agreed = high;
                while left.term(agreed) != right.term(agreed) {
                    if agreed == low {
                        break;
                    }
                    agreed = Index(agreed.0 - 1);
                }
                if left.term(agreed) != right.term(agreed) {
                    continue;
                }
                // ...and they agree on everything below it.
                let mut index = low;
                while index <= agreed {
                    let same = left.term(index) == right.term(index)
                        && match (left.entry(index), right.entry(index)) {
                            (Some(one), Some(other)) => one.data == other.data,
                            _ => true,
                        };
                    if !same {
                        return Err(format!(
                            "log matching: nodes {a} and {b} both hold ({agreed}, {:?}) but differ at {index}",
                            left.term(agreed)
                        ));
                    }
                    index = index.next();
                }
            }
        }
        Ok(())
    }

    /// Heals everything (no loss, no partitions, every node up, prompt disks)
    /// and runs until a leader has committed an entry of its own term and
    /// every service has applied all it committed. Returns the ticks taken.
    fn heal(&mut self) -> Result<u64, String> {
        self.weather = Weather::HEALED;
        self.side.fill(0);
        for packet in &mut self.pool {
            packet.held_until = 0;
        }
        for id in 0..SIZE {
            self.restart(id)?;
        }
        let bound = HEALING_ELECTION_TIMEOUTS * u64::from(self.config.election_ticks_max);
        for ticks in 1..=bound {
            self.tick_all();
            // Clients keep reading while the cluster heals.
            self.read();
            for id in 0..SIZE {
                self.carry_out(id)?;
            }
            self.serve_reads()?;
            // In the order sent, as the real transports deliver between two
            // nodes (see the note on `Weather::reordering`).
            while !self.pool.is_empty() {
                self.deliver(0)?;
                self.check()?;
            }
            self.check()?;
            let Some(leader) = self.leader() else { continue };
            let raft = &self.members[leader].raft;
            let (commit, term) = (raft.commit_index(), raft.term());
            if raft.log().term(commit) == Some(term) {
                if self.members.iter().all(|member| member.service.len() as u64 == commit.0) {
                    return Ok(ticks);
                }
            } else if raft.log().last_term() != term {
                // Raft §5.4.2: earlier terms' entries commit only under one
                // of the leader's own.
                self.propose(leader, 1);
            }
        }
        Err(format!("liveness: the healed cluster did not converge within {bound} ticks"))
    }
}

/// Node `id`'s configuration, with a fresh seed for its election jitter.
fn node_config(template: &Config, id: usize, rng: &mut SmallRng) -> Config {
    let mut config = template.clone();
    config.id = NodeId(id as u64);
    config.seed = rng.r#gen();
    config
}

/// Runs one schedule; a failure names the seed, the step and the property.
fn run(seed: u64) -> Result<Coverage, String> {
    let mut world = World::new(seed);
    let mut step = 0;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        while step < STEPS {
            step += 1;
            world.step()?;
        }
        step += 1;
        let ticks = world.heal()?;
        world.coverage.worst_healing_ticks = ticks;
        let first = &world.members[0].service;
        if world.members.iter().any(|member| member.service != *first) {
            return Err("services differ after convergence".to_owned());
        }
        Ok(world.coverage)
    }));
    let phase = if step > STEPS { "healing".to_owned() } else { format!("step {step}") };
    match outcome {
        Ok(Ok(coverage)) => Ok(coverage),
        Ok(Err(error)) => Err(format!("seed {seed}, {phase}: {error}")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_default();
            Err(format!("seed {seed}, {phase}: the core panicked: {message}"))
        }
    }
}

/// What all the schedules of the test made happen.
static COVERAGE: Mutex<Coverage> = Mutex::new(Coverage::NOTHING);

#[test]
fn random_schedules_keep_raft_safe_and_converge() {
    fn property(seed: u64) -> TestResult {
        match run(seed) {
            Ok(coverage) => {
                COVERAGE.lock().unwrap().add(&coverage);
                TestResult::passed()
            }
            Err(error) => TestResult::error(error),
        }
    }
    QuickCheck::new().tests(SEEDS).quickcheck(property as fn(u64) -> TestResult);
    let coverage = *COVERAGE.lock().unwrap();
    eprintln!("{coverage:?}");
    for (what, count) in [
        ("commands applied", coverage.commands_applied),
        ("InstallSnapshot requests delivered", coverage.snapshots_delivered),
        ("snapshots arriving after an election timeout", coverage.late_snapshots),
        ("answers crossing a term change", coverage.stale_answers),
        ("duplicate answers", coverage.duplicate_answers),
        ("failed calls", coverage.failures),
        ("saves lost in a crash", coverage.lost_writes),
        ("reads served", coverage.reads_served),
        ("reads served through a follower", coverage.follower_reads_served),
        ("leadership transfers completed", coverage.transfers_completed),
    ] {
        assert!(count > 0, "no schedule produced any {what}: {coverage:?}");
    }
}
