//! [`Simulation`]: one deterministic run of a whole cluster in virtual time,
//! driving the public core as a real driver does and checking Raft's
//! properties after every step.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use raft_core::{
    Applied, Bytes, Config, Index, Message, NodeId, Outgoing, ProposeError, Raft, ReadError,
    ReadOutcome, Ready, Request, RequestId, Role, Sent, Term,
};
use raft_persist::{MemPersister, PersistedState, Persister};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::sim::calls::{CallState, Calls};
use crate::sim::checker::Checker;
use crate::sim::client::{Client, ClientRequest, MAX_WAITING, PROPOSAL_TIMEOUT, ReadTarget};
use crate::sim::disk::{Disk, Save};
use crate::sim::events::{Event, EventQueue, Packet};
use crate::sim::network::Network;
use crate::sim::node::{NodeClock, SimNode};
use crate::sim::profile::{Profile, Protocol};
use crate::sim::reads::Reads;
use crate::sim::schedule::{Fault, Schedule, Target};
use crate::sim::service::{Service, chain};
use crate::sim::time::{TICK_MICROS, VirtualTime, micros};
use crate::sim::trace::{Recorder, TraceEvent, Wire};
use crate::sim::{Failure, RunCounters, RunReport, SimulationConfig, SimulationError, Violation};

/// Readies a node may produce in a row before the driver decides that
/// `has_ready` never clears.
const MAX_READY_TURNS: usize = 10_000;
/// The most ticks a clock burst delivers at once.
const MAX_BURST_TICKS: u64 = 200;
/// Virtual µs between looks at whether the healed cluster converged.
const LIVENESS_CHECK_MICROS: u64 = 10_000;

/// The random streams of a run, each seeded from the run's seed, so that
/// (for instance) filtering the fault schedule leaves the client's choices
/// alone.
#[derive(Clone, Copy, Debug)]
enum Stream {
    Profile = 1,
    Schedule = 2,
    Network = 3,
    Disk = 4,
    Clocks = 5,
    Client = 6,
    Cores = 7,
    Reads = 8,
}

