//! [`Profile`]: the settings one seed draws from its fault mix: network,
//! disks, clocks, fault rates, workload and the core's tunables.

use rand::Rng;
use rand::rngs::SmallRng;

use crate::sim::{FaultMix, SimulationConfig};

/// Microseconds in a millisecond.
const MS: u64 = 1_000;

/// How the network carries each message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Weather {
    /// The usual one-way latency, drawn uniformly from `[min, max]`, in µs.
    pub(crate) latency: (u64, u64),
    /// The chance that a message is lost.
    pub(crate) drop: f64,
    /// The chance that a message is sent twice (and, again, three times).
    pub(crate) duplicate: f64,
    /// The chance that a message is held back up to `spike_max` µs more.
    pub(crate) spike: f64,
    pub(crate) spike_max: u64,
    /// The extra time an InstallSnapshot takes to transfer, `[min, max]` µs.
    pub(crate) snapshot_transfer: (u64, u64),
}

/// How long each save takes on one disk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct DiskSpeed {
    /// The usual time of a save, `[min, max]` µs.
    pub(crate) latency: (u64, u64),
    /// The chance of a slow save (an fsync stall), up to `spike_max` µs.
    pub(crate) spike: f64,
    pub(crate) spike_max: u64,
}

/// How often each kind of fault strikes during the fault phase, and for how
/// long. A rate of 0 turns the kind off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct FaultRates {
    /// Mean µs between partitions (0: none), and how long each lasts.
    pub(crate) partition_every: u64,
    pub(crate) partition_length: (u64, u64),
    /// Whether partitions only ever cut one node off (both ways).
    pub(crate) single_node_partitions: bool,
    /// Mean µs between crashes (0: none), and how long a node stays down.
    pub(crate) crash_every: u64,
    pub(crate) downtime: (u64, u64),
    /// The share of crashes aimed at the leader.
    pub(crate) crash_leader: f64,
    /// Mean µs between clock stalls (0: none), and their length.
    pub(crate) stall_every: u64,
    pub(crate) stall_length: (u64, u64),
    /// Mean µs between requests that the leader hand its lead to another
    /// node (0: none).
    pub(crate) transfer_every: u64,
}

/// What the client and the services do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Workload {
    /// Mean µs between client proposals.
    pub(crate) proposal_every: u64,
    /// The chance that a proposal is a burst of several commands.
    pub(crate) burst: f64,
    /// A service snapshots once it has applied this many commands past its
    /// last snapshot (0: never).
    pub(crate) snapshot_every: u64,
    /// Mean µs between client reads.
    pub(crate) read_every: u64,
    /// The chance that a read goes to a random node rather than to the one
    /// the client believes leads (a follower read, forwarded to the leader).
    pub(crate) read_anywhere: f64,
}

/// The protocol extensions every core of one run uses (the same on every
/// node: a cluster agrees on them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Protocol {
    pub(crate) pre_vote: bool,
    pub(crate) check_quorum: bool,
    pub(crate) noop_on_election: bool,
    /// Only with `check_quorum`.
    pub(crate) lease_reads: bool,
}

/// The core's tunables, shrunk on some seeds to exercise the pipeline's
/// bounds (one-entry batches, a one-message window, backpressure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CoreTuning {
    pub(crate) max_bytes_per_append: u64,
    pub(crate) max_inflight_appends: usize,
    pub(crate) max_uncommitted_entries: u64,
}

/// Everything one seed draws from its mix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Profile {
    pub(crate) weather: Weather,
    /// The weather once the faults stop: no loss, no duplicates, no spikes,
    /// light jitter; snapshots transfer as slowly as before.
    pub(crate) healed_weather: Weather,
    /// How long a call waits for an answer before it fails, in µs.
    pub(crate) call_timeout: u64,
    pub(crate) disk: DiskSpeed,
    /// The most a node's tick period strays from 10 ms, as a fraction.
    pub(crate) tick_skew: f64,
    pub(crate) faults: FaultRates,
    pub(crate) workload: Workload,
    pub(crate) core: CoreTuning,
    /// What the seed drew; the configuration's overrides apply on top
    /// ([`Profile::protocol_for`]).
    pub(crate) protocol: Protocol,
}

fn pick<T: Copy>(rng: &mut SmallRng, choices: &[T]) -> T {
    choices[rng.gen_range(0..choices.len())]
}

