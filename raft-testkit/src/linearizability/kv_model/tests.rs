//! Unit tests of the key/value model's step rules.

use super::*;

fn state(value: &str, version: u64) -> KvState {
    KvState { value: value.to_owned(), version }
}

fn get(key: &str) -> KvInput {
    KvInput::Get { key: key.to_owned() }
}

fn put(key: &str, value: &str, version: u64) -> KvInput {
    KvInput::Put { key: key.to_owned(), value: value.to_owned(), version }
}

fn got(value: &str) -> KvOutput {
    KvOutput::Get { value: value.to_owned() }
}

#[test]
fn a_key_starts_empty_at_version_zero() {
    assert_eq!(KvModel.init(), state("", 0));
    assert_eq!(KvModel.step(&KvModel.init(), &get("k"), &got("")), Some(state("", 0)));
}

#[test]
fn a_get_is_legal_only_when_it_reads_the_state_value() {
    let current = state("a", 3);
    assert_eq!(KvModel.step(&current, &get("k"), &got("a")), Some(current.clone()));
    assert_eq!(KvModel.step(&current, &get("k"), &got("b")), None);
    assert_eq!(KvModel.step(&current, &get("k"), &got("")), None);
}

#[test]
fn a_put_at_the_state_version_applies_when_ok_or_maybe() {
    let current = state("a", 3);
    for outcome in [PutOutcome::Ok, PutOutcome::Maybe] {
        let output = KvOutput::Put(outcome);
        assert_eq!(KvModel.step(&current, &put("k", "b", 3), &output), Some(state("b", 4)));
    }
    for outcome in [PutOutcome::Version, PutOutcome::NoKey] {
        let output = KvOutput::Put(outcome);
        assert_eq!(KvModel.step(&current, &put("k", "b", 3), &output), None);
    }
}

#[test]
fn a_put_at_another_version_changes_nothing_when_version_or_maybe() {
    let current = state("a", 3);
    for outcome in [PutOutcome::Version, PutOutcome::Maybe] {
        let output = KvOutput::Put(outcome);
        assert_eq!(KvModel.step(&current, &put("k", "b", 2), &output), Some(current.clone()));
    }
    for outcome in [PutOutcome::Ok, PutOutcome::NoKey] {
        let output = KvOutput::Put(outcome);
        assert_eq!(KvModel.step(&current, &put("k", "b", 7), &output), None);
    }
}

#[test]
fn an_output_of_the_wrong_kind_is_illegal() {
    let current = KvModel.init();
    assert_eq!(KvModel.step(&current, &get("k"), &KvOutput::Put(PutOutcome::Ok)), None);
    assert_eq!(KvModel.step(&current, &put("k", "a", 0), &got("")), None);
}

#[test]
fn operations_are_partitioned_by_key_and_described_like_the_lab() {
    assert_eq!(KvModel.partition_key(&get("x")), Some("x".to_owned()));
    assert_eq!(KvModel.partition_key(&put("y", "1", 0)), Some("y".to_owned()));
    assert_eq!(KvModel.describe_operation(&get("x"), &got("1")), "get('x') -> '1'");
    assert_eq!(
        KvModel.describe_operation(&put("x", "2", 1), &KvOutput::Put(PutOutcome::Maybe)),
        "put('x', '2', 1) -> Maybe"
    );
    assert_eq!(KvModel.describe_state(&state("2", 2)), "'2' at version 2");
}
