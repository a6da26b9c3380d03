//! [`Schedule`]: the faults of one run, drawn up front from the seed, so a
//! failing run's faults can be listed, filtered and shrunk.

use std::fmt;

use rand::Rng;
use rand::rngs::SmallRng;

use crate::sim::profile::FaultRates;

/// The shapes a partition takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartitionKind {
    /// Two groups that cannot reach each other, either way.
    Symmetric,
    /// One node's messages out are lost, or its messages in: it hears but
    /// is not heard, or the other way round.
    OneWay,
    /// The leader of the moment, cut off both ways.
    LeaderIsolated,
    /// Two halves that cannot reach each other, and one node that reaches
    /// both.
    Bridge,
}

/// Whom a fault strikes, resolved when it strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The leader of the moment (the one with the highest term), or else
    /// the node `choice` names.
    Leader { choice: u64 },
    /// The node `choice % nodes`.
    Node { choice: u64 },
}

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Replaces the network's links with a partition; `choice` seeds who
    /// ends up where.
    Partition { kind: PartitionKind, choice: u64 },
    /// Restores every link.
    Heal,
    /// A node crashes, losing what it had not saved.
    Crash { target: Target },
    /// The node that the crash at schedule position `crash` took down comes
    /// back (nothing, if that crash was filtered out or struck no one).
    Restart { crash: usize },
    /// A node's ticks stop for `micros`, then the missed ticks come at once.
    ClockStall { target: Target, micros: u64 },
    /// The leader of the moment is asked to hand its lead to another node
    /// (thesis §3.10): the one `choice` picks among the others.
    TransferLeadership { choice: u64 },
}

/// A fault and when it strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScheduledFault {
    /// Virtual µs since the start.
    pub(crate) at: u64,
    pub(crate) fault: Fault,
}

/// The faults of one run, in the order they strike.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub(crate) faults: Vec<ScheduledFault>,
}

impl Schedule {
    /// Draws the faults of a fault phase `length` µs long.
    pub(crate) fn draw(rates: &FaultRates, length: u64, rng: &mut SmallRng) -> Schedule {
        let mut faults = Vec::new();
        if rates.partition_every > 0 {
            let mut at = gap(rng, rates.partition_every);
            while at < length {
                let kind = if rates.single_node_partitions {
                    PartitionKind::Symmetric
                } else {
                    [
                        PartitionKind::Symmetric,
                        PartitionKind::OneWay,
                        PartitionKind::LeaderIsolated,
                        PartitionKind::Bridge,
                    ][rng.gen_range(0..4)]
                };
                // A single-node partition is a symmetric one whose choice
                // marks it as such (see Network::partition).
                let choice = rng.r#gen::<u64>() & !1 | u64::from(rates.single_node_partitions);
                faults.push(ScheduledFault { at, fault: Fault::Partition { kind, choice } });
                at += between(rng, rates.partition_length);
                faults.push(ScheduledFault { at, fault: Fault::Heal });
                at += gap(rng, rates.partition_every);
            }
        }
        if rates.crash_every > 0 {
            let mut at = gap(rng, rates.crash_every);
            while at < length {
                let choice = rng.r#gen();
                let target = if rng.gen_bool(rates.crash_leader) {
                    Target::Leader { choice }
                } else {
                    Target::Node { choice }
                };
                faults.push(ScheduledFault { at, fault: Fault::Crash { target } });
                // Patched to the crash's final position once sorted.
                let crash = faults.len() - 1;
                let back = at + between(rng, rates.downtime);
                faults.push(ScheduledFault { at: back, fault: Fault::Restart { crash } });
                at += gap(rng, rates.crash_every);
            }
        }
        if rates.stall_every > 0 {
            let mut at = gap(rng, rates.stall_every);
            while at < length {
                let target = Target::Node { choice: rng.r#gen() };
                let micros = between(rng, rates.stall_length);
                faults.push(ScheduledFault { at, fault: Fault::ClockStall { target, micros } });
                at += gap(rng, rates.stall_every);
            }
        }
        // Drawn last, so the faults above are what they were without them.
        if rates.transfer_every > 0 {
            let mut at = gap(rng, rates.transfer_every);
            while at < length {
                let choice = rng.r#gen();
                faults.push(ScheduledFault { at, fault: Fault::TransferLeadership { choice } });
                at += gap(rng, rates.transfer_every);
            }
        }
        // Sort by time (stably, so equal times keep their drawing order) and
        // renumber the restarts' crashes.
        let mut order: Vec<usize> = (0..faults.len()).collect();
        order.sort_by_key(|&position| faults[position].at);
        let mut new_position = vec![0; faults.len()];
        for (new, &old) in order.iter().enumerate() {
            new_position[old] = new;
        }
        let mut sorted: Vec<ScheduledFault> = order.iter().map(|&old| faults[old]).collect();
        for scheduled in &mut sorted {
            if let Fault::Restart { crash } = &mut scheduled.fault {
                *crash = new_position[*crash];
            }
        }
        Schedule { faults: sorted }
    }
}

/// A gap of `mean` µs on average, from half to one and a half of it.
fn gap(rng: &mut SmallRng, mean: u64) -> u64 {
    rng.gen_range(mean / 2..=mean + mean / 2)
}

fn between(rng: &mut SmallRng, (low, high): (u64, u64)) -> u64 {
    rng.gen_range(low..=high)
}

impl fmt::Display for PartitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartitionKind::Symmetric => "symmetric",
            PartitionKind::OneWay => "one-way",
            PartitionKind::LeaderIsolated => "leader isolated",
            PartitionKind::Bridge => "bridge",
        })
    }
}
