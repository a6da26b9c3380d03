//! A randomised safety check of the core: five nodes under seeded schedules of
//! ticks, proposals, message loss and reordering, partitions, crashes with
//! restarts from the persisted state, and service snapshots. After every step
//! it checks Raft's safety properties (§5.2 election safety, §5.4.3 state
//! machine safety); at the end it heals the cluster and checks that every
//! node converges on the same applied commands.

use std::collections::BTreeMap;

use quickcheck::{QuickCheck, TestResult};
use raft_log::{Index, NodeId, Term};
use raft_persist::{MemPersister, Persister};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::new_test_config;
use crate::raft::Raft;
use crate::{Applied, Outgoing, Request, Role, Sent};

const SIZE: u64 = 5;

/// One node with its durable state and the service above it.
struct Member {
    raft: Raft,
    persister: MemPersister,
    /// The service's state machine: the commands applied, index 1 first.
    service: Vec<Vec<u8>>,
    up: bool,
}

struct World {
    rng: SmallRng,
    members: Vec<Member>,
    /// Messages in flight: (from, to, request).
    in_flight: Vec<(NodeId, NodeId, Request)>,
    /// Which side of a partition each node is on.
    side: Vec<u8>,
    /// Every leader seen, by term (election safety).
    leaders: BTreeMap<Term, NodeId>,
    /// Every command any service applied, by index (state machine safety).
    applied: BTreeMap<Index, Vec<u8>>,
    next_command: u32,
}

impl World {
    fn new(seed: u64) -> World {
        let members = (0..SIZE)
            .map(|id| {
                let persister = MemPersister::new();
                let config = new_test_config(id, SIZE);
                let raft = Raft::new(config, persister.load().unwrap()).unwrap();
                Member { raft, persister, service: Vec::new(), up: true }
            })
            .collect();
        World {
            rng: SmallRng::seed_from_u64(seed),
            members,
            in_flight: Vec::new(),
            side: vec![0; SIZE as usize],
            leaders: BTreeMap::new(),
            applied: BTreeMap::new(),
            next_command: 0,
        }
    }

    /// Carries out each member's Ready: save, then send, then apply.
    fn collect(&mut self) -> Result<(), String> {
        for id in 0..self.members.len() {
            let member = &mut self.members[id];
            if !member.up {
                continue;
            }
            let ready = member.raft.ready();
            member.persister.save(&ready.update).map_err(|error| error.to_string())?;
            if let Some((index, term)) = ready.persisted() {
                member.raft.on_persisted(index, term);
            }
            for message in ready.messages.into_iter().chain(ready.persisted_messages) {
                if let Outgoing::Request { to, request } = message {
                    self.in_flight.push((NodeId(id as u64), to, request));
                }
            }
            for item in ready.committed {
                match item {
                    Applied::Command { index, data, .. } => {
                        if index.0 != member.service.len() as u64 + 1 {
                            return Err(format!("node {id} applied {index} out of order"));
                        }
                        let data = data.to_vec();
                        if self.applied.get(&index).is_some_and(|other| *other != data) {
                            return Err(format!("two commands applied at index {index}"));
                        }
                        self.applied.insert(index, data.clone());
                        member.service.push(data);
                    }
                    Applied::Snapshot { index, data, .. } => {
                        if index.0 < member.service.len() as u64 {
                            return Err(format!("node {id} moved back to snapshot {index}"));
                        }
                        member.service = postcard::from_bytes(&data).map_err(|e| e.to_string())?;
                    }
                }
            }
            let status = member.raft.status();
            if status.role == Role::Leader {
                let leader = *self.leaders.entry(status.term).or_insert(status.id);
                if leader != status.id {
                    return Err(format!("two leaders in term {}", status.term));
                }
            }
        }
        Ok(())
    }

    fn connected(&self, from: NodeId, to: NodeId) -> bool {
        let (from, to) = (from.0 as usize, to.0 as usize);
        self.members[from].up && self.members[to].up && self.side[from] == self.side[to]
    }

    /// Delivers one message in flight, chosen at random; some are lost, and
    /// their requester hears that the call failed, as a transport tells it.
    fn deliver_one(&mut self, loss: f64) -> Result<(), String> {
        if self.in_flight.is_empty() {
            return Ok(());
        }
        let position = self.rng.gen_range(0..self.in_flight.len());
        let (from, to, request) = self.in_flight.swap_remove(position);
        let sent = Sent::of(&request);
        if !self.connected(from, to) || self.rng.gen_bool(loss) {
            self.fail(from, to, sent);
            return self.collect();
        }
        let response = self.members[to.0 as usize].raft.handle_request(request);
        self.collect()?; // the answer leaves only after the receiver saved
        if self.connected(to, from) && !self.rng.gen_bool(loss) {
            self.members[from.0 as usize].raft.handle_response(to, sent, response);
        } else {
            self.fail(from, to, sent);
        }
        self.collect()
    }

