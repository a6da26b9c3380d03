//! Tests of the mailbox: batches, deadlines and closing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Mailbox, Taken};
use crate::node::deadline::deadline_after;

#[test]
fn the_reader_takes_everything_waiting_in_order() {
    let mailbox = Mailbox::new();
    assert!(mailbox.push(1));
    assert!(mailbox.extend([2, 3]));
    let mut into = VecDeque::new();
    assert_eq!(mailbox.take_all(&mut into, None), Taken::Items);
    assert_eq!(into, [1, 2, 3]);
}

#[test]
fn a_deadline_ends_an_empty_wait() {
    let mailbox = Mailbox::<u8>::new();
    let mut into = VecDeque::new();
    let deadline = deadline_after(Duration::from_millis(20)).unwrap();
    assert_eq!(mailbox.take_all(&mut into, Some(deadline)), Taken::Items);
    assert!(into.is_empty());
    #[allow(clippy::disallowed_methods)] // checking a real-time wait
    let now = Instant::now();
    assert!(now >= deadline, "woke before the deadline");
}

#[test]
fn a_writer_wakes_a_sleeping_reader() {
    let mailbox = Arc::new(Mailbox::new());
    let writer = {
        let mailbox = Arc::clone(&mailbox);
        std::thread::Builder::new().spawn(move || mailbox.push(7)).unwrap()
    };
    let mut into = VecDeque::new();
    while into.is_empty() {
        assert_eq!(mailbox.take_all(&mut into, None), Taken::Items);
    }
    assert_eq!(into, [7]);
    assert!(writer.join().unwrap());
}

#[test]
fn closing_wakes_the_reader_and_drops_later_writes() {
    let mailbox = Arc::new(Mailbox::new());
    mailbox.push(1);
    mailbox.close();
    assert!(!mailbox.push(2), "a write after closing is dropped");
    let mut into = VecDeque::new();
    assert_eq!(mailbox.take_all(&mut into, None), Taken::Closed);
    assert_eq!(into, [1], "what was queued before closing is still handed over");
    assert_eq!(mailbox.take_all(&mut into, None), Taken::Closed);
}