impl Profile {
    /// Draws a profile from `mix`.
    pub(crate) fn draw(mix: FaultMix, rng: &mut SmallRng) -> Profile {
        let mut weather = Weather {
            latency: (MS, 15 * MS),
            drop: 0.0,
            duplicate: 0.0,
            spike: 0.0,
            spike_max: 0,
            snapshot_transfer: (5 * MS, 40 * MS),
        };
        let mut disk = DiskSpeed { latency: (200, 4 * MS), spike: 0.02, spike_max: 60 * MS };
        let mut faults = FaultRates {
            partition_every: 0,
            partition_length: (200 * MS, 2_000 * MS),
            single_node_partitions: false,
            crash_every: 0,
            downtime: (100 * MS, 2_000 * MS),
            crash_leader: 0.4,
            stall_every: 0,
            stall_length: (50 * MS, 1_500 * MS),
            transfer_every: 0,
        };
        let mut workload = Workload {
            proposal_every: pick(rng, &[10 * MS, 20 * MS, 40 * MS]),
            burst: 0.05,
            snapshot_every: pick(rng, &[0, 25, 100]),
            // Drawn last, below, so the draws above stay what they were.
            read_every: 0,
            read_anywhere: 0.0,
        };
        let mut call_timeout = 250 * MS;
        let mut tick_skew = 0.02;
        let light_loss = |weather: &mut Weather| {
            weather.drop = 0.02;
            weather.duplicate = 0.02;
            weather.spike = 0.02;
            weather.spike_max = 200 * MS;
        };
        match mix {
            FaultMix::Calm => {}
            FaultMix::Lossy => {
                weather.drop = pick(rng, &[0.05, 0.15, 0.3]);
                weather.duplicate = pick(rng, &[0.02, 0.1, 0.25]);
                weather.spike = pick(rng, &[0.05, 0.2]);
                weather.spike_max = 300 * MS;
            }
            FaultMix::Partitions => {
                light_loss(&mut weather);
                faults.partition_every = pick(rng, &[700 * MS, 1_500 * MS]);
            }
            FaultMix::Crashes => {
                light_loss(&mut weather);
                faults.crash_every = pick(rng, &[700 * MS, 1_500 * MS]);
                disk = DiskSpeed { latency: (500, 10 * MS), spike: 0.05, spike_max: 100 * MS };
            }
            FaultMix::Clocks => {
                light_loss(&mut weather);
                tick_skew = 0.1;
                faults.stall_every = pick(rng, &[500 * MS, 1_000 * MS]);
            }
            FaultMix::Snapshots => {
                weather.drop = 0.02;
                weather.duplicate = 0.05;
                weather.snapshot_transfer = (500 * MS, 1_500 * MS);
                call_timeout = 3_000 * MS;
                workload.snapshot_every = pick(rng, &[5, 10, 20]);
                faults.partition_every = 1_500 * MS;
                faults.partition_length = (300 * MS, 2_500 * MS);
                faults.single_node_partitions = true;
                faults.crash_every = 2_000 * MS;
            }
            FaultMix::Chaos => {
                weather.drop = pick(rng, &[0.02, 0.1]);
                weather.duplicate = pick(rng, &[0.02, 0.1]);
                weather.spike = 0.05;
                weather.spike_max = 300 * MS;
                weather.snapshot_transfer = pick(rng, &[(5 * MS, 40 * MS), (300 * MS, 1_200 * MS)]);
                call_timeout = pick(rng, &[250 * MS, 2_000 * MS]);
                workload.snapshot_every = pick(rng, &[10, 30, 100]);
                faults.partition_every = pick(rng, &[1_000 * MS, 2_000 * MS]);
                faults.crash_every = pick(rng, &[1_000 * MS, 2_000 * MS]);
                faults.stall_every = pick(rng, &[1_500 * MS, 3_000 * MS]);
                disk.spike = 0.05;
                tick_skew = 0.05;
            }
        }
        // Batches of one entry only with small windows: under reordering a
        // window of one-entry appends amplifies traffic with its size (see
        // SIMULATOR.md), which the configuration's overrides can still ask for.
        let (max_bytes_per_append, max_inflight_appends) = pick(
            rng,
            &[
                (64, 1),
                (64, 4),
                (512, 4),
                (512, raft_core::DEFAULT_MAX_INFLIGHT_APPENDS),
                (raft_core::DEFAULT_MAX_BYTES_PER_APPEND, 1),
                (raft_core::DEFAULT_MAX_BYTES_PER_APPEND, raft_core::DEFAULT_MAX_INFLIGHT_APPENDS),
            ],
        );
        let core = CoreTuning {
            max_bytes_per_append,
            max_inflight_appends,
            max_uncommitted_entries: raft_core::DEFAULT_MAX_UNCOMMITTED_ENTRIES,
        };
        let healed_weather = Weather {
            latency: (MS, 5 * MS),
            drop: 0.0,
            duplicate: 0.0,
            spike: 0.0,
            spike_max: 0,
            snapshot_transfer: weather.snapshot_transfer,
        };
        // Drawn after everything else, so that the settings above are what
        // they were before reads, transfers and the extensions' switches.
        workload.read_every = pick(rng, &[20 * MS, 50 * MS, 100 * MS]);
        workload.read_anywhere = 0.25;
        faults.transfer_every = match mix {
            FaultMix::Lossy | FaultMix::Partitions | FaultMix::Clocks => 2_000 * MS,
            FaultMix::Chaos => pick(rng, &[1_500 * MS, 3_000 * MS]),
            FaultMix::Calm | FaultMix::Crashes | FaultMix::Snapshots => 0,
        };
        // Each extension is on for three seeds in four, as it is on by
        // default in the core; a lease for half the seeds with CheckQuorum.
        let pre_vote = rng.gen_bool(0.75);
        let check_quorum = rng.gen_bool(0.75);
        let noop_on_election = rng.gen_bool(0.75);
        let lease_reads = rng.gen_bool(0.5) && check_quorum;
        let protocol = Protocol { pre_vote, check_quorum, noop_on_election, lease_reads };
        Profile {
            weather,
            healed_weather,
            call_timeout,
            disk,
            tick_skew,
            faults,
            workload,
            core,
            protocol,
        }
    }

    /// The extensions a run uses: what the seed drew, overridden by
    /// `config`'s settings. A lease asked for turns CheckQuorum on unless the
    /// configuration turns it off (which [`SimulationConfig::validate`]
    /// refuses).
    pub(crate) fn protocol_for(&self, config: &SimulationConfig) -> Protocol {
        let drawn = self.protocol;
        let lease_reads = config.lease_reads.unwrap_or(drawn.lease_reads);
        let check_quorum = config.check_quorum.unwrap_or(drawn.check_quorum || lease_reads);
        Protocol {
            pre_vote: config.pre_vote.unwrap_or(drawn.pre_vote),
            check_quorum,
            noop_on_election: config.noop_on_election.unwrap_or(drawn.noop_on_election),
            lease_reads: lease_reads && check_quorum,
        }
    }
}
