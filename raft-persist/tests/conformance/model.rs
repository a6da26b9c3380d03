//! A naive model of a persister (a plain vector of entries) and the property
//! that a backend agrees with it after every step of a random history.

use quickcheck::{Arbitrary, Gen, TestResult};
use raft_log::{Entry, Index, NodeId, Term};
use raft_persist::{HardState, PersistError, PersistedState, Persister, Snapshot, Update};

use crate::backends::Backend;
use crate::raft_state_size_of;

/// One step of a random history.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// A save whose parts are placed relative to the current log.
    Save(Plan),
    /// The node crashes and restarts from what it saved.
    Reopen,
}

/// The parts of one update, in numbers the test turns into indices.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    hard_state: Option<(u64, Option<u64>)>,
    /// A snapshot this far after the current snapshot (it may pass the end
    /// of the log), with this many bytes of data.
    snapshot: Option<(u8, u8)>,
    /// A snapshot before the current one, which must be refused.
    stale_snapshot: bool,
    /// Truncate this far back from the end (it may reach the snapshot).
    truncate_back: Option<u8>,
    /// How many entries to append.
    append: u8,
    /// Leave a gap before the appended entries, which must be refused.
    gap: bool,
}

impl Arbitrary for Step {
    fn arbitrary(g: &mut Gen) -> Step {
        if u8::arbitrary(g) % 8 == 0 {
            return Step::Reopen;
        }
        let chance = |g: &mut Gen, one_in: u8| u8::arbitrary(g) % one_in == 0;
        Step::Save(Plan {
            hard_state: chance(g, 3)
                .then(|| (u64::arbitrary(g) % 50, Option::<u64>::arbitrary(g).map(|v| v % 5))),
            snapshot: chance(g, 6).then(|| (u8::arbitrary(g), u8::arbitrary(g))),
            stale_snapshot: chance(g, 30),
            truncate_back: chance(g, 5).then(|| u8::arbitrary(g)),
            append: if chance(g, 4) { 0 } else { u8::arbitrary(g) % 6 },
            gap: chance(g, 20),
        })
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Step>> {
        match self {
            Step::Reopen => quickcheck::empty_shrinker(),
            Step::Save(plan) => {
                let mut simpler = Vec::new();
                if plan.hard_state.is_some() {
                    simpler.push(Plan { hard_state: None, ..plan.clone() });
                }
                if plan.snapshot.is_some() {
                    simpler.push(Plan { snapshot: None, ..plan.clone() });
                }
                if plan.truncate_back.is_some() {
                    simpler.push(Plan { truncate_back: None, ..plan.clone() });
                }
                if plan.append > 1 {
                    simpler.push(Plan { append: plan.append / 2, ..plan.clone() });
                }
                Box::new(simpler.into_iter().map(Step::Save))
            }
        }
    }
}

/// The model: the state as a value, changed by the simplest reading of
/// [`Update`]'s documented order.
fn apply(model: &PersistedState, update: &Update) -> Option<PersistedState> {
    let mut next = model.clone();
    if let Some(hard_state) = update.hard_state {
        next.hard_state = hard_state;
    }
    if let Some(snapshot) = &update.snapshot {
        if snapshot.index < base(&next) {
            return None;
        }
        next.entries.retain(|entry| entry.index > snapshot.index);
        next.snapshot = Some(snapshot.clone());
    }
    if let Some(from) = update.truncate_from {
        next.entries.retain(|entry| entry.index < from);
    }
    for entry in &update.append {
        if entry.index.0 != last(&next) + 1 {
            return None;
        }
        next.entries.push(entry.clone());
    }
    Some(next)
}

fn base(state: &PersistedState) -> Index {
    state.snapshot.as_ref().map_or(Index(0), |snapshot| snapshot.index)
}

fn last(state: &PersistedState) -> u64 {
    state.entries.last().map_or(base(state), |entry| entry.index).0
}

/// Turns a plan into an update against the model's current state.
fn update(model: &PersistedState, plan: &Plan, step: usize) -> Update {
    let base = base(model).0;
    let last = last(model);
    let span = last - base;
    let snapshot = if plan.stale_snapshot && base > 0 {
        Some(Snapshot { index: Index(base - 1), term: Term(1), data: vec![0] })
    } else {
        plan.snapshot.map(|(ahead, len)| Snapshot {
            index: Index(base + u64::from(ahead) % (span + 3)),
            term: Term(step as u64),
            data: vec![step as u8; usize::from(len)],
        })
    };
    let truncate_from = plan
        .truncate_back
        .map(|back| Index((last + 1).saturating_sub(u64::from(back) % (span + 2))));
    let mut update = Update {
        hard_state: plan
            .hard_state
            .map(|(term, vote)| HardState { term: Term(term), voted_for: vote.map(NodeId) }),
        snapshot,
        truncate_from,
        append: Vec::new(),
    };
    // Where the appended entries must start once the snapshot and the
    // truncation are applied; a gap starts them one later.
    let after = apply(model, &update).map_or(last, |state| self::last(&state));
    let first = after + 1 + u64::from(plan.gap);
    update.append = (0..u64::from(plan.append))
        .map(|k| {
            Entry::new(Index(first + k), Term(step as u64), vec![k as u8; (step + k as usize) % 9])
        })
        .collect();
    update
}

/// Runs `steps` against a fresh backend and the model, comparing them after
/// every step.
pub(crate) fn agrees_with_model<B: Backend>(steps: Vec<Step>) -> TestResult {
    let mut backend = B::new();
    let mut persister = backend.open();
    let mut model = PersistedState::default();
    for (number, step) in steps.iter().enumerate() {
        match step {
            Step::Reopen => persister = backend.reopen(persister),
            Step::Save(plan) => {
                let update = update(&model, plan, number + 1);
                let result = persister.save(&update);
                match (apply(&model, &update), result) {
                    (Some(next), Ok(())) => model = next,
                    (
                        None,
                        Err(
                            PersistError::NotContiguous { .. }
                            | PersistError::SnapshotBehind { .. },
                        ),
                    ) => {}
                    (expected, result) => {
                        return TestResult::error(format!(
                            "step {number}: {update:?} gave {result:?}, the model {}",
                            if expected.is_some() { "accepts it" } else { "refuses it" }
                        ));
                    }
                }
            }
        }
        let loaded = persister.load().expect("load");
        if loaded != model {
            return TestResult::error(format!("step {number}: loaded {loaded:?}, model {model:?}"));
        }
        let sizes = (persister.raft_state_size(), persister.snapshot_size());
        let expected = (
            raft_state_size_of(&model),
            model.snapshot.as_ref().map_or(0, |snapshot| snapshot.data.len() as u64),
        );
        if sizes != expected {
            return TestResult::error(format!(
                "step {number}: sizes {sizes:?}, expected {expected:?}"
            ));
        }
    }
    TestResult::passed()
}