fn stream(seed: u64, stream: Stream) -> SmallRng {
    // SplitMix64 of the seed and the stream's number.
    let mut z = seed.wrapping_add((stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    SmallRng::seed_from_u64(z ^ (z >> 31))
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Faults strike and the client proposes and reads.
    Faults,
    /// Everything is healed; the cluster must converge within the bound.
    Healing { since: u64 },
    /// Converged and audited.
    Done,
}

/// One run of a simulated cluster: `nodes` cores of [`raft_core::Raft`] over
/// [`MemPersister`]s, a network, disks, clocks, a client that writes and
/// reads (ReadIndex), leadership transfers and the services' snapshots, all
/// in virtual time, in one thread, with no clock read and no ambient
/// randomness. The same seed and [`SimulationConfig`] give the same
/// run, bit for bit: the [`RunReport::digest`] of its trace says so.
///
/// A run has two phases. For [`SimulationConfig::fault_duration`] the faults
/// of the configuration's [`FaultMix`](crate::FaultMix) strike while the
/// client proposes and reads; then everything heals (every link up, every
/// node restarted, no loss; the client's reads go on) and the cluster has
/// [`SimulationConfig::healing_bound`] to elect a leader and bring every
/// node to its commit index. After every step, the properties in
/// [`Violation`] are checked over all that every node has shown since the
/// start.
///
/// # Example
///
/// ```
/// use raft_testkit::{FaultMix, Simulation, SimulationConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut config = SimulationConfig::new(3, FaultMix::Partitions);
/// config.fault_duration = std::time::Duration::from_secs(2);
///
/// let report = Simulation::new(42, config.clone())?.run()?;
/// assert!(report.healing.is_some(), "the healed cluster converged");
/// assert!(report.counters.acknowledged > 0, "proposals committed");
///
/// // The same seed and configuration replay the same run.
/// let again = Simulation::new(42, config)?.run()?;
/// assert_eq!(report.digest, again.digest);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Simulation {
    seed: u64,
    config: SimulationConfig,
    profile: Profile,
    now: u64,
    steps: u64,
    phase: Phase,
    queue: EventQueue,
    nodes: Vec<SimNode>,
    network: Network,
    calls: Calls,
    disk_rng: SmallRng,
    clock_rng: SmallRng,
    core_seeds: SmallRng,
    client: Client,
    checker: Checker,
    recorder: Recorder,
    schedule: Schedule,
    /// Which faults of the schedule strike (all, unless filtered).
    kept: Vec<bool>,
    /// For each crash of the schedule, the node it took down.
    crashed_by: Vec<Option<usize>>,
    /// Per node: when its clock stall ends (0: not stalled).
    stalled_until: Vec<u64>,
    converged_after: Option<u64>,
    counters: RunCounters,
    /// The extensions every core runs.
    protocol: Protocol,
    /// The client's reads in flight, and their check.
    reads: Reads,
    /// The latest leadership transfer a leader took on: its target and the
    /// term it began in.
    transfer: Option<(usize, Term)>,
}

impl Simulation {
    /// Sets up the run of `seed` under `config`: draws the profile and the
    /// fault schedule, and starts every node from an empty disk.
    ///
    /// # Errors
    /// [`SimulationError::InvalidConfig`] if `config` does not validate;
    /// [`SimulationError::Core`] if a core refuses its configuration.
    pub fn new(seed: u64, config: SimulationConfig) -> Result<Simulation, SimulationError> {
        config.validate()?;
        let profile = Profile::draw(config.faults, &mut stream(seed, Stream::Profile));
        let schedule = Schedule::draw(
            &profile.faults,
            micros(config.fault_duration),
            &mut stream(seed, Stream::Schedule),
        );
        let protocol = profile.protocol_for(&config);
        let mut core_seeds = stream(seed, Stream::Cores);
        let mut clock_rng = stream(seed, Stream::Clocks);
        let mut nodes = Vec::with_capacity(config.nodes);
        for node in 0..config.nodes {
            let core = core_config(&config, &profile, protocol, node, &mut core_seeds);
            let raft = Raft::new(core, PersistedState::default()).map_err(SimulationError::Core)?;
            let skew = (TICK_MICROS as f64 * profile.tick_skew) as u64;
            let period = clock_rng.gen_range(TICK_MICROS - skew..=TICK_MICROS + skew);
            nodes.push(SimNode {
                raft,
                up: true,
                incarnation: 0,
                persister: MemPersister::new(),
                disk: Disk::default(),
                service: Service::default(),
                clock: NodeClock { period, generation: 0 },
            });
        }
        let checker = Checker::new(&nodes);
        let faults = schedule.faults.len();
        Ok(Simulation {
            seed,
            profile,
            now: 0,
            steps: 0,
            phase: Phase::Faults,
            queue: EventQueue::default(),
            network: Network::new(config.nodes, profile.weather, stream(seed, Stream::Network)),
            calls: Calls::new(profile.call_timeout),
            disk_rng: stream(seed, Stream::Disk),
            clock_rng,
            core_seeds,
            client: Client::new(stream(seed, Stream::Client), stream(seed, Stream::Reads)),
            checker,
            recorder: Recorder::new(false),
            schedule,
            kept: vec![true; faults],
            crashed_by: vec![None; faults],
            stalled_until: vec![0; config.nodes],
            converged_after: None,
            counters: RunCounters::default(),
            protocol,
            reads: Reads::new(config.nodes),
            transfer: None,
            nodes,
            config,
        })
    }

    /// Keeps the trace's lines: each step, each message, each state change,
    /// and the violation at the end, in [`RunReport::trace`].
    #[must_use]
    pub fn trace(mut self) -> Simulation {
        self.recorder = Recorder::new(true);
        let config = &self.config;
        self.recorder.note(format!(
            "seed {}: {} nodes, faults {}, {:?} of faults, then up to {:?} to converge",
            self.seed, config.nodes, config.faults, config.fault_duration, config.healing_bound
        ));
        let profile = &self.profile;
        self.recorder.note(format!(
            "network: {:?}, call timeout {} µs",
            profile.weather, profile.call_timeout
        ));
        self.recorder.note(format!("once healed: {:?}", profile.healed_weather));
        self.recorder
            .note(format!("disks: {:?}; tick skew up to {}", profile.disk, profile.tick_skew));
        self.recorder.note(format!("client and services: {:?}", profile.workload));
        let protocol = self.protocol;
        self.recorder.note(format!(
            "every core: pre_vote {}, check_quorum {}, noop_on_election {}, lease_reads {}",
            protocol.pre_vote,
            protocol.check_quorum,
            protocol.noop_on_election,
            protocol.lease_reads
        ));
        for (node, member) in self.nodes.iter().enumerate() {
            let core = member.raft.config();
            self.recorder.note(format!(
                "n{node}: tick every {} µs; max_bytes_per_append {}, max_inflight_appends {}, max_uncommitted_entries {}",
                member.clock.period,
                core.max_bytes_per_append,
                core.max_inflight_appends,
                core.max_uncommitted_entries
            ));
        }
        for (position, scheduled) in self.schedule.faults.iter().enumerate() {
            self.recorder.note(format!(
                "fault {position} at {}: {:?}",
                VirtualTime::from_micros(scheduled.at),
                scheduled.fault
            ));
        }
        self
    }

    /// How many faults the run's schedule holds.
    pub fn fault_count(&self) -> usize {
        self.schedule.faults.len()
    }

    /// Keeps only the faults at these positions of the schedule (numbered
    /// from 0 to [`fault_count`](Self::fault_count)); the others do not
    /// strike. The shrinker uses it, and so does a replay of a shrunk run.
    #[must_use]
    pub fn keep_faults(mut self, positions: &[usize]) -> Simulation {
        self.kept.fill(false);
        for &position in positions {
            if let Some(kept) = self.kept.get_mut(position) {
                *kept = true;
            }
        }
        self
    }

    /// Runs to the end: converged and audited, or a broken property.
    ///
    /// # Errors
    /// A [`Failure`] naming the [`Violation`], when and after how many steps
    /// it happened, with the run's report up to there.
    pub fn run(mut self) -> Result<RunReport, Failure> {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run_events()));
        let result = outcome.unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_default();
            Err(Violation::Panic { message })
        });
        match result {
            Ok(()) => Ok(self.report()),
            Err(violation) => {
                self.recorder.record(self.now, TraceEvent::Violated(&violation));
                let (at, step) = (VirtualTime::from_micros(self.now), self.steps);
                Err(Failure { violation, at, step, report: Box::new(self.report()) })
            }
        }
    }

    fn report(&mut self) -> RunReport {
        let mut counters = self.counters;
        counters.highest_term =
            self.nodes.iter().map(|node| node.raft.term().0).max().unwrap_or_default();
        RunReport {
            seed: self.seed,
            config: self.config.clone(),
            simulated: Duration::from_micros(self.now),
            healing: self.converged_after.map(Duration::from_micros),
            steps: self.steps,
            digest: self.recorder.digest(),
            counters,
            trace: self.recorder.take_lines(),
        }
    }

    fn run_events(&mut self) -> Result<(), Violation> {
        self.start()?;
        while self.phase != Phase::Done {
            let deadline = self.calls.next_deadline();
            let next = self.queue.next_time();
            match (deadline, next) {
                (Some(deadline), next) if next.is_none_or(|next| deadline < next) => {
                    self.now = deadline;
                    self.steps += 1;
                    if let Some(call) = self.calls.pop_deadline() {
                        self.deadline(call)?;
                    }
                }
                _ => {
                    let Some((at, event)) = self.queue.pop() else { break };
                    self.now = at;
                    self.steps += 1;
                    self.handle(event)?;
                }
            }
        }
        Ok(())
    }

    fn start(&mut self) -> Result<(), Violation> {
        for node in 0..self.nodes.len() {
            let period = self.nodes[node].clock.period;
            let first = self.clock_rng.gen_range(1..=period);
            self.queue.schedule(first, Event::Tick { node, generation: 0, count: 1 });
        }
        let gap = self.client.next_gap(self.profile.workload.proposal_every);
        self.queue.schedule(gap, Event::Client);
        let gap = self.client.next_read_gap(self.profile.workload.read_every);
        self.queue.schedule(gap, Event::Read);
        for (position, scheduled) in self.schedule.faults.iter().enumerate() {
            if self.kept[position] {
                self.queue.schedule(scheduled.at, Event::Fault(position));
            }
        }
        self.queue.schedule(micros(self.config.fault_duration), Event::FaultsEnd);
        Ok(())
    }

    fn handle(&mut self, event: Event) -> Result<(), Violation> {
        match event {
            Event::Tick { node, generation, count } => {
                let member = &mut self.nodes[node];
                if !member.up || member.clock.generation != generation {
                    return Ok(());
                }
                for _ in 0..count {
                    member.raft.tick();
                }
                let next = self.now + member.clock.period;
                self.recorder.record(self.now, TraceEvent::Tick { node, count });
                self.queue.schedule(next, Event::Tick { node, generation, count: 1 });
                self.settle(node)
            }
            Event::Arrive { from, to, call, packet } => self.arrive(from, to, call, packet),
            Event::SaveDone { node, incarnation } => {
                let member = &self.nodes[node];
                if !member.up || member.incarnation != incarnation {
                    return Ok(());
                }
                self.complete_save(node)
            }
            Event::Client => {
                if self.phase != Phase::Faults {
                    return Ok(());
                }
                let workload = self.profile.workload;
                let request = self.client.next_request(workload.burst);
                self.client_request(request)?;
                let gap = self.client.next_gap(workload.proposal_every);
                self.queue.schedule(self.now + gap, Event::Client);
                Ok(())
            }
            Event::Read => {
                // Reads go on while the cluster heals (writes stop: the
                // healing phase's log must settle).
                if self.phase == Phase::Done {
                    return Ok(());
                }
                let workload = self.profile.workload;
                let request = self.client.next_read(workload.read_anywhere, self.nodes.len());
                self.client_request(request)?;
                let gap = self.client.next_read_gap(workload.read_every);
                self.queue.schedule(self.now + gap, Event::Read);
                Ok(())
            }
            Event::Fault(position) => {
                if self.phase != Phase::Faults {
                    return Ok(());
                }
                self.fault(position)
            }
            Event::FaultsEnd => self.heal(),
            Event::LivenessCheck => self.check_liveness(),
        }
    }

    /// Carries out `node`'s work, then checks the properties, and serves the
    /// reads its service has reached.
    fn settle(&mut self, node: usize) -> Result<(), Violation> {
        self.carry_out(node)?;
        if let Some(change) = self.checker.check(node, &self.nodes)? {
            if let Some((target, term)) = self.transfer
                && change.role == Role::Leader
                && change.term > term
            {
                self.counters.transfers_completed += u64::from(node == target);
                self.transfer = None;
            }
            self.recorder.record(
                self.now,
                TraceEvent::StateChange {
                    node,
                    role: change.role,
                    term: change.term,
                    leader: change.leader,
                    commit: change.commit,
                },
            );
        }
        self.serve_reads(node);
        Ok(())
    }

    /// Carries out what the client asks.
    fn client_request(&mut self, request: ClientRequest) -> Result<(), Violation> {
        match request {
            ClientRequest::Propose { count } => {
                if self.client.may_propose(self.now) {
                    self.propose(self.client.target, count)?;
                }
                Ok(())
            }
            ClientRequest::Read { node } => self.read(node),
        }
    }

    /// The client asks a node for a read index, unless [`MAX_WAITING`] reads
    /// wait already (it stops waiting for one after [`PROPOSAL_TIMEOUT`], as
    /// for a proposal).
    fn read(&mut self, target: ReadTarget) -> Result<(), Violation> {
        if self.reads.waiting(self.now, PROPOSAL_TIMEOUT) >= MAX_WAITING {
            return Ok(());
        }
        let node = match target {
            ReadTarget::BelievedLeader => self.client.target,
            ReadTarget::Node(node) => node,
        };
        let member = &self.nodes[node];
        if !member.up {
            if target == ReadTarget::BelievedLeader {
                self.client.redirect(None, self.nodes.len());
            }
            return Ok(());
        }
        let on_follower = member.raft.role() != Role::Leader;
        let acknowledged = self.checker.last_acknowledged();
        let place = (node, member.incarnation);
        let floor = acknowledged.max(self.reads.observed());
        let id = self.reads.begin(self.now, place, on_follower, acknowledged);
        self.counters.reads += 1;
        self.recorder.record(self.now, TraceEvent::ReadAsked { node, read: id.0, floor });
        self.nodes[node].raft.read_index(id);
        self.settle(node)
    }

    /// `node`'s core answered a read: its index is checked, and an error from
    /// the node the client believes leads redirects the client.
    fn read_answered(&mut self, node: usize, outcome: ReadOutcome) -> Result<(), Violation> {
        let read = outcome.id.0;
        let result = outcome.result.clone();
        self.recorder.record(self.now, TraceEvent::ReadAnswered { node, read, result: &result });
        let place = (node, self.nodes[node].incarnation);
        let (pending, result) = self.reads.answered(place, outcome)?;
        match result {
            Ok(_) => {
                self.counters.reads_indexed += 1;
                let at_once = pending.asked_at == self.now && !pending.on_follower;
                self.counters.reads_answered_at_once += u64::from(at_once);
            }
            Err(error) => {
                self.counters.reads_refused += 1;
                if let ReadError::NotLeader { leader_hint } = error
                    && node == self.client.target
                {
                    let hint = leader_hint.map(|leader| leader.0 as usize);
                    self.client.redirect(hint, self.nodes.len());
                }
            }
        }
        Ok(())
    }

    /// Serves the reads waiting on `node` whose index its service has
    /// reached.
    fn serve_reads(&mut self, node: usize) {
        let member = &self.nodes[node];
        if !member.up {
            return;
        }
        let (place, applied) = ((node, member.incarnation), member.service.applied);
        let checker = &self.checker;
        let served = self.reads.serve(place, applied, |index| checker.last_command_through(index));
        for served in served {
            self.counters.reads_served += 1;
            self.counters.follower_reads_served += u64::from(served.read.on_follower);
            let (read, index) = (served.id.0, served.index);
            self.recorder.record(self.now, TraceEvent::ReadServed { node, read, index, applied });
        }
    }

    /// Takes `node`'s Readys until it has none: each one's messages leave at
    /// once; its update, the messages that wait for it and its committed
    /// entries queue on the disk.
    fn carry_out(&mut self, node: usize) -> Result<(), Violation> {
        for _ in 0..MAX_READY_TURNS {
            let member = &mut self.nodes[node];
            if !member.up || !member.raft.has_ready() {
                return Ok(());
            }
            let (role, term) = (member.raft.role(), member.raft.term());
            let Ready { messages, update, persisted_messages, committed, reads } =
                member.raft.ready();
            self.checker.updated(node, role, term, &update)?;
            // Reads depend on nothing saved: their outcomes count at once.
            for outcome in reads {
                self.read_answered(node, outcome)?;
            }
            for message in messages {
                self.send(node, message)?;
            }
            if update.is_empty() && persisted_messages.is_empty() && committed.is_empty() {
                continue;
            }
            let member = &mut self.nodes[node];
            let done_at = member.disk.queue(
                self.now,
                &self.profile.disk,
                &mut self.disk_rng,
                update,
                persisted_messages,
                committed,
            );
            let incarnation = member.incarnation;
            if let Some(save) = member.disk.queue.back() {
                let update = &save.update;
                self.recorder.record(self.now, TraceEvent::SaveQueued { node, update, done_at });
            }
            self.queue.schedule(done_at, Event::SaveDone { node, incarnation });
        }
        Err(Violation::DriverContract {
            node,
            what: format!("its Ready did not run dry after {MAX_READY_TURNS} turns"),
        })
    }

    /// `node`'s oldest save completes: it becomes durable, the core hears so,
    /// then what waited for it leaves and is applied.
    fn complete_save(&mut self, node: usize) -> Result<(), Violation> {
        let Some(Save { done_at, update, persisted_messages, committed }) =
            self.nodes[node].disk.queue.pop_front()
        else {
            return Ok(());
        };
        debug_assert_eq!(done_at, self.now, "saves complete in order, each at its time");
        let member = &mut self.nodes[node];
        if !update.is_empty() {
            member
                .persister
                .save(&update)
                .map_err(|source| Violation::Persistence { node, source: Arc::new(source) })?;
            self.counters.saves += 1;
        }
        if let Some((index, term)) = Ready::persisted_of(&update) {
            member.raft.on_persisted(index, term);
        }
        self.recorder.record(self.now, TraceEvent::SaveDone { node, update: &update });
        for message in persisted_messages {
            self.send(node, message)?;
        }
        for item in committed {
            self.apply(node, item)?;
        }
        self.maybe_snapshot(node)?;
        self.settle(node)
    }

    /// `node`'s service takes one committed item.
    fn apply(&mut self, node: usize, item: Applied) -> Result<(), Violation> {
        let member = &mut self.nodes[node];
        let applied = member.service.applied;
        let (index, term, data) = match item {
            Applied::Command { index, term, data } => (index, term, data),
            // A leader's no-op applies as an empty command, which no client's
            // command is: it takes its index in every check.
            Applied::Noop { index, term } => (index, term, Bytes::new()),
            Applied::Snapshot { index, data, .. } => {
                return self.install_snapshot(node, index, &data);
            }
        };
        if index <= applied {
            return Err(Violation::AppliedTwice { node, index, applied });
        }
        if index != applied.next() {
            return Err(Violation::AppliedOutOfOrder { node, index, applied });
        }
        member.service.digest = chain(member.service.digest, &data);
        member.service.applied = index;
        let (digest, incarnation) = (member.service.digest, member.incarnation);
        self.counters.applied += 1;
        self.recorder.record(self.now, TraceEvent::Apply { node, index, term });
        self.checker.applied_command(node, index, &data, digest)?;
        if let Some(data) = self.client.resolve(node, incarnation, index, term, &data) {
            self.checker.acknowledge(index, &data);
            self.counters.acknowledged += 1;
            self.recorder.record(self.now, TraceEvent::Acknowledged { node, index });
        }
        Ok(())
    }

    /// `node`'s service installs a snapshot through `index`.
    fn install_snapshot(
        &mut self,
        node: usize,
        index: Index,
        data: &[u8],
    ) -> Result<(), Violation> {
        let member = &mut self.nodes[node];
        let applied = member.service.applied;
        if index <= applied {
            return Err(Violation::SnapshotMovedServiceBackward { node, index, applied });
        }
        let state = Service::from_snapshot(data)
            .filter(|state| state.applied == index)
            .ok_or(Violation::StateMachineSafety { node, index, what: "state" })?;
        member.service = state;
        let incarnation = member.incarnation;
        self.counters.snapshots_installed += 1;
        self.recorder.record(self.now, TraceEvent::InstallSnapshot { node, index });
        self.checker.installed_snapshot(node, index, state.digest)?;
        self.client.forget(node, incarnation, index);
        Ok(())
    }
    /// `node`'s service snapshots once it has applied enough since its last.
    fn maybe_snapshot(&mut self, node: usize) -> Result<(), Violation> {
        let every = self.profile.workload.snapshot_every;
        let member = &mut self.nodes[node];
        let service = member.service;
        if every == 0 || service.applied.0 < service.last_snapshot.0 + every {
            return Ok(());
        }
        member.raft.snapshot(service.applied, service.snapshot_data()).map_err(|source| {
            Violation::CoreRefused { node, what: "take the service's snapshot", source }
        })?;
        member.service.last_snapshot = service.applied;
        self.counters.snapshots_taken += 1;
        self.recorder.record(self.now, TraceEvent::SnapshotTaken { node, index: service.applied });
        Ok(())
    }

    /// Puts a message `node` sends on the network: a request opens a call, an
    /// answer goes back to the call's requester.
    fn send(&mut self, node: usize, message: Outgoing) -> Result<(), Violation> {
        match message {
            Outgoing::Request { to, request } => {
                let peer = to.0 as usize;
                if peer >= self.nodes.len() || peer == node {
                    return Err(Violation::DriverContract {
                        node,
                        what: format!("it sent a request to node {to}"),
                    });
                }
                let incarnation = self.nodes[node].incarnation;
                let call = self.calls.open(self.now, node, incarnation, peer, Sent::of(&request));
                self.transmit(node, peer, call, Packet::Request(request));
            }
            Outgoing::Response { to, id: RequestId(call), response } => {
                let Some(record) = self.calls.get(call) else {
                    return Err(Violation::DriverContract {
                        node,
                        what: format!("it answered call {call}, which was never made"),
                    });
                };
                if record.peer != node || record.requester as u64 != to.0 {
                    return Err(Violation::DriverContract {
                        node,
                        what: format!(
                            "it answered call {call} to node {to}, which did not make it"
                        ),
                    });
                }
                let requester = record.requester;
                self.transmit(node, requester, call, Packet::Answer(response));
            }
        }
        Ok(())
    }

    fn transmit(&mut self, from: usize, to: usize, call: u64, packet: Packet) {
        self.counters.messages += 1;
        let cut = !self.network.connected(from, to);
        let copies = if cut {
            Default::default()
        } else {
            self.network.copies(matches!(packet, Packet::Request(Request::Snapshot(_))))
        };
        let wire = wire(&packet);
        let delays = copies.delays();
        self.recorder.record(self.now, TraceEvent::Send { from, to, call, wire, delays, cut });
        let Some((&last, extra)) = delays.split_last() else {
            self.counters.lost += 1;
            return;
        };
        self.counters.duplicated += extra.len() as u64;
        for &delay in extra {
            let packet = packet.clone();
            self.queue.schedule(self.now + delay, Event::Arrive { from, to, call, packet });
        }
        self.queue.schedule(self.now + last, Event::Arrive { from, to, call, packet });
    }

    /// A copy of a message of `call` reaches `to`.
    fn arrive(
        &mut self,
        from: usize,
        to: usize,
        call: u64,
        packet: Packet,
    ) -> Result<(), Violation> {
        if !self.network.connected(from, to) {
            {
                self.lost_on_arrival(from, to, call, "the link is down");
                return Ok(());
            }
        }
        match packet {
            Packet::Request(request) => {
                if !self.nodes[to].up {
                    {
                        self.lost_on_arrival(from, to, call, "the node is down");
                        return Ok(());
                    }
                }
                let wire = Wire::Request(&request);
                self.recorder.record(self.now, TraceEvent::Arrive { from, to, call, wire });
                let message =
                    Message::Request { from: NodeId(from as u64), id: RequestId(call), request };
                self.nodes[to].raft.step(message).map_err(|source| Violation::CoreRefused {
                    node: to,
                    what: "take in a request",
                    source,
                })?;
                self.settle(to)
            }
            Packet::Answer(response) => {
                let Some(record) = self.calls.get_mut(call) else { return Ok(()) };
                let member = &self.nodes[to];
                if !member.up || member.incarnation != record.incarnation {
                    {
                        self.lost_on_arrival(from, to, call, "its requester restarted");
                        return Ok(());
                    }
                }
                match record.state {
                    CallState::Failed => {
                        self.counters.late_answers += 1;
                        {
                            self.lost_on_arrival(from, to, call, "the call failed already");
                            return Ok(());
                        }
                    }
                    CallState::Answered => self.counters.extra_answers += 1,
                    CallState::Pending => record.state = CallState::Answered,
                }
                let sent = record.sent;
                let wire = Wire::Answer(&response);
                self.recorder.record(self.now, TraceEvent::Arrive { from, to, call, wire });
                let message =
                    Message::Response { from: NodeId(from as u64), sent, response: Some(response) };
                self.nodes[to].raft.step(message).map_err(|source| Violation::CoreRefused {
                    node: to,
                    what: "take in an answer",
                    source,
                })?;
                self.settle(to)
            }
        }
    }

    fn lost_on_arrival(&mut self, from: usize, to: usize, call: u64, why: &'static str) {
        self.counters.lost += 1;
        self.recorder.record(self.now, TraceEvent::LostOnArrival { from, to, call, why });
    }

    /// `call`'s deadline: if no answer came, it fails, and its requester hears
    /// so (unless it restarted since).
    fn deadline(&mut self, call: u64) -> Result<(), Violation> {
        let Some(record) = self.calls.get_mut(call) else { return Ok(()) };
        if record.state != CallState::Pending {
            return Ok(());
        }
        record.state = CallState::Failed;
        let (requester, peer, sent) = (record.requester, record.peer, record.sent);
        let member = &self.nodes[requester];
        if !member.up || member.incarnation != record.incarnation {
            return Ok(());
        }
        self.counters.failed_calls += 1;
        self.recorder.record(self.now, TraceEvent::CallFailed { requester, peer, call });
        let message = Message::Response { from: NodeId(peer as u64), sent, response: None };
        self.nodes[requester].raft.step(message).map_err(|source| Violation::CoreRefused {
            node: requester,
            what: "take in a failed call",
            source,
        })?;
        self.settle(requester)
    }

    /// The client proposes `count` commands to `node`.
    fn propose(&mut self, node: usize, count: usize) -> Result<(), Violation> {
        let nodes = self.nodes.len();
        let mut appended = false;
        for _ in 0..count {
            self.counters.proposals += 1;
            if !self.nodes[node].up {
                self.client.redirect(None, nodes);
                break;
            }
            let data = self.client.new_command();
            let bytes = data.len();
            let member = &mut self.nodes[node];
            match member.raft.propose(data.clone()) {
                Ok((index, term)) => {
                    let place = (node, member.incarnation);
                    self.client.appended(self.now, place, index, term, data);
                    self.counters.appended += 1;
                    appended = true;
                    self.recorder
                        .record(self.now, TraceEvent::Proposed { node, index, term, bytes });
                }
                Err(error) => {
                    self.recorder
                        .record(self.now, TraceEvent::ProposeRefused { node, error: &error });
                    if let ProposeError::NotLeader { leader_hint } = error {
                        self.client.redirect(leader_hint.map(|leader| leader.0 as usize), nodes);
                    }
                    break;
                }
            }
        }
        if appended { self.settle(node) } else { Ok(()) }
    }

    /// The up node leading the highest term, if any.
    fn leader(&self) -> Option<usize> {
        (0..self.nodes.len())
            .filter(|&node| self.nodes[node].up && self.nodes[node].raft.role() == Role::Leader)
            .max_by_key(|&node| self.nodes[node].raft.term())
    }

    /// The node `target` names, among those for which `eligible` holds.
    fn resolve(&self, target: Target, eligible: impl Fn(&SimNode) -> bool) -> Option<usize> {
        let nodes = self.nodes.len();
        let choice = match target {
            Target::Leader { choice } => {
                if let Some(leader) = self.leader().filter(|&leader| eligible(&self.nodes[leader]))
                {
                    return Some(leader);
                }
                choice
            }
            Target::Node { choice } => choice,
        };
        let start = (choice % nodes as u64) as usize;
        (0..nodes).map(|offset| (start + offset) % nodes).find(|&node| eligible(&self.nodes[node]))
    }

    fn fault(&mut self, position: usize) -> Result<(), Violation> {
        match self.schedule.faults[position].fault {
            Fault::Partition { kind, choice } => {
                let layout = self.network.partition(kind, choice, self.leader());
                self.counters.partitions += 1;
                self.recorder.record(self.now, TraceEvent::Partition { layout: &layout });
            }
            Fault::Heal => {
                self.network.heal();
                self.recorder.record(self.now, TraceEvent::Heal);
            }
            Fault::Crash { target } => {
                if let Some(node) = self.resolve(target, |node| node.up) {
                    self.crashed_by[position] = Some(node);
                    self.crash(node);
                }
            }
            Fault::Restart { crash } => {
                if let Some(node) = self.crashed_by.get(crash).copied().flatten()
                    && !self.nodes[node].up
                {
                    self.restart(node)?;
                }
            }
            Fault::ClockStall { target, micros } => {
                if let Some(node) = self.resolve(target, |node| node.up) {
                    self.stall(node, micros);
                }
            }
            Fault::TransferLeadership { choice } => {
                if let Some(leader) = self.leader() {
                    return self.transfer_leadership(leader, choice);
                }
            }
        }
        Ok(())
    }

    /// `leader` is asked to hand its lead to the node `choice` picks among
    /// the others.
    fn transfer_leadership(&mut self, leader: usize, choice: u64) -> Result<(), Violation> {
        let nodes = self.nodes.len();
        if nodes < 2 {
            return Ok(());
        }
        let to = (leader + 1 + (choice % (nodes as u64 - 1)) as usize) % nodes;
        let raft = &mut self.nodes[leader].raft;
        let term = raft.term();
        let refused = raft.transfer_leadership(NodeId(to as u64)).err();
        if refused.is_none() {
            self.counters.transfers += 1;
            self.transfer = Some((to, term));
        }
        let event = TraceEvent::TransferAsked { from: leader, to, refused: refused.as_ref() };
        self.recorder.record(self.now, event);
        self.settle(leader)
    }

    /// `node` crashes: it stops, and the saves it had not completed are lost
    /// with what waited on them.
    fn crash(&mut self, node: usize) {
        let member = &mut self.nodes[node];
        member.up = false;
        member.clock.generation += 1;
        let lost_saves = member.disk.lose_all();
        let incarnation = member.incarnation;
        self.stalled_until[node] = 0;
        self.counters.crashes += 1;
        self.counters.lost_saves += lost_saves as u64;
        self.client.forget(node, incarnation, Index(u64::MAX));
        self.reads.crashed(node);
        self.recorder.record(self.now, TraceEvent::Crash { node, lost_saves });
    }

    /// `node` restarts from what its disk holds, with an empty service.
    fn restart(&mut self, node: usize) -> Result<(), Violation> {
        let config =
            core_config(&self.config, &self.profile, self.protocol, node, &mut self.core_seeds);
        let member = &mut self.nodes[node];
        let state = member
            .persister
            .load()
            .map_err(|source| Violation::Persistence { node, source: Arc::new(source) })?;
        member.raft = Raft::new(config, state).map_err(|source| Violation::CoreRefused {
            node,
            what: "restart from its disk",
            source,
        })?;
        member.up = true;
        member.incarnation += 1;
        member.disk = Disk::default();
        member.service = Service::default();
        member.clock.generation += 1;
        let (generation, incarnation) = (member.clock.generation, member.incarnation);
        let first = self.now + self.clock_rng.gen_range(1..=member.clock.period);
        self.queue.schedule(first, Event::Tick { node, generation, count: 1 });
        self.checker.restarted(node, &self.nodes[node].raft);
        self.counters.restarts += 1;
        self.recorder.record(self.now, TraceEvent::Restart { node, incarnation });
        self.settle(node)
    }

    /// `node`'s ticks stop for `length` µs; then the missed ones come at once
    /// (at most [`MAX_BURST_TICKS`]).
    fn stall(&mut self, node: usize, length: u64) {
        let clock = &mut self.nodes[node].clock;
        clock.generation += 1;
        let count = (length / clock.period).clamp(1, MAX_BURST_TICKS) as u32;
        let generation = clock.generation;
        self.stalled_until[node] = self.now + length;
        self.queue.schedule(self.now + length, Event::Tick { node, generation, count });
        self.counters.clock_stalls += 1;
        self.recorder.record(self.now, TraceEvent::ClockStall { node, micros: length });
    }

    /// The faults stop: every link heals, the weather calms, clocks run
    /// again, every node comes back; the cluster must now converge.
    fn heal(&mut self) -> Result<(), Violation> {
        self.phase = Phase::Healing { since: self.now };
        self.network.heal();
        self.network.weather = self.profile.healed_weather;
        self.recorder.record(self.now, TraceEvent::FaultsEnd);
        for node in 0..self.nodes.len() {
            if !self.nodes[node].up {
                self.restart(node)?;
            } else if self.stalled_until[node] > self.now {
                let clock = &mut self.nodes[node].clock;
                clock.generation += 1;
                let (generation, next) = (clock.generation, self.now + clock.period);
                self.queue.schedule(next, Event::Tick { node, generation, count: 1 });
            }
            self.stalled_until[node] = 0;
        }
        self.queue.schedule(self.now + LIVENESS_CHECK_MICROS, Event::LivenessCheck);
        Ok(())
    }

    /// Whether the healed cluster has converged: one leader, which has
    /// committed its whole log, through an entry of its own term (the client
    /// proposes one if need be), and every node with that log, at that commit
    /// index, applied, with nothing left to do.
    fn check_liveness(&mut self) -> Result<(), Violation> {
        let Phase::Healing { since } = self.phase else { return Ok(()) };
        if let Some(leader) = self.leader() {
            let raft = &self.nodes[leader].raft;
            let (commit, term) = (raft.commit_index(), raft.term());
            if raft.log().term(commit) == Some(term) && raft.log().last_index() == commit {
                let caught_up = self.nodes.iter().all(|member| {
                    member.up
                        && member.raft.term() == term
                        && member.raft.commit_index() == commit
                        && member.raft.log().last_index() == commit
                        && member.service.applied == commit
                        && member.disk.queue.is_empty()
                        && !member.raft.has_ready()
                });
                if caught_up {
                    let waited = self.now - since;
                    self.converged_after = Some(waited);
                    self.recorder.record(self.now, TraceEvent::Converged { micros: waited });
                    self.checker.final_audit(&self.nodes, commit)?;
                    self.phase = Phase::Done;
                    return Ok(());
                }
            } else if raft.log().last_term() != term {
                // Raft §5.4.2: the earlier terms' entries commit only under
                // one of the leader's own.
                self.propose(leader, 1)?;
            }
        }
        if self.now - since > micros(self.config.healing_bound) {
            return Err(Violation::Liveness {
                bound: self.config.healing_bound,
                state: self.cluster_state(),
            });
        }
        self.queue.schedule(self.now + LIVENESS_CHECK_MICROS, Event::LivenessCheck);
        Ok(())
    }

    /// Each node's role, term, commit index and applied index, briefly.
    fn cluster_state(&self) -> String {
        let states: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(node, member)| {
                let status = member.raft.status();
                format!(
                    "n{node} {:?} term {} commit {} last {} applied {} snapshot {}",
                    status.role,
                    status.term,
                    status.commit_index,
                    status.last_index,
                    member.service.applied,
                    status.snapshot_index
                )
            })
            .collect();
        states.join("; ")
    }
}

