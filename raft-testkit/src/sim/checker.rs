//! [`Checker`]: Raft's safety properties, checked incrementally after every
//! step of a run, over everything every node has shown since the start.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

use raft_core::{Bytes, Index, NodeId, Raft, Role, Term};
use raft_persist::Update;

use crate::sim::Violation;
use crate::sim::node::SimNode;

/// An entry known committed.
#[derive(Clone, Copy, Debug)]
struct Committed {
    term: Term,
    /// The earliest term in which a node showed it committed: every leader of
    /// a later term must hold it (Raft §5.4.1).
    known_in: Term,
}

/// What one (index, term) pair was first seen holding: its data, and the
/// term of the entry before it. Raft creates an (index, term) pair once (one
/// leader per term, which never overwrites its own log), so every log that
/// holds the pair must agree on both; by induction that is Log Matching.
#[derive(Clone, Debug)]
struct EntryRecord {
    term: Term,
    previous_term: Term,
    data: Bytes,
}

/// What the services showed at one index: the command applied there and
/// the digest of every command through it.
#[derive(Clone, Debug, Default)]
struct AppliedRecord {
    data: Option<Bytes>,
    digest: Option<u64>,
}

/// What the checker last saw of one node, in its current incarnation.
#[derive(Clone, Copy, Debug)]
struct Observed {
    role: Role,
    term: Term,
    leader: Option<NodeId>,
    commit: Index,
    /// The log has been checked against the entry records through here.
    verified_through: Index,
    /// The term in which it was last seen leading and checked as a leader.
    led: Option<Term>,
}

/// A change in what a node shows, for the trace.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StateChange {
    pub(crate) role: Role,
    pub(crate) term: Term,
    pub(crate) leader: Option<NodeId>,
    pub(crate) commit: Index,
}

/// The history a run's checks compare against, over all nodes and all time.
#[derive(Debug)]
pub(crate) struct Checker {
    /// Every leader seen, by term (Election Safety).
    leaders: BTreeMap<Term, usize>,
    /// By index; index 0 unused.
    committed: Vec<Option<Committed>>,
    /// By index: the (index, term) pairs seen in any log.
    entries: Vec<Vec<EntryRecord>>,
    /// By index: what the services applied.
    applied: Vec<AppliedRecord>,
    /// By index: the commands the client was told had committed.
    acknowledged: BTreeMap<Index, Bytes>,
    observed: Vec<Observed>,
}

fn slot<T: Default>(items: &mut Vec<T>, index: Index) -> &mut T {
    let position = index.0 as usize;
    if items.len() <= position {
        items.resize_with(position + 1, T::default);
    }
    &mut items[position]
}

impl Checker {
    pub(crate) fn new(nodes: &[SimNode]) -> Checker {
        let mut checker = Checker {
            leaders: BTreeMap::new(),
            committed: Vec::new(),
            entries: Vec::new(),
            applied: Vec::new(),
            acknowledged: BTreeMap::new(),
            observed: Vec::new(),
        };
        for node in nodes {
            checker.observed.push(Checker::fresh(&node.raft));
        }
        checker
    }

    fn fresh(raft: &Raft) -> Observed {
        Observed {
            role: raft.role(),
            term: raft.term(),
            leader: raft.leader(),
            commit: raft.commit_index(),
            verified_through: Index(0),
            led: None,
        }
    }

    /// Node `node` restarted: a new incarnation, whose log comes from disk
    /// and is checked whole at the next step.
    pub(crate) fn restarted(&mut self, node: usize, raft: &Raft) {
        self.observed[node] = Checker::fresh(raft);
    }

    /// Node `node` produced `update`, in `role` and `term`: a leader never
    /// truncates its own log, and the changed part of the log is checked
    /// again at the next step.
    pub(crate) fn updated(
        &mut self,
        node: usize,
        role: Role,
        term: Term,
        update: &Update,
    ) -> Result<(), Violation> {
        let observed = &mut self.observed[node];
        if let Some(from) = update.truncate_from {
            if role == Role::Leader && observed.led == Some(term) {
                return Err(Violation::LeaderTruncated { leader: node, term, from });
            }
            observed.verified_through = observed.verified_through.min(Index(from.0 - 1));
        }
        if let Some(first) = update.append.first() {
            observed.verified_through = observed.verified_through.min(Index(first.index.0 - 1));
        }
        if let Some(snapshot) = &update.snapshot {
            observed.verified_through = observed.verified_through.min(snapshot.index);
        }
        Ok(())
    }

