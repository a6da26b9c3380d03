//! Unit tests of the single-partition search, on a register.

use std::time::{Duration, Instant};

use super::*;

/// A register of integers, initially 0.
struct Register;

#[derive(Debug)]
enum Access {
    Write(i64),
    Read,
}

impl Model for Register {
    type State = i64;
    type Input = Access;
    type Output = i64;

    fn init(&self) -> i64 {
        0
    }

    fn step(&self, state: &i64, input: &Access, output: &i64) -> Option<i64> {
        match input {
            Access::Write(value) => Some(*value),
            Access::Read => (output == state).then_some(*state),
        }
    }

    fn describe_operation(&self, input: &Access, output: &i64) -> String {
        format!("{input:?} -> {output}")
    }
}

fn operation(input: Access, output: i64, call: u64, returned: u64) -> Operation<Access, i64> {
    Operation { client: 0, input, call, output, returned }
}

fn run(history: &[Operation<Access, i64>]) -> SearchOutcome {
    let operations: Vec<_> = history.iter().collect();
    search(&Register, &operations, None)
}

#[test]
fn an_empty_history_is_linearizable() {
    let outcome = run(&[]);
    assert_eq!(outcome.result, CheckResult::Ok);
    assert!(outcome.longest_linearization.is_empty());
}

#[test]
fn a_sequential_history_linearizes_in_time_order() {
    let history = [
        operation(Access::Write(1), 0, 0, 10),
        operation(Access::Read, 1, 20, 30),
        operation(Access::Write(2), 0, 40, 50),
        operation(Access::Read, 2, 60, 70),
    ];
    let outcome = run(&history);
    assert_eq!(outcome.result, CheckResult::Ok);
    assert_eq!(outcome.longest_linearization, [0, 1, 2, 3]);
    assert_eq!(outcome.failing_operation, None);
}

#[test]
fn overlapping_operations_take_the_one_order_that_works() {
    // The read overlaps both writes and sees the first, so it must come
    // between them although its call is the earliest.
    let history = [
        operation(Access::Read, 1, 0, 100),
        operation(Access::Write(1), 0, 10, 20),
        operation(Access::Write(2), 0, 30, 40),
    ];
    let outcome = run(&history);
    assert_eq!(outcome.result, CheckResult::Ok);
    assert_eq!(outcome.longest_linearization, [1, 0, 2]);
}

#[test]
fn a_stale_read_is_illegal_and_named_as_the_failing_operation() {
    let history = [
        operation(Access::Write(1), 0, 0, 10),
        operation(Access::Write(2), 0, 20, 30),
        operation(Access::Read, 1, 40, 50),
    ];
    let outcome = run(&history);
    assert_eq!(outcome.result, CheckResult::Illegal);
    assert_eq!(outcome.longest_linearization, [0, 1]);
    assert_eq!(outcome.failing_operation, Some(2));
}

#[test]
fn a_first_operation_that_cannot_happen_fails_with_an_empty_prefix() {
    let history = [operation(Access::Read, 5, 0, 10)];
    let outcome = run(&history);
    assert_eq!(outcome.result, CheckResult::Illegal);
    assert!(outcome.longest_linearization.is_empty());
    assert_eq!(outcome.failing_operation, Some(0));
}

#[test]
fn a_passed_deadline_stops_the_search_with_unknown() {
    let history = [operation(Access::Write(1), 0, 0, 10), operation(Access::Read, 1, 20, 30)];
    let operations: Vec<_> = history.iter().collect();
    let past = Instant::now().checked_sub(Duration::from_millis(1)).unwrap_or_else(Instant::now);
    let outcome = search(&Register, &operations, Some(past));
    assert_eq!(outcome.result, CheckResult::Unknown);
    assert_eq!(outcome.failing_operation, None);
}