    /// Tells `from`, if it is up, that its request to `to` failed.
    fn fail(&mut self, from: NodeId, to: NodeId, sent: Sent) {
        let member = &mut self.members[from.0 as usize];
        if member.up {
            member.raft.handle_failure(to, sent);
        }
    }

    fn step(&mut self, loss: f64) -> Result<(), String> {
        match self.rng.gen_range(0..100) {
            0..=39 => {
                for member in self.members.iter_mut().filter(|member| member.up) {
                    member.raft.tick();
                }
            }
            40..=49 => {
                let id = self.rng.gen_range(0..SIZE) as usize;
                self.next_command += 1;
                let command = self.next_command.to_be_bytes().to_vec();
                if self.members[id].up {
                    let _ = self.members[id].raft.propose(command);
                }
            }
            50..=51 => {
                for side in &mut self.side {
                    *side = self.rng.gen_range(0..2);
                }
            }
            52..=54 => self.side.fill(0),
            55 => {
                let id = self.rng.gen_range(0..SIZE) as usize;
                self.crash(id);
            }
            56..=58 => {
                let id = self.rng.gen_range(0..SIZE) as usize;
                self.restart(id)?;
            }
            59..=60 => {
                let id = self.rng.gen_range(0..SIZE) as usize;
                let member = &mut self.members[id];
                let applied = member.service.len() as u64;
                if member.up && applied > 0 {
                    let data = postcard::to_allocvec(&member.service).unwrap();
                    member.raft.snapshot(Index(applied), data).map_err(|e| e.to_string())?;
                }
            }
            _ => {
                for _ in 0..4 {
                    self.deliver_one(loss)?;
                }
            }
        }
        self.collect()
    }

    fn crash(&mut self, id: usize) {
        self.members[id].up = false;
        // Unsaved effects die with the node.
        let _ = self.members[id].raft.ready();
    }

    fn restart(&mut self, id: usize) -> Result<(), String> {
        if self.members[id].up {
            return Ok(());
        }
        let member = &mut self.members[id];
        let state = member.persister.load().map_err(|error| error.to_string())?;
        member.raft = Raft::new(new_test_config(id as u64, SIZE), state)
            .map_err(|error| error.to_string())?;
        member.service.clear();
        member.up = true;
        Ok(())
    }

    /// Heals everything and runs until all services agree, or fails.
    fn converge(&mut self) -> Result<(), String> {
        self.side.fill(0);
        for id in 0..SIZE as usize {
            self.restart(id)?;
        }
        for _ in 0..400 {
            for member in &mut self.members {
                member.raft.tick();
            }
            self.collect()?;
            while !self.in_flight.is_empty() {
                self.deliver_one(0.0)?;
            }
            let leader = self.members.iter().position(|m| m.raft.status().role == Role::Leader);
            if let Some(leader) = leader {
                let commit = self.members[leader].raft.status().commit_index;
                if self.members.iter().all(|m| m.service.len() as u64 == commit.0)
                    && self.members[leader].raft.log.term(commit)
                        == Some(self.members[leader].raft.status().term)
                {
                    return Ok(());
                }
                if self.members[leader].raft.log.last_term()
                    != self.members[leader].raft.status().term
                {
                    // Commit only advances over an entry of the current term.
                    let _ = self.members[leader].raft.propose(b"final".to_vec());
                }
            }
        }
        Err("the healed cluster did not converge".to_owned())
    }
}

fn run(seed: u64, steps: usize, loss: f64) -> Result<(), String> {
    let mut world = World::new(seed);
    for _ in 0..steps {
        world.step(loss)?;
    }
    world.converge()?;
    let first = &world.members[0].service;
    if world.members.iter().any(|member| member.service != *first) {
        return Err("services differ after convergence".to_owned());
    }
    Ok(())
}

#[test]
fn random_schedules_keep_raft_safe_and_converge() {
    fn property(seed: u64) -> TestResult {
        match run(seed, 5_000, 0.1) {
            Ok(()) => TestResult::passed(),
            Err(error) => TestResult::error(format!("seed {seed}: {error}")),
        }
    }
    QuickCheck::new().tests(100).quickcheck(property as fn(u64) -> TestResult);
}