    /// The checks after a step that touched `node`. Returns what changed in
    /// the node's role, term, leader or commit index, if anything did.
    pub(crate) fn check(
        &mut self,
        node: usize,
        nodes: &[SimNode],
    ) -> Result<Option<StateChange>, Violation> {
        let member = &nodes[node];
        if !member.up {
            return Ok(None);
        }
        let raft = &member.raft;
        let (role, term, leader, commit) =
            (raft.role(), raft.term(), raft.leader(), raft.commit_index());
        let before = self.observed[node];

        // Election Safety, and Leader Completeness for a new leader.
        if role == Role::Leader && before.led != Some(term) {
            match self.leaders.entry(term) {
                MapEntry::Vacant(vacant) => {
                    vacant.insert(node);
                }
                MapEntry::Occupied(occupied) if *occupied.get() != node => {
                    let first = *occupied.get();
                    return Err(Violation::ElectionSafety { term, first, second: node });
                }
                MapEntry::Occupied(_) => {}
            }
            self.observed[node].led = Some(term);
            self.check_leader_holds_everything_committed(node, raft)?;
        }

        // The commit index only grows; what it passes is known committed.
        if commit < before.commit {
            return Err(Violation::CommitIndexDecreased { node, from: before.commit, to: commit });
        }
        if commit > before.commit {
            let log = raft.log();
            let mut index = before.commit.next();
            while index <= commit {
                if let Some(entry_term) = log.term(index) {
                    self.record_committed(node, index, entry_term, term, nodes)?;
                }
                index = index.next();
            }
        }

        // Log Matching over the part of the log not checked yet.
        self.verify_log(node, raft)?;

        let observed = &mut self.observed[node];
        observed.commit = commit;
        let changed = (role, term, leader, commit)
            != (before.role, before.term, before.leader, before.commit);
        observed.role = role;
        observed.term = term;
        observed.leader = leader;
        Ok(changed.then_some(StateChange { role, term, leader, commit }))
    }

    /// Checks node `node`'s log from where it was last verified to its end.
    fn verify_log(&mut self, node: usize, raft: &Raft) -> Result<(), Violation> {
        let log = raft.log();
        let last = log.last_index();
        let observed = &mut self.observed[node];
        let mut index = observed.verified_through.max(log.base_index()).next();
        observed.verified_through = last;
        while index <= last {
            let Some(entry) = log.entry(index) else { break };
            let previous_term = log.term(Index(index.0 - 1)).unwrap_or_default();
            let records = slot(&mut self.entries, index);
            match records.iter().find(|record| record.term == entry.term) {
                Some(record) if record.previous_term != previous_term => {
                    return Err(Violation::LogMatching {
                        node,
                        index,
                        term: entry.term,
                        what: "another entry before it",
                    });
                }
                Some(record) if record.data != entry.data => {
                    return Err(Violation::LogMatching {
                        node,
                        index,
                        term: entry.term,
                        what: "other data",
                    });
                }
                Some(_) => {}
                None => records.push(EntryRecord {
                    term: entry.term,
                    previous_term,
                    data: entry.data.clone(),
                }),
            }
            index = index.next();
        }
        Ok(())
    }

    /// `node`, in `known_in`, shows (`index`, `term`) committed.
    fn record_committed(
        &mut self,
        node: usize,
        index: Index,
        term: Term,
        known_in: Term,
        nodes: &[SimNode],
    ) -> Result<(), Violation> {
        let record = slot(&mut self.committed, index);
        match record {
            Some(known) if known.term != term => {
                return Err(Violation::CommittedEntriesDiffer {
                    node,
                    index,
                    term,
                    other_term: known.term,
                });
            }
            Some(known) if known.known_in <= known_in => return Ok(()),
            Some(known) => known.known_in = known_in,
            None => *record = Some(Committed { term, known_in }),
        }
        // Every leader of a later term, now, must hold it.
        for (leader, member) in nodes.iter().enumerate() {
            let raft = &member.raft;
            if member.up && raft.role() == Role::Leader && raft.term() > known_in {
                check_holds(leader, raft, index, Committed { term, known_in })?;
            }
        }
        Ok(())
    }

