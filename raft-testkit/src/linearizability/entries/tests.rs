//! Unit tests of the event list.

use super::*;

/// The events from head to tail, as `c<operation>` and `r<operation>`.
fn walk(entries: &Entries) -> Vec<String> {
    let mut names = Vec::new();
    let mut node = entries.first();
    while let Event::Call { operation, .. } | Event::Return { operation } = entries.event(node) {
        let kind = if matches!(entries.event(node), Event::Call { .. }) { "c" } else { "r" };
        names.push(format!("{kind}{operation}"));
        node = entries.next(node);
    }
    names
}

#[test]
fn events_are_in_time_order_with_calls_first_at_equal_times() {
    // Operation 1 returns at 10, when operation 2 is called: they overlap.
    let entries = Entries::new(&[(0, 20), (5, 10), (10, 30)]);
    assert_eq!(walk(&entries), ["c0", "c1", "c2", "r1", "r0", "r2"]);
    assert!(!entries.is_empty());
}

#[test]
fn lifting_and_unlifting_in_reverse_order_restores_the_list() {
    let mut entries = Entries::new(&[(0, 20), (5, 10), (10, 30)]);
    let original = walk(&entries);
    let call_of = |entries: &Entries, wanted: usize| {
        let mut node = entries.first();
        loop {
            if let Event::Call { operation, .. } = entries.event(node)
                && operation == wanted
            {
                return node;
            }
            node = entries.next(node);
        }
    };
    let one = call_of(&entries, 1);
    entries.lift(one);
    assert_eq!(walk(&entries), ["c0", "c2", "r0", "r2"]);
    let two = call_of(&entries, 2);
    entries.lift(two);
    assert_eq!(walk(&entries), ["c0", "r0"]);
    let zero = call_of(&entries, 0);
    entries.lift(zero);
    assert!(entries.is_empty());
    entries.unlift(zero);
    entries.unlift(two);
    entries.unlift(one);
    assert_eq!(walk(&entries), original);
}

#[test]
fn an_instant_operation_is_adjacent_call_and_return() {
    let mut entries = Entries::new(&[(7, 7)]);
    assert_eq!(walk(&entries), ["c0", "r0"]);
    let call = entries.first();
    entries.lift(call);
    assert!(entries.is_empty());
    entries.unlift(call);
    assert_eq!(walk(&entries), ["c0", "r0"]);
    assert!(Entries::new(&[]).is_empty());
}
