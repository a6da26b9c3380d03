//! Criterion benchmarks of [`FilePersister::save`] with fsync: the cost of a
//! save by the number of entries it appends, and by the length of the log it
//! appends to (which must not matter).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use raft_log::{Entry, Index, Term};
use raft_persist::{FilePersister, Persister, SyncMode, Update};
use tempfile::TempDir;

/// The size of each entry's command, in bytes.
const COMMAND: usize = 128;

/// A fresh directory and an open persister in it, syncing every save.
fn persister() -> (TempDir, FilePersister) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let persister = FilePersister::builder(dir.path()).sync(SyncMode::Always).open().expect("open");
    (dir, persister)
}

/// Appends `count` entries after the persister's last one.
fn append(persister: &FilePersister, next: &mut u64, count: u64) {
    let append =
        (*next..*next + count).map(|index| Entry::new(Index(index), Term(1), vec![7; COMMAND]));
    let update = Update { append: append.collect(), ..Update::default() };
    persister.save(black_box(&update)).expect("save");
    *next += count;
}

fn save_by_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("FilePersister::save");
    for count in [1u64, 64] {
        group.throughput(Throughput::Elements(count));
        group.bench_function(BenchmarkId::from_parameter(count), |b| {
            let (_dir, persister) = persister();
            let mut next = 1;
            b.iter(|| append(&persister, &mut next, count));
        });
    }
    group.finish();
}

fn save_one_by_log_length(c: &mut Criterion) {
    let mut group = c.benchmark_group("FilePersister::save_one");
    for length in [10u64, 100_000] {
        // Prefilled once, outside the timed loop, in batches as a leader
        // would replicate them.
        let (_dir, persister) = persister();
        let mut next = 1;
        while next <= length {
            let batch = (length + 1 - next).min(1000);
            append(&persister, &mut next, batch);
        }
        group.bench_function(BenchmarkId::from_parameter(format!("log_{length}")), |b| {
            b.iter(|| append(&persister, &mut next, 1));
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    save_by_batch(&mut criterion);
    save_one_by_log_length(&mut criterion);
    criterion.final_summary();
}
