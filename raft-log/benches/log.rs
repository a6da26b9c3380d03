//! Benchmarks of [`Log`]: appending, reading a range, compacting a prefix.

use std::cell::Cell;
use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_main};
use raft_log::{Entry, Index, Log, Term};

/// The bytes of every command.
const PAYLOAD: usize = 128;
/// The most entries an append bench keeps before starting over from the last
/// index, so memory stays bounded however many iterations run.
const APPEND_LIMIT: usize = 1 << 16;
/// The size of the log the read and compaction benches use.
const LOG_LEN: u64 = 100_000;

fn entries(first: u64, count: u64) -> Vec<Entry> {
    (first..first + count)
        .map(|index| Entry::new(Index(index), Term(1), vec![0; PAYLOAD]))
        .collect()
}

fn log_of(len: u64) -> Log {
    Log::from_parts(Index(0), Term(0), entries(1, len)).expect("contiguous entries")
}

/// Appends batches of 1 and 64 entries to a growing log. The batches are built
/// outside the timed part; so is freeing a log that reached `APPEND_LIMIT`,
/// which is returned to be dropped untimed and replaced by an empty one based
/// at its last entry.
fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("Log::append");
    for batch in [1u64, 64] {
        group.throughput(Throughput::Elements(batch));
        group.bench_function(BenchmarkId::from_parameter(batch), |b| {
            let mut log = Log::new();
            let next = Cell::new(1);
            b.iter_batched(
                || {
                    let first = next.replace(next.get() + batch);
                    entries(first, batch)
                },
                |entries| {
                    log.append(entries).expect("contiguous");
                    (log.len() >= APPEND_LIMIT).then(|| {
                        let fresh = Log::with_base(log.last_index(), log.last_term());
                        std::mem::replace(&mut log, fresh)
                    })
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// Reads 64 entries at a time from a 100,000-entry log, at starts spread over it.
fn entries_range(c: &mut Criterion) {
    let mut group = c.benchmark_group("Log::entries");
    let log = log_of(LOG_LEN);
    let width = 64;
    group.throughput(Throughput::Elements(width));
    group.bench_function(BenchmarkId::from_parameter(width), |b| {
        let mut start = 1;
        b.iter(|| {
            start = (start + 7919) % (LOG_LEN - width) + 1; // a prime stride over the log
            let range = Index(start)..Index(start + width);
            black_box(log.entries(black_box(range)).expect("held").len())
        });
    });
    group.finish();
}

/// Compacts the first half of a 100,000-entry log; the time includes freeing
/// the dropped entries, which is the point of compaction.
fn compact_through(c: &mut Criterion) {
    let mut group = c.benchmark_group("Log::compact_through");
    group.sample_size(20);
    let through = LOG_LEN / 2;
    group.throughput(Throughput::Elements(through));
    group.bench_function(BenchmarkId::from_parameter(through), |b| {
        b.iter_batched(
            || log_of(LOG_LEN),
            |mut log| {
                log.compact_through(Index(through)).expect("held");
                log
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

/// The benchmark group; `criterion_group!` defines an undocumented public
/// function, so it lives in a module of its own.
#[allow(missing_docs)]
mod group {
    use super::{append, compact_through, entries_range};

    criterion::criterion_group!(benches, append, entries_range, compact_through);
}

criterion_main!(group::benches);
