//! Unit tests of partitioning, history validation and the combined verdict.

use std::time::Duration;

use super::*;
use crate::linearizability::kv_model::{KvInput, KvModel, KvOutput, PutOutcome};

fn put(
    key: &str,
    value: &str,
    version: u64,
    call: u64,
    returned: u64,
) -> Operation<KvInput, KvOutput> {
    Operation {
        client: 0,
        input: KvInput::Put { key: key.to_owned(), value: value.to_owned(), version },
        call,
        output: KvOutput::Put(PutOutcome::Ok),
        returned,
    }
}

fn get(key: &str, value: &str, call: u64, returned: u64) -> Operation<KvInput, KvOutput> {
    Operation {
        client: 1,
        input: KvInput::Get { key: key.to_owned() },
        call,
        output: KvOutput::Get { value: value.to_owned() },
        returned,
    }
}

#[test]
fn partitions_follow_first_appearance_and_keep_history_order() {
    let history = [put("b", "1", 0, 0, 1), put("a", "1", 0, 2, 3), get("b", "1", 4, 5)];
    let partitions = partition(&KvModel, &history);
    assert_eq!(partitions, [(Some("b".to_owned()), vec![0, 2]), (Some("a".to_owned()), vec![1])]);
}

#[test]
fn a_return_before_its_call_is_refused() {
    let history = [put("a", "1", 0, 0, 10), get("a", "1", 30, 20)];
    let error = check(&KvModel, &history, Duration::from_secs(1)).unwrap_err();
    assert_eq!(error, HistoryError::ReturnBeforeCall { operation: 1, call: 30, returned: 20 });
    assert_eq!(error.to_string(), "operation 1 returns at 20 ns, before its call at 30 ns");
}

#[test]
fn one_illegal_partition_makes_the_history_illegal() {
    let history = [
        put("a", "1", 0, 0, 10),
        put("b", "1", 0, 0, 10),
        get("a", "1", 20, 30),
        get("b", "", 20, 30),
    ];
    let report = check(&KvModel, &history, Duration::from_secs(1)).unwrap();
    assert_eq!(report.result, CheckResult::Illegal);
    let results: Vec<_> = report.partitions.iter().map(|partition| partition.result).collect();
    assert_eq!(results, [CheckResult::Ok, CheckResult::Illegal]);
    assert_eq!(report.partitions[0].longest_linearization, [0, 2]);
    assert_eq!(report.partitions[1].longest_linearization, [1]);
    assert_eq!(report.partitions[1].failing_operation, Some(3));
}

#[test]
fn an_empty_history_is_ok_with_no_partitions() {
    let report = check(&KvModel, &[], Duration::from_secs(1)).unwrap();
    assert_eq!(report.result, CheckResult::Ok);
    assert!(report.partitions.is_empty());
    assert_eq!(CheckResult::Unknown.to_string(), "unknown");
}

#[test]
fn more_partitions_than_threads_are_all_searched_and_reported_in_order() {
    let keys: Vec<String> = (0..3 * MAX_THREADS).map(|number| format!("key-{number}")).collect();
    let mut history = Vec::new();
    for (number, key) in keys.iter().enumerate() {
        history.push(put(key, "1", 0, 0, 10));
        let seen = if number == 100 { "" } else { "1" };
        history.push(get(key, seen, 20, 30));
    }
    let report = check(&KvModel, &history, Duration::from_secs(10)).unwrap();
    assert_eq!(report.result, CheckResult::Illegal);
    assert_eq!(report.partitions.len(), keys.len());
    for (number, partition) in report.partitions.iter().enumerate() {
        assert_eq!(partition.key.as_deref(), Some(keys[number].as_str()));
        assert_eq!(partition.operations, [2 * number, 2 * number + 1]);
        let expected = if number == 100 { CheckResult::Illegal } else { CheckResult::Ok };
        assert_eq!(partition.result, expected);
    }
}
