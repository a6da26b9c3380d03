//! Tests of the proposal handle: blocking waits, timeouts and the future.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use raft_log::{Index, Term};

use std::future::Future;

use super::{Proposal, ProposalError, ProposalHandle, Slot};

struct CountingWaker(std::sync::atomic::AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

const AT_FIVE: Proposal = Proposal { index: Index(5), term: Term(2) };

#[test]
fn wait_returns_the_outcome_set_from_another_thread() {
    let slot = Slot::new();
    let handle = ProposalHandle::new(Arc::clone(&slot));
    let resolver = std::thread::Builder::new().spawn(move || {
        slot.accept(AT_FIVE);
        slot.resolve(Ok(AT_FIVE));
    });
    let resolver = resolver.expect("a thread");
    assert_eq!(handle.wait(), Ok(AT_FIVE));
    assert_eq!(handle.accepted(), Ok(AT_FIVE));
    resolver.join().unwrap();
}

#[test]
fn wait_timeout_gives_up_without_an_outcome() {
    let handle = ProposalHandle::new(Slot::new());
    assert_eq!(handle.wait_timeout(Duration::from_millis(20)), Err(ProposalError::TimedOut));
    assert_eq!(handle.try_outcome(), None);
}

#[test]
fn the_first_outcome_stands() {
    let slot = Slot::new();
    let handle = ProposalHandle::new(Arc::clone(&slot));
    slot.resolve(Err(ProposalError::Lost { index: Index(5) }));
    slot.resolve(Ok(AT_FIVE));
    assert_eq!(handle.wait(), Err(ProposalError::Lost { index: Index(5) }));
    assert_eq!(handle.accepted(), Err(ProposalError::Lost { index: Index(5) }));
}

#[test]
fn the_future_is_woken_once_resolved() {
    let slot = Slot::new();
    let mut handle = ProposalHandle::new(Arc::clone(&slot));
    let counter = Arc::new(CountingWaker(Default::default()));
    let waker = Waker::from(Arc::clone(&counter));
    let mut context = Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut handle).poll(&mut context).is_pending());
    slot.resolve(Ok(AT_FIVE));
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(std::pin::Pin::new(&mut handle).poll(&mut context), Poll::Ready(Ok(AT_FIVE)));
}