    /// Leader Completeness for a leader new in its term: it holds every entry
    /// known committed in an earlier term.
    fn check_leader_holds_everything_committed(
        &self,
        leader: usize,
        raft: &Raft,
    ) -> Result<(), Violation> {
        let term = raft.term();
        let start = raft.log().base_index().0 as usize;
        for (position, known) in self.committed.iter().enumerate().skip(start) {
            if let Some(known) = known
                && known.known_in < term
            {
                check_holds(leader, raft, Index(position as u64), *known)?;
            }
        }
        Ok(())
    }

    /// A service applied `data` at `index`, reaching `digest`.
    pub(crate) fn applied_command(
        &mut self,
        node: usize,
        index: Index,
        data: &Bytes,
        digest: u64,
    ) -> Result<(), Violation> {
        if let Some(acknowledged) = self.acknowledged.get(&index)
            && acknowledged != data
        {
            return Err(Violation::AcknowledgedWriteLost {
                index,
                how: format!("was applied with other bytes by node {node}"),
            });
        }
        let record = slot(&mut self.applied, index);
        match &record.data {
            Some(other) if other != data => {
                return Err(Violation::StateMachineSafety { node, index, what: "command" });
            }
            Some(_) => {}
            None => record.data = Some(data.clone()),
        }
        record_digest(record, node, index, digest)
    }

    /// A service installed a snapshot through `index` holding `digest`.
    pub(crate) fn installed_snapshot(
        &mut self,
        node: usize,
        index: Index,
        digest: u64,
    ) -> Result<(), Violation> {
        record_digest(slot(&mut self.applied, index), node, index, digest)
    }

    /// The client was told that `data` committed at `index`.
    pub(crate) fn acknowledge(&mut self, index: Index, data: &Bytes) {
        self.acknowledged.insert(index, data.clone());
    }

    /// The highest index the client was told had committed.
    pub(crate) fn last_acknowledged(&self) -> Index {
        self.acknowledged.keys().next_back().copied().unwrap_or_default()
    }

    /// The highest index through `index` at which a service applied a
    /// client's command (not a leader's no-op, which applies as an empty
    /// command), or 0. An index no service applied counts as a command: it
    /// cannot be, since some service applied every index before any reached
    /// past it.
    pub(crate) fn last_command_through(&self, index: Index) -> Index {
        let mut position = index.0 as usize;
        if position >= self.applied.len() {
            return index;
        }
        while position > 0 {
            match &self.applied[position].data {
                Some(data) if data.is_empty() => position -= 1,
                _ => return Index(position as u64),
            }
        }
        Index(0)
    }

    /// Once the healed cluster converged at `commit`: every log checked whole
    /// again, every service at `commit` with one state, and every
    /// acknowledged write within it.
    pub(crate) fn final_audit(
        &mut self,
        nodes: &[SimNode],
        commit: Index,
    ) -> Result<(), Violation> {
        for (node, member) in nodes.iter().enumerate() {
            self.observed[node].verified_through = Index(0);
            self.verify_log(node, &member.raft)?;
            let service = member.service;
            let digest = self.applied.get(commit.0 as usize).and_then(|record| record.digest);
            if service.applied != commit || (commit > Index(0) && digest != Some(service.digest)) {
                return Err(Violation::StateMachineSafety { node, index: commit, what: "state" });
            }
        }
        let last = self.last_acknowledged();
        if last > commit {
            return Err(Violation::AcknowledgedWriteLost {
                index: last,
                how: format!("is past the final commit index {commit}"),
            });
        }
        Ok(())
    }
}

fn record_digest(
    record: &mut AppliedRecord,
    node: usize,
    index: Index,
    digest: u64,
) -> Result<(), Violation> {
    match record.digest {
        Some(other) if other != digest => {
            Err(Violation::StateMachineSafety { node, index, what: "state" })
        }
        Some(_) => Ok(()),
        None => {
            record.digest = Some(digest);
            Ok(())
        }
    }
}

/// Whether leader `leader` holds the committed entry at `index`: in its log
/// with the same term, or covered by its snapshot.
fn check_holds(
    leader: usize,
    raft: &Raft,
    index: Index,
    known: Committed,
) -> Result<(), Violation> {
    let log = raft.log();
    if index < log.base_index() {
        return Ok(());
    }
    let found = log.term(index);
    if found == Some(known.term) {
        return Ok(());
    }
    Err(Violation::LeaderCompleteness {
        leader,
        term: raft.term(),
        index,
        committed_term: known.term,
        known_in: known.known_in,
        found,
    })
}