fn wire(packet: &Packet) -> Wire<'_> {
    match packet {
        Packet::Request(request) => Wire::Request(request),
        Packet::Answer(response) => Wire::Answer(response),
    }
}

/// The core configuration of `node`, with a fresh seed for its election
/// jitter (a restarted node draws a new one).
fn core_config(
    config: &SimulationConfig,
    profile: &Profile,
    protocol: Protocol,
    node: usize,
    seeds: &mut SmallRng,
) -> Config {
    let peers = (0..config.nodes as u64).map(NodeId).collect();
    let mut core = Config::new(NodeId(node as u64), peers);
    core.seed = seeds.r#gen();
    core.max_bytes_per_append =
        config.max_bytes_per_append.unwrap_or(profile.core.max_bytes_per_append);
    core.max_inflight_appends =
        config.max_inflight_appends.unwrap_or(profile.core.max_inflight_appends);
    core.max_uncommitted_entries =
        config.max_uncommitted_entries.unwrap_or(profile.core.max_uncommitted_entries);
    core.pre_vote = protocol.pre_vote;
    core.check_quorum = protocol.check_quorum;
    core.noop_on_election = protocol.noop_on_election;
    core.lease_reads = protocol.lease_reads;
    #[cfg(feature = "planted-bugs")]
    {
        core.planted_bug = config.planted_bug;
    }
    core
}
