//! The search for a linearization of one partition: Wing and Gong's
//! backtracking, with Lowe's memoization of (linearized set, state).

use std::time::Instant;

use crate::linearizability::bitset::Bitset;
use crate::linearizability::cache::Cache;
use crate::linearizability::checker::CheckResult;
use crate::linearizability::entries::{Entries, Event};
use crate::linearizability::model::{Model, Operation};

/// How many search steps pass between two looks at the clock.
const STEPS_BETWEEN_CLOCK_READS: u64 = 256;

/// What the search of one partition found. Operations are numbered by their
/// position in the slice the search was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SearchOutcome {
    /// `Ok`, `Illegal`, or `Unknown` when the deadline passed first.
    pub(crate) result: CheckResult,
    /// The longest sequence of operations found to linearize, in order: all
    /// of them when the result is `Ok`.
    pub(crate) longest_linearization: Vec<usize>,
    /// When the result is `Illegal`: an operation that must come next after
    /// `longest_linearization` (its return is the earliest of those left) but
    /// is not a legal step from the state that sequence leaves.
    pub(crate) failing_operation: Option<usize>,
}

/// Looks for an order of `operations` that respects real time and that the
/// model accepts step by step, giving up with `Unknown` at `deadline`.
///
/// Wing and Gong (1993): walk the events in time order; at a call, try the
/// operation as the next one linearized, and if the model accepts it, lift it
/// out of the list and start again from the first event; at a return whose
/// operation is still in the list, nothing can be linearized next, so undo the
/// last choice and try the call after it. Lowe (2017): remember every
/// (linearized set, state) reached, and never explore one twice.
///
/// Every `operations[i].call <= operations[i].returned`, which the checker
/// verifies.
pub(crate) fn search<M: Model>(
    model: &M,
    operations: &[&Operation<M::Input, M::Output>],
    deadline: Option<Instant>,
) -> SearchOutcome {
    let intervals: Vec<(u64, u64)> =
        operations.iter().map(|operation| (operation.call, operation.returned)).collect();
    let mut entries = Entries::new(&intervals);
    let mut linearized = Bitset::new(operations.len());
    let mut cache = Cache::new(operations.len());
    // The operations linearized so far, each with its call node and the state
    // before it. Invariant: `linearized` holds exactly their operations.
    let mut calls: Vec<(usize, usize, M::State)> = Vec::new();
    let mut longest: Option<(Vec<usize>, Option<usize>)> = None;
    let mut state = model.init();
    let mut node = entries.first();
    let mut steps: u64 = 0;

    while !entries.is_empty() {
        if steps.is_multiple_of(STEPS_BETWEEN_CLOCK_READS)
            && deadline.is_some_and(|deadline| Instant::now() >= deadline)
        {
            let current: Vec<usize> = calls.iter().map(|&(_, operation, _)| operation).collect();
            let longest_linearization = match longest {
                Some((best, _)) if best.len() >= current.len() => best,
                _ => current,
            };
            return SearchOutcome {
                result: CheckResult::Unknown,
                longest_linearization,
                failing_operation: None,
            };
        }
        steps += 1;

        match entries.event(node) {
            Event::Call { operation, .. } => {
                let Operation { input, output, .. } = operations[operation];
                let Some(next_state) = model.step(&state, input, output) else {
                    node = entries.next(node);
                    continue;
                };
                linearized.insert(operation);
                if !cache.insert(&linearized, &next_state) {
                    linearized.remove(operation);
                    node = entries.next(node);
                    continue;
                }
                let before = std::mem::replace(&mut state, next_state);
                calls.push((node, operation, before));
                entries.lift(node);
                node = entries.first();
            }
            event @ (Event::Return { .. } | Event::Boundary) => {
                if longest.as_ref().is_none_or(|(best, _)| calls.len() > best.len()) {
                    let sequence = calls.iter().map(|&(_, operation, _)| operation).collect();
                    let failing = match event {
                        Event::Return { operation } => Some(operation),
                        _ => None,
                    };
                    longest = Some((sequence, failing));
                }
                let Some((call, operation, before)) = calls.pop() else {
                    let (longest_linearization, failing_operation) = longest.unwrap_or_default();
                    return SearchOutcome {
                        result: CheckResult::Illegal,
                        longest_linearization,
                        failing_operation,
                    };
                };
                state = before;
                linearized.remove(operation);
                entries.unlift(call);
                node = entries.next(call);
            }
        }
    }

    SearchOutcome {
        result: CheckResult::Ok,
        longest_linearization: calls.iter().map(|&(_, operation, _)| operation).collect(),
        failing_operation: None,
    }
}

#[cfg(test)]
mod tests;
