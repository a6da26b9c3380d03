//! The linearizability checker against histories whose verdict is known: the
//! lab's key/value model on hand-made and generated histories, two toy models,
//! the time limit, and the visualization.

use std::collections::HashMap;
use std::fs;
use std::time::{Duration, Instant};

use raft_testkit::{
    Annotation, CheckReport, CheckResult, KvInput, KvModel, KvOutput, Model, Operation, PutOutcome,
    VisualizationPolicy, check, write_visualization,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The lab's limit for one check.
const LAB_TIME_LIMIT: Duration = Duration::from_secs(1);

type KvOperation = Operation<KvInput, KvOutput>;

fn put(
    client: usize,
    key: &str,
    value: &str,
    version: u64,
    outcome: PutOutcome,
    call: u64,
    returned: u64,
) -> KvOperation {
    Operation {
        client,
        input: KvInput::Put { key: key.to_owned(), value: value.to_owned(), version },
        call,
        output: KvOutput::Put(outcome),
        returned,
    }
}

fn get(client: usize, key: &str, value: &str, call: u64, returned: u64) -> KvOperation {
    Operation {
        client,
        input: KvInput::Get { key: key.to_owned() },
        call,
        output: KvOutput::Get { value: value.to_owned() },
        returned,
    }
}

fn check_kv(history: &[KvOperation]) -> CheckReport {
    check(&KvModel, history, LAB_TIME_LIMIT).expect("the history is well formed")
}

// Hand-made key/value histories.

#[test]
fn sequential_puts_and_gets_are_linearizable() {
    let history = [
        get(0, "k", "", 0, 10),
        put(0, "k", "a", 0, PutOutcome::Ok, 20, 30),
        get(1, "k", "a", 40, 50),
        put(1, "k", "b", 1, PutOutcome::Ok, 60, 70),
        get(0, "k", "b", 80, 90),
    ];
    let report = check_kv(&history);
    assert_eq!(report.result, CheckResult::Ok);
    assert_eq!(report.partitions[0].longest_linearization, [0, 1, 2, 3, 4]);
}

#[test]
fn one_stale_read_is_illegal() {
    // The read starts after the second write returned, yet sees the first.
    let history = [
        put(0, "k", "a", 0, PutOutcome::Ok, 0, 10),
        put(0, "k", "b", 1, PutOutcome::Ok, 20, 30),
        get(1, "k", "a", 40, 50),
    ];
    let report = check_kv(&history);
    assert_eq!(report.result, CheckResult::Illegal);
    assert_eq!(report.partitions[0].longest_linearization, [0, 1]);
    assert_eq!(report.partitions[0].failing_operation, Some(2));
}

#[test]
fn one_lost_write_is_illegal() {
    // An acknowledged write that a later read does not see.
    let history = [
        put(0, "k", "a", 0, PutOutcome::Ok, 0, 10),
        put(1, "k", "b", 1, PutOutcome::Ok, 15, 25),
        get(2, "k", "a", 30, 40),
    ];
    assert_eq!(check_kv(&history).result, CheckResult::Illegal);
    let vanished = [put(0, "k", "a", 0, PutOutcome::Ok, 0, 10), get(1, "k", "", 20, 30)];
    assert_eq!(check_kv(&vanished).result, CheckResult::Illegal);
}

#[test]
fn concurrent_operations_linearize_in_the_only_order_that_works() {
    // All four overlap in time, and the versions and the reads leave one
    // order: put a, get a, put b, get b.
    let history = [
        put(0, "k", "a", 0, PutOutcome::Ok, 0, 100),
        put(1, "k", "b", 1, PutOutcome::Ok, 0, 100),
        get(2, "k", "a", 0, 100),
        get(3, "k", "b", 50, 120),
    ];
    let report = check_kv(&history);
    assert_eq!(report.result, CheckResult::Ok);
    assert_eq!(report.partitions[0].longest_linearization, [0, 2, 1, 3]);

    // The same, but the read of a starts after both writes returned.
    let mut late_read = history.clone();
    late_read[2] = get(2, "k", "a", 105, 110);
    assert_eq!(check_kv(&late_read).result, CheckResult::Illegal);
}

#[test]
fn a_maybe_put_may_have_applied() {
    let history = [put(0, "k", "a", 0, PutOutcome::Maybe, 0, 10), get(1, "k", "a", 20, 30)];
    assert_eq!(check_kv(&history).result, CheckResult::Ok);
}

#[test]
fn a_maybe_put_may_not_have_applied() {
    // Client 1's retransmission found the version moved on by client 0.
    let history = [
        put(0, "k", "a", 0, PutOutcome::Ok, 0, 10),
        put(1, "k", "b", 0, PutOutcome::Maybe, 5, 50),
        get(2, "k", "a", 60, 70),
    ];
    assert_eq!(check_kv(&history).result, CheckResult::Ok);
    // Either way round, as long as something explains the read.
    let applied = [
        put(0, "k", "a", 0, PutOutcome::Ok, 0, 10),
        put(1, "k", "b", 1, PutOutcome::Maybe, 5, 50),
        get(2, "k", "b", 60, 70),
        get(3, "k", "b", 80, 90),
    ];
    assert_eq!(check_kv(&applied).result, CheckResult::Ok);
}

#[test]
fn a_maybe_put_cannot_explain_a_value_it_did_not_write() {
    let history = [put(0, "k", "a", 0, PutOutcome::Maybe, 0, 10), get(1, "k", "b", 20, 30)];
    assert_eq!(check_kv(&history).result, CheckResult::Illegal);
    // Nor can it apply twice.
    let twice = [
        put(0, "k", "a", 0, PutOutcome::Maybe, 0, 10),
        get(1, "k", "a", 20, 30),
        put(2, "k", "b", 0, PutOutcome::Maybe, 40, 50),
        get(1, "k", "b", 60, 70),
    ];
    assert_eq!(check_kv(&twice).result, CheckResult::Illegal);
}

#[test]
fn a_put_at_a_wrong_version_returns_version_and_changes_nothing() {
    let history = [
        put(0, "k", "a", 0, PutOutcome::Ok, 0, 10),
        put(1, "k", "b", 0, PutOutcome::Version, 20, 30),
        get(2, "k", "a", 40, 50),
    ];
    assert_eq!(check_kv(&history).result, CheckResult::Ok);

    // ErrVersion at the key's current version is a lie.
    let lie = [put(1, "k", "b", 0, PutOutcome::Version, 0, 10)];
    assert_eq!(check_kv(&lie).result, CheckResult::Illegal);
    // So is OK at a wrong version, and so is ErrNoKey in this model.
    let wrong = [put(1, "k", "b", 3, PutOutcome::Ok, 0, 10)];
    assert_eq!(check_kv(&wrong).result, CheckResult::Illegal);
    let no_key = [put(1, "k", "b", 3, PutOutcome::NoKey, 0, 10)];
    assert_eq!(check_kv(&no_key).result, CheckResult::Illegal);
}

#[test]
fn keys_are_checked_separately() {
    // Each key alone is fine; the bad read is on its own key.
    let history = [
        put(0, "x", "1", 0, PutOutcome::Ok, 0, 10),
        put(1, "y", "1", 0, PutOutcome::Ok, 0, 10),
        get(2, "x", "1", 20, 30),
        get(3, "y", "", 20, 30),
    ];
    let report = check_kv(&history);
    assert_eq!(report.result, CheckResult::Illegal);
    let verdicts: Vec<_> = report
        .partitions
        .iter()
        .map(|partition| (partition.key.as_deref(), partition.result))
        .collect();
    assert_eq!(verdicts, [(Some("x"), CheckResult::Ok), (Some("y"), CheckResult::Illegal)]);
    assert_eq!(report.partitions[1].failing_operation, Some(3));
}

#[test]
fn a_return_before_its_call_is_an_error_not_a_verdict() {
    let history = [get(0, "k", "", 50, 40)];
    assert!(check(&KvModel, &history, LAB_TIME_LIMIT).is_err());
}

// The trait is generic: two toy models.

/// A register holding an integer, initially 0.
struct Register;

#[derive(Debug)]
enum RegisterInput {
    Write(i64),
    Read,
}

impl Model for Register {
    type State = i64;
    type Input = RegisterInput;
    type Output = Option<i64>;

    fn init(&self) -> i64 {
        0
    }

    fn step(&self, state: &i64, input: &RegisterInput, output: &Option<i64>) -> Option<i64> {
        match (input, output) {
            (RegisterInput::Write(value), None) => Some(*value),
            (RegisterInput::Read, Some(value)) => (value == state).then_some(*state),
            _ => None,
        }
    }

    fn describe_operation(&self, input: &RegisterInput, output: &Option<i64>) -> String {
        match (input, output) {
            (RegisterInput::Write(value), _) => format!("write({value})"),
            (RegisterInput::Read, value) => format!("read() -> {value:?}"),
        }
    }
}

fn register(
    client: usize,
    input: RegisterInput,
    output: Option<i64>,
    call: u64,
    returned: u64,
) -> Operation<RegisterInput, Option<i64>> {
    Operation { client, input, call, output, returned }
}

#[test]
fn a_register_model_checks_reads_against_writes() {
    let history = [
        register(0, RegisterInput::Write(1), None, 0, 10),
        register(1, RegisterInput::Write(2), None, 5, 30),
        register(2, RegisterInput::Read, Some(2), 12, 20),
        register(2, RegisterInput::Read, Some(1), 22, 28),
    ];
    // The second read sees 1 after the first saw 2: write 2 cannot have
    // happened both before and after write 1.
    let report = check(&Register, &history, LAB_TIME_LIMIT).unwrap();
    assert_eq!(report.result, CheckResult::Illegal);
    assert_eq!(report.partitions.len(), 1);
    assert_eq!(report.partitions[0].key, None);

    let reordered = [
        register(0, RegisterInput::Write(1), None, 0, 10),
        register(1, RegisterInput::Write(2), None, 5, 30),
        register(2, RegisterInput::Read, Some(1), 12, 20),
        register(2, RegisterInput::Read, Some(2), 22, 28),
    ];
    let report = check(&Register, &reordered, LAB_TIME_LIMIT).unwrap();
    assert_eq!(report.result, CheckResult::Ok);
    assert_eq!(Register.describe_state(&7), "7");
}

/// A counter whose increment returns the value after it.
struct Counter;

impl Model for Counter {
    type State = u64;
    type Input = ();
    type Output = u64;

    fn init(&self) -> u64 {
        0
    }

    fn step(&self, state: &u64, _increment: &(), output: &u64) -> Option<u64> {
        (*output == state + 1).then_some(state + 1)
    }

    fn describe_operation(&self, _increment: &(), output: &u64) -> String {
        format!("increment() -> {output}")
    }
}

#[test]
fn a_counter_model_needs_distinct_consecutive_results() {
    let increment =
        |client, output, call, returned| Operation { client, input: (), call, output, returned };
    // Three overlapping increments may return 1, 2, 3 in any order.
    let history = [increment(0, 3, 0, 100), increment(1, 1, 10, 90), increment(2, 2, 20, 80)];
    let report = check(&Counter, &history, LAB_TIME_LIMIT).unwrap();
    assert_eq!(report.result, CheckResult::Ok);
    assert_eq!(report.partitions[0].longest_linearization, [1, 2, 0]);
    // But two may not both return 1, nor may a later one return less.
    let duplicate = [increment(0, 1, 0, 100), increment(1, 1, 10, 90)];
    assert_eq!(check(&Counter, &duplicate, LAB_TIME_LIMIT).unwrap().result, CheckResult::Illegal);
    let backwards = [increment(0, 2, 0, 10), increment(1, 1, 20, 30)];
    assert_eq!(check(&Counter, &backwards, LAB_TIME_LIMIT).unwrap().result, CheckResult::Illegal);
}

// A generated history, as the lab's clients would produce against a correct
// service.

/// A simulated run: the history, and for each read which write it saw.
struct SimulatedRun {
    history: Vec<KvOperation>,
    /// For the `i`-th operation, if it is a read of a written value: the
    /// index of the write.
    read_from: Vec<Option<usize>>,
    /// For the `i`-th operation, if it is a write that applied: the value it
    /// replaced.
    replaced: Vec<Option<String>>,
}

/// Simulates `clients` clients running the lab's loop (a Put at the version
/// the client last saw, then a Get, on a random key) against a linearizable
/// store: every operation takes effect at a random instant between its call
/// and its return, and its output is the store's answer at that instant. Some
/// Puts report `Maybe`, as after a retransmission.
fn simulate_linearizable_store(
    clients: usize,
    keys: usize,
    operations_per_client: usize,
    seed: u64,
) -> SimulatedRun {
    struct Planned {
        client: usize,
        sequence: usize,
        key: String,
        call: u64,
        takes_effect: u64,
        returned: u64,
    }

    let mut rng = StdRng::seed_from_u64(seed);
    let mut planned = Vec::new();
    for client in 0..clients {
        let mut now = rng.gen_range(0..1_000_000);
        let mut key = String::new();
        for sequence in 0..operations_per_client {
            if sequence % 2 == 0 {
                key = format!("k{}", rng.gen_range(0..keys));
            }
            let call = now;
            let returned = call + rng.gen_range(100_000..3_000_000);
            let takes_effect = rng.gen_range(call..=returned);
            planned.push(Planned {
                client,
                sequence,
                key: key.clone(),
                call,
                takes_effect,
                returned,
            });
            now = returned + rng.gen_range(0..500_000);
        }
    }
    planned.sort_by_key(|operation| (operation.takes_effect, operation.client, operation.sequence));

    // key -> (value, version, index of the write that set it)
    let mut store: HashMap<String, (String, u64, Option<usize>)> = HashMap::new();
    // (client, key) -> the version the client last saw
    let mut known: HashMap<(usize, String), u64> = HashMap::new();
    let mut run = SimulatedRun { history: Vec::new(), read_from: Vec::new(), replaced: Vec::new() };
    for operation in planned {
        let Planned { client, sequence, key, call, returned, .. } = operation;
        let entry = store.entry(key.clone()).or_insert_with(|| (String::new(), 0, None));
        let index = run.history.len();
        let last_seen = known.entry((client, key.clone())).or_insert(0);
        if sequence % 2 == 0 {
            let value = format!("{client}.{sequence}");
            let version = *last_seen;
            let maybe = rng.gen_bool(0.1);
            let outcome = if version == entry.1 {
                run.replaced.push(Some(entry.0.clone()));
                *entry = (value.clone(), version + 1, Some(index));
                *last_seen = version + 1;
                if maybe { PutOutcome::Maybe } else { PutOutcome::Ok }
            } else {
                run.replaced.push(None);
                if maybe { PutOutcome::Maybe } else { PutOutcome::Version }
            };
            run.read_from.push(None);
            run.history.push(put(client, &key, &value, version, outcome, call, returned));
        } else {
            *last_seen = entry.1;
            run.read_from.push(entry.2);
            run.replaced.push(None);
            run.history.push(get(client, &key, &entry.0, call, returned));
        }
    }
    run
}

/// Makes one read stale: a read whose value came from a write that returned
/// `Ok` before the read was called now sees the value that write replaced.
/// Values are unique and versions only grow, so no order can explain it.
/// The read is the first such from the middle of the history on, so that the
/// search has work to do before it meets it. Returns the read's index.
fn corrupt_one_read(run: &mut SimulatedRun) -> Option<usize> {
    let middle = run.history.len() / 2;
    let read = (middle..run.history.len()).chain(0..middle).find(|&index| {
        run.read_from[index].is_some_and(|write| {
            let write = &run.history[write];
            write.output == KvOutput::Put(PutOutcome::Ok)
                && write.returned < run.history[index].call
        })
    })?;
    let write = run.read_from[read]?;
    let stale = run.replaced[write].clone()?;
    run.history[read].output = KvOutput::Get { value: stale };
    Some(read)
}

#[test]
fn a_generated_linearizable_history_checks_ok_and_one_stale_read_makes_it_illegal() {
    let mut run = simulate_linearizable_store(15, 5, 200, 6_5840);
    assert_eq!(run.history.len(), 3000);

    let started = Instant::now();
    let report = check_kv(&run.history);
    println!(
        "{} operations from 15 clients on {} keys: {} in {:?}",
        run.history.len(),
        report.partitions.len(),
        report.result,
        started.elapsed()
    );
    assert_eq!(report.result, CheckResult::Ok);
    assert_eq!(report.partitions.len(), 5);
    for partition in &report.partitions {
        assert_eq!(partition.longest_linearization.len(), partition.operations.len());
    }

    let read = corrupt_one_read(&mut run).expect("some read follows a completed write");
    let started = Instant::now();
    let report = check_kv(&run.history);
    println!("with one stale read: {} in {:?}", report.result, started.elapsed());
    assert_eq!(report.result, CheckResult::Illegal);
    let key = run.history[read].input.key();
    for partition in &report.partitions {
        let expected = if partition.key.as_deref() == Some(key) {
            CheckResult::Illegal
        } else {
            CheckResult::Ok
        };
        assert_eq!(partition.result, expected);
    }
}

// The time limit.

#[test]
fn an_expensive_history_returns_unknown_at_the_time_limit() {
    // Forty overlapping Puts whose outcome is Maybe can be linearized in any
    // order, each applying or not, and a read of a value nobody wrote means no
    // order works: proving it would take an exhaustive search.
    let mut history: Vec<KvOperation> = (0..40)
        .map(|client| {
            let value = format!("v{client}");
            put(client, "hot", &value, client as u64 % 8, PutOutcome::Maybe, 0, 1_000)
        })
        .collect();
    history.push(get(40, "hot", "never written", 0, 1_000));
    history.push(put(41, "cold", "1", 0, PutOutcome::Ok, 0, 10));

    let started = Instant::now();
    let report = check(&KvModel, &history, Duration::from_millis(20)).unwrap();
    println!("expensive history: {} after {:?}", report.result, started.elapsed());
    assert_eq!(report.result, CheckResult::Unknown);
    let verdicts: Vec<_> = report.partitions.iter().map(|partition| partition.result).collect();
    assert_eq!(verdicts, [CheckResult::Unknown, CheckResult::Ok]);
    assert_eq!(report.partitions[0].failing_operation, None);
}

// The visualization.

#[test]
fn the_visualization_of_a_failing_history_is_one_self_contained_page() {
    let history = [
        put(0, "account-7", "100", 0, PutOutcome::Ok, 1_000_000, 3_000_000),
        put(1, "account-7", "250", 1, PutOutcome::Ok, 4_000_000, 6_000_000),
        get(2, "account-7", "100", 7_000_000, 8_000_000),
        put(3, "other", "x", 0, PutOutcome::Maybe, 2_000_000, 9_000_000),
    ];
    let report = check_kv(&history);
    assert_eq!(report.result, CheckResult::Illegal);
    assert!(VisualizationPolicy::OnFailure.should_write(report.result));
    let failing = report.partitions[0].failing_operation.expect("the stale read fails");
    let description = KvModel.describe_operation(&history[failing].input, &history[failing].output);
    let annotations = [
        Annotation {
            start: 3_500_000,
            end: 6_500_000,
            label: "partition [0 1] [2 3 4]".to_owned(),
            description: "servers 2, 3 and 4 cannot reach the leader".to_owned(),
        },
        Annotation {
            start: 6_500_000,
            end: 6_500_000,
            label: "restart server 1".to_owned(),
            description: String::new(),
        },
    ];

    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("history.html");
    write_visualization(&KvModel, &history, &report, &annotations, &path).unwrap();

    let page = fs::read_to_string(&path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(!page.contains("<link") && !page.contains(" src="));
    assert!(page.contains("account-7"));
    assert!(page.contains(&description), "no {description:?} in the page");
    assert!(page.contains("partition [0 1] [2 3 4]"));
    assert!(page.contains("restart server 1"));
}
