//! [`Network`]: the simulated links between nodes, and what happens to each
//! message on them (latency, loss, duplication, long delays, partitions).

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::sim::profile::Weather;
use crate::sim::schedule::PartitionKind;

/// The most copies of one message the network delivers.
pub(crate) const MAX_COPIES: usize = 3;

/// When each copy of a message arrives, as delays in µs from now; none when
/// the message is lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Copies {
    pub(crate) delays: [u64; MAX_COPIES],
    pub(crate) count: usize,
}

impl Copies {
    pub(crate) fn delays(&self) -> &[u64] {
        &self.delays[..self.count]
    }
}

/// The links between `nodes` nodes, each one way, and the weather on them.
///
/// Invariant: `links.len() == nodes * nodes`; a node always reaches itself.
#[derive(Debug)]
pub(crate) struct Network {
    nodes: usize,
    /// `links[from * nodes + to]`: whether messages from `from` reach `to`.
    links: Vec<bool>,
    pub(crate) weather: Weather,
    rng: SmallRng,
}

impl Network {
    pub(crate) fn new(nodes: usize, weather: Weather, rng: SmallRng) -> Network {
        Network { nodes, links: vec![true; nodes * nodes], weather, rng }
    }

    /// Whether a message from `from` reaches `to` now.
    pub(crate) fn connected(&self, from: usize, to: usize) -> bool {
        self.links[from * self.nodes + to]
    }

    /// Restores every link.
    pub(crate) fn heal(&mut self) {
        self.links.fill(true);
    }

    fn cut(&mut self, from: usize, to: usize) {
        if from != to {
            self.links[from * self.nodes + to] = false;
        }
    }

    /// Replaces the links with a partition of `kind`, laid out by `choice`;
    /// `leader` is the leader of the moment. Returns the groups for the trace.
    pub(crate) fn partition(
        &mut self,
        kind: PartitionKind,
        choice: u64,
        leader: Option<usize>,
    ) -> String {
        self.heal();
        let nodes = self.nodes;
        let mut layout = SmallRng::seed_from_u64(choice);
        let mut order: Vec<usize> = (0..nodes).collect();
        order.shuffle(&mut layout);
        match kind {
            PartitionKind::Symmetric => {
                // The low bit of the choice asks for a single node cut off.
                let size = if choice & 1 == 1 { 1 } else { layout.gen_range(1..nodes.max(2)) };
                let (one, other) = order.split_at(size.min(nodes));
                for &a in one {
                    for &b in other {
                        self.cut(a, b);
                        self.cut(b, a);
                    }
                }
                format!("{} | {}", names(one), names(other))
            }
            PartitionKind::OneWay => {
                let node = order[0];
                let deaf = layout.gen_bool(0.5);
                for other in 0..nodes {
                    if deaf {
                        self.cut(other, node);
                    } else {
                        self.cut(node, other);
                    }
                }
                if deaf {
                    format!("n{node} hears nothing but is heard")
                } else {
                    format!("n{node} hears all but is not heard")
                }
            }
            PartitionKind::LeaderIsolated => {
                let node = leader.unwrap_or(order[0]);
                for other in 0..nodes {
                    self.cut(node, other);
                    self.cut(other, node);
                }
                format!("n{node} isolated")
            }
            PartitionKind::Bridge => {
                let bridge = order[0];
                let rest = &order[1..];
                let (left, right) = rest.split_at(rest.len() / 2);
                for &a in left {
                    for &b in right {
                        self.cut(a, b);
                        self.cut(b, a);
                    }
                }
                format!("{} | n{bridge} (bridge) | {}", names(left), names(right))
            }
        }
    }

    /// What becomes of one message posted now: lost, or delivered once or
    /// more, each copy after its own delay. `snapshot` marks an
    /// InstallSnapshot, which takes longer to transfer.
    pub(crate) fn copies(&mut self, snapshot: bool) -> Copies {
        let weather = self.weather;
        let mut copies = Copies::default();
        if weather.drop > 0.0 && self.rng.gen_bool(weather.drop) {
            return copies;
        }
        copies.count = 1;
        while copies.count < MAX_COPIES
            && weather.duplicate > 0.0
            && self.rng.gen_bool(weather.duplicate)
        {
            copies.count += 1;
        }
        for position in 0..copies.count {
            let mut delay = self.rng.gen_range(weather.latency.0..=weather.latency.1);
            if snapshot {
                let (low, high) = weather.snapshot_transfer;
                delay += self.rng.gen_range(low..=high);
            }
            if weather.spike > 0.0 && self.rng.gen_bool(weather.spike) {
                delay += self.rng.gen_range(0..=weather.spike_max);
            }
            copies.delays[position] = delay;
        }
        copies
    }
}

fn names(nodes: &[usize]) -> String {
    let names: Vec<String> = nodes.iter().map(|node| format!("n{node}")).collect();
    format!("{{{}}}", names.join(" "))
}
