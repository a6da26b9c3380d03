//! [`check`]: a whole history split into partitions, each searched on its own
//! thread under one time limit, and the [`CheckReport`] it gives.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::linearizability::error::HistoryError;
use crate::linearizability::model::{Model, Operation};
use crate::linearizability::search::{SearchOutcome, search};

/// The most threads [`check`] searches partitions on.
const MAX_THREADS: usize = 64;

/// The verdict on a history (porcupine's `CheckResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckResult {
    /// The history is linearizable.
    Ok,
    /// The history is not linearizable.
    Illegal,
    /// The time limit passed before the search could decide. The lab accepts
    /// this outcome and fails a test only on [`Illegal`](CheckResult::Illegal).
    Unknown,
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckResult::Ok => "ok",
            CheckResult::Illegal => "illegal",
            CheckResult::Unknown => "unknown",
        })
    }
}

/// What [`check`] found: the verdict, and per partition what the
/// visualization draws.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// `Illegal` if any partition is illegal; otherwise `Unknown` if any timed
    /// out; otherwise `Ok` (also for an empty history).
    pub result: CheckResult,
    /// One report per partition, in the order of each partition's first
    /// operation in the history.
    pub partitions: Vec<PartitionReport>,
}

/// What the search of one partition found. Operations are named by their
/// index in the history given to [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionReport {
    /// The partition's key, from [`Model::partition_key`].
    pub key: Option<String>,
    /// The partition's operations, in history order.
    pub operations: Vec<usize>,
    /// This partition's verdict.
    pub result: CheckResult,
    /// The longest sequence of the partition's operations found to be a legal
    /// linearization of a prefix of it, in linearization order: all of them
    /// when the result is `Ok`; the longest found before the time limit when
    /// it is `Unknown`.
    pub longest_linearization: Vec<usize>,
    /// When the result is `Illegal`: the operation that breaks the longest
    /// linearization. It must come next (of the operations left, it returned
    /// first), but it is not a legal step from the state the longest
    /// linearization leaves.
    pub failing_operation: Option<usize>,
}

/// Checks whether `history` is linearizable with respect to `model`, giving
/// up after `time_limit`.
///
/// The history is split by [`Model::partition_key`] and each partition is
/// searched on its own thread (up to 64 threads, which then share the
/// partitions out); the time limit is shared, and when it passes
/// every search still running stops and reports
/// [`Unknown`](CheckResult::Unknown). `Duration::MAX` means no limit; a zero
/// limit gives `Unknown` for any non-empty history. All partitions are
/// searched to the end (or to the limit) even after one is found illegal, so
/// that the report describes every partition.
///
/// # Errors
/// [`HistoryError::ReturnBeforeCall`] if an operation's `returned` is before
/// its `call`.
///
/// # Panics
/// Only if the model panics, in which case the panic is passed on.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use raft_testkit::{CheckResult, KvInput, KvModel, KvOutput, Operation, PutOutcome, check};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let put = |value: &str, version, call, returned| Operation {
///     client: 0,
///     input: KvInput::Put { key: "k".to_owned(), value: value.to_owned(), version },
///     call,
///     output: KvOutput::Put(PutOutcome::Ok),
///     returned,
/// };
/// let get = |value: &str, call, returned| Operation {
///     client: 1,
///     input: KvInput::Get { key: "k".to_owned() },
///     call,
///     output: KvOutput::Get { value: value.to_owned() },
///     returned,
/// };
///
/// // The read overlaps the second write, so it may see either value.
/// let history = vec![put("a", 0, 0, 10), put("b", 1, 20, 40), get("a", 30, 50)];
/// let report = check(&KvModel, &history, Duration::from_secs(1))?;
/// assert_eq!(report.result, CheckResult::Ok);
///
/// // A read called after the second write returned must see it.
/// let history = vec![put("a", 0, 0, 10), put("b", 1, 20, 30), get("a", 40, 50)];
/// let report = check(&KvModel, &history, Duration::from_secs(1))?;
/// assert_eq!(report.result, CheckResult::Illegal);
/// assert_eq!(report.partitions[0].longest_linearization, [0, 1]);
/// assert_eq!(report.partitions[0].failing_operation, Some(2));
/// # Ok(())
/// # }
/// ```
pub fn check<M>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    time_limit: Duration,
) -> Result<CheckReport, HistoryError>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let deadline = Instant::now().checked_add(time_limit);
    for (index, operation) in history.iter().enumerate() {
        if operation.returned < operation.call {
            return Err(HistoryError::ReturnBeforeCall {
                operation: index,
                call: operation.call,
                returned: operation.returned,
            });
        }
    }

    let partitions = partition(model, history);
    let outcomes = search_partitions(model, history, &partitions, deadline);

    let mut result = CheckResult::Ok;
    let mut reports = Vec::with_capacity(partitions.len());
    for ((key, indices), outcome) in partitions.into_iter().zip(outcomes) {
        result = match (result, outcome.result) {
            (CheckResult::Illegal, _) | (_, CheckResult::Illegal) => CheckResult::Illegal,
            (CheckResult::Unknown, _) | (_, CheckResult::Unknown) => CheckResult::Unknown,
            _ => CheckResult::Ok,
        };
        reports.push(PartitionReport {
            longest_linearization: outcome
                .longest_linearization
                .iter()
                .map(|&position| indices[position])
                .collect(),
            failing_operation: outcome.failing_operation.map(|position| indices[position]),
            result: outcome.result,
            key,
            operations: indices,
        });
    }
    Ok(CheckReport { result, partitions: reports })
}

