//! [`Client`]: the simulated client. It proposes commands at a steady rate
//! to the node it believes leads, keeps a bounded number of them waiting, and
//! learns which ones committed; and it reads, through ReadIndex, from that
//! node or from any other.

use std::collections::{BTreeMap, VecDeque};

use raft_core::{Bytes, Index, Term};
use rand::Rng;
use rand::rngs::SmallRng;

/// What the client asks of the cluster.
///
/// A read asks a node's core for a read index ([`raft_core::Raft::read_index`])
/// and, once the index comes, reads the node's service when it has applied
/// through it; the read is checked against the acknowledged writes (it must
/// see every write acknowledged before it began) and the reads served before
/// it (`src/sim/reads.rs`). A leadership transfer is not the client's: it is
/// a fault of the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientRequest {
    /// Propose `count` new commands at once.
    Propose { count: usize },
    /// A linearizable read of `node`'s service.
    Read { node: ReadTarget },
}

/// The node a read goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadTarget {
    /// The node the client believes leads (its proposals' target).
    BelievedLeader,
    /// This node, drawn at random: mostly a follower, whose core forwards
    /// the read to the leader.
    Node(usize),
}

/// The most proposals the client keeps waiting at once: past it, it waits
/// before proposing more, as a client with a bounded pipeline does, so a slow
/// cluster is not buried under a backlog it could never drain in the healing
/// phase's bound.
pub(crate) const MAX_WAITING: usize = 32;

/// How long the client waits for a proposal before giving up on it (its
/// outcome is then unknown: it may still commit, unacknowledged), in µs.
pub(crate) const PROPOSAL_TIMEOUT: u64 = 1_000_000;

/// Where a proposal was appended: node, incarnation, index.
type Place = (usize, u32, Index);

/// A proposal appended at a node and not yet resolved.
#[derive(Clone, Debug)]
struct Pending {
    term: Term,
    data: Bytes,
}

/// The client: its random choices, the node it will try next, and the
/// proposals it is waiting on, by node, incarnation and index.
#[derive(Debug)]
pub(crate) struct Client {
    rng: SmallRng,
    /// The reads' choices, a stream of their own, so that reading leaves the
    /// proposals' choices alone.
    read_rng: SmallRng,
    /// The node the client will send its next proposal to.
    pub(crate) target: usize,
    next_command: u64,
    pending: BTreeMap<Place, Pending>,
    /// When each proposal was appended, oldest first (resolved ones too,
    /// until they come to the front).
    appended_at: VecDeque<(u64, Place)>,
}

impl Client {
    pub(crate) fn new(rng: SmallRng, read_rng: SmallRng) -> Client {
        Client {
            rng,
            read_rng,
            target: 0,
            next_command: 0,
            pending: BTreeMap::new(),
            appended_at: VecDeque::new(),
        }
    }

    /// Whether the client may propose at `now`: it gives up on the proposals
    /// older than [`PROPOSAL_TIMEOUT`], then proposes only while fewer than
    /// [`MAX_WAITING`] wait.
    pub(crate) fn may_propose(&mut self, now: u64) -> bool {
        while let Some(&(at, place)) = self.appended_at.front() {
            if at + PROPOSAL_TIMEOUT > now {
                break;
            }
            self.pending.remove(&place);
            self.appended_at.pop_front();
        }
        self.pending.len() < MAX_WAITING
    }

    /// How long until the client's next request, given a mean of `mean` µs.
    pub(crate) fn next_gap(&mut self, mean: u64) -> u64 {
        self.rng.gen_range(1..=2 * mean.max(1))
    }

    /// The client's next request.
    pub(crate) fn next_request(&mut self, burst: f64) -> ClientRequest {
        let count =
            if burst > 0.0 && self.rng.gen_bool(burst) { self.rng.gen_range(2..=12) } else { 1 };
        ClientRequest::Propose { count }
    }

    /// How long until the client's next read, given a mean of `mean` µs.
    pub(crate) fn next_read_gap(&mut self, mean: u64) -> u64 {
        self.read_rng.gen_range(1..=2 * mean.max(1))
    }

    /// The client's next read: to the node it believes leads, or with
    /// chance `anywhere` to any of the `nodes`.
    pub(crate) fn next_read(&mut self, anywhere: f64, nodes: usize) -> ClientRequest {
        let node = if self.read_rng.gen_bool(anywhere) {
            ReadTarget::Node(self.read_rng.gen_range(0..nodes))
        } else {
            ReadTarget::BelievedLeader
        };
        ClientRequest::Read { node }
    }

    /// A new, unique command: its number, then 0 to 32 bytes of padding (so
    /// that one always fits in the smallest batch the profiles draw, 64
    /// bytes with the entry's overhead).
    pub(crate) fn new_command(&mut self) -> Bytes {
        self.next_command += 1;
        let padding = self.rng.gen_range(0..=32);
        let mut data = Vec::with_capacity(8 + padding);
        data.extend_from_slice(&self.next_command.to_le_bytes());
        data.resize(8 + padding, 0xA5);
        Bytes::from(data)
    }

    /// After a refusal, the node to try next: the hint, or any other.
    pub(crate) fn redirect(&mut self, hint: Option<usize>, nodes: usize) {
        self.target = match hint {
            Some(node) if node != self.target => node,
            _ => (self.target + self.rng.gen_range(1..nodes.max(2))) % nodes,
        };
    }

    /// `data` was appended at (`index`, `term`) on `node`'s incarnation, at
    /// `now`.
    pub(crate) fn appended(
        &mut self,
        now: u64,
        (node, incarnation): (usize, u32),
        index: Index,
        term: Term,
        data: Bytes,
    ) {
        let place = (node, incarnation, index);
        self.pending.insert(place, Pending { term, data });
        self.appended_at.push_back((now, place));
    }

    /// `node`'s incarnation applied (`index`, `term`, `data`): if it was the
    /// client's proposal there, the client learns it committed. Returns the
    /// command when it did.
    pub(crate) fn resolve(
        &mut self,
        node: usize,
        incarnation: u32,
        index: Index,
        term: Term,
        data: &Bytes,
    ) -> Option<Bytes> {
        let pending = self.pending.remove(&(node, incarnation, index))?;
        (pending.term == term && pending.data == *data).then_some(pending.data)
    }

    /// `node`'s incarnation is gone, or skipped past `through` with a
    /// snapshot: its proposals there have no known outcome.
    pub(crate) fn forget(&mut self, node: usize, incarnation: u32, through: Index) {
        self.pending.retain(|&(pending_node, pending_incarnation, index), _| {
            !(pending_node == node && pending_incarnation == incarnation && index <= through)
        });
    }
}