/// The history's operations grouped by key, each group in history order, the
/// groups in the order of their first operation.
fn partition<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
) -> Vec<(Option<String>, Vec<usize>)> {
    let mut positions: HashMap<Option<String>, usize> = HashMap::new();
    let mut partitions: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (index, operation) in history.iter().enumerate() {
        let key = model.partition_key(&operation.input);
        let position = *positions.entry(key.clone()).or_insert_with(|| {
            partitions.push((key, Vec::new()));
            partitions.len() - 1
        });
        partitions[position].1.push(index);
    }
    partitions
}

fn search_partition<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    indices: &[usize],
    deadline: Option<Instant>,
) -> SearchOutcome {
    let operations: Vec<&Operation<M::Input, M::Output>> =
        indices.iter().map(|&index| &history[index]).collect();
    search(model, &operations, deadline)
}

/// Searches every partition, on up to [`MAX_THREADS`] threads (the calling
/// thread among them) that each take the next partition not yet taken: one
/// thread per partition for up to that many partitions, so that a partition
/// that is slow to decide does not keep the others from being searched
/// before the deadline. If no thread can be started, the calling thread
/// searches them all.
fn search_partitions<M>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partitions: &[(Option<String>, Vec<usize>)],
    deadline: Option<Instant>,
) -> Vec<SearchOutcome>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
{
    let next_partition = AtomicUsize::new(0);
    let work = || {
        let mut outcomes = Vec::new();
        loop {
            let number = next_partition.fetch_add(1, Ordering::Relaxed);
            let Some((_, indices)) = partitions.get(number) else {
                return outcomes;
            };
            outcomes.push((number, search_partition(model, history, indices, deadline)));
        }
    };
    thread::scope(|scope| {
        let helpers: Vec<_> = (1..partitions.len().min(MAX_THREADS))
            .filter_map(|number| {
                thread::Builder::new()
                    .name(format!("linearizability-{number}"))
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut outcomes = work();
        for helper in helpers {
            outcomes.extend(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        outcomes.sort_unstable_by_key(|&(number, _)| number);
        outcomes.into_iter().map(|(_, outcome)| outcome).collect()
    })
}

#[cfg(test)]
mod tests;
